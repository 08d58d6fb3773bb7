/**
 * A WHIP or WHEP session's state (server/http/session-state.ts) as data:
 * every legal move with its effects, every move that does not apply
 * refused, and when an ICE restart may begin.
 */
import assert from "node:assert/strict";
import { Refused } from "../../server/http/http-body.ts";
import {
  OFFERED,
  restartWait,
  type SessionEvent,
  type SessionState,
  transition,
} from "../../server/http/session-state.ts";

const REFUSAL = new Refused(401, "token-expired", "Token has expired");
const PENDING: SessionState = {
  phase: "answered",
  media: "pending",
  ice: { restarting: false, restartedAt: -Infinity },
};
const UP: SessionState = { ...PENDING, media: "up" };
/** A WHIP publisher Janus hears nothing from any more. */
const STOPPED: SessionState = { ...PENDING, media: "stopped" };
const RESTARTING: SessionState = {
  ...PENDING,
  ice: { restarting: true, restartedAt: 1_000 },
};
const REFUSED: SessionState = { phase: "refused" };
const ENDED: SessionState = { phase: "ended" };

const EVENTS: SessionEvent[] = [
  { type: "answer", sdp: "v=0" },
  { type: "refuse", refusal: REFUSAL },
  { type: "media-up" },
  { type: "restart", at: 1_000 },
  { type: "restarted", ok: true },
  { type: "restarted", ok: false },
  { type: "end" },
  { type: "media-stopped" },
];

/** Every legal move: [from, event, to, effects]. */
const LEGAL: [SessionState, SessionEvent, SessionState, unknown[]][] = [
  [OFFERED, EVENTS[0], PENDING, [
    { do: "answer", sdp: "v=0" },
    { do: "arm-deadline" },
  ]],
  [OFFERED, EVENTS[1], REFUSED, [{ do: "refuse", refusal: REFUSAL }]],
  [OFFERED, EVENTS[6], ENDED, [{
    do: "refuse",
    refusal: new Refused(
      503,
      "sfu-unavailable",
      "The session ended before the SFU answered",
    ),
  }]],
  [REFUSED, EVENTS[6], ENDED, []],
  [PENDING, EVENTS[2], UP, [{ do: "disarm-deadline" }]],
  [PENDING, EVENTS[3], RESTARTING, []],
  [UP, EVENTS[3], { ...UP, ice: RESTARTING.ice }, []],
  // Restarted while its media was pending: a new deadline.
  [RESTARTING, EVENTS[4], {
    ...PENDING,
    ice: { ...RESTARTING.ice, restarting: false },
  }, [
    { do: "arm-deadline" },
  ]],
  [RESTARTING, EVENTS[5], {
    ...PENDING,
    ice: { ...RESTARTING.ice, restarting: false },
  }, []],
  [{ ...UP, ice: RESTARTING.ice }, EVENTS[4], {
    ...UP,
    ice: { ...RESTARTING.ice, restarting: false },
  }, []],
  // Media up during a restart: the deadline goes, the restart stays.
  [RESTARTING, EVENTS[2], { ...RESTARTING, media: "up" }, [{
    do: "disarm-deadline",
  }]],
  [PENDING, EVENTS[6], ENDED, [{ do: "disarm-deadline" }]],
  [UP, EVENTS[6], ENDED, [{ do: "disarm-deadline" }]],
  [RESTARTING, EVENTS[6], ENDED, [{ do: "disarm-deadline" }]],
  // A publisher that stopped: a deadline for its media to come back.
  [UP, EVENTS[7], STOPPED, [{ do: "arm-deadline" }]],
  [STOPPED, EVENTS[2], UP, [{ do: "disarm-deadline" }]],
  [STOPPED, EVENTS[3], { ...STOPPED, ice: RESTARTING.ice }, []],
  [STOPPED, EVENTS[6], ENDED, [{ do: "disarm-deadline" }]],
  // Restarted while stopped: its media has a new chance.
  [{ ...STOPPED, ice: RESTARTING.ice }, EVENTS[4], {
    ...STOPPED,
    ice: { ...RESTARTING.ice, restarting: false },
  }, [{ do: "arm-deadline" }]],
];

Deno.test("session state: every legal move, with its effects", () => {
  for (const [from, event, to, effects] of LEGAL) {
    const label = `${JSON.stringify(from)} + ${event.type}`;
    const next = transition(from, event);
    assert.ok(next, label);
    assert.deepEqual(next.state, to, label);
    assert.deepEqual(next.effects, effects, label);
  }
});

Deno.test("session state: every other move is refused (undefined)", () => {
  const states = [OFFERED, REFUSED, PENDING, UP, RESTARTING, STOPPED, ENDED];
  let refused = 0;
  for (const from of states) {
    for (const event of EVENTS) {
      const legal = LEGAL.some(([f, e]) =>
        JSON.stringify(f) === JSON.stringify(from) && e === event
      );
      if (legal) continue;
      assert.equal(
        transition(from, event),
        undefined,
        `${JSON.stringify(from)} + ${JSON.stringify(event)}`,
      );
      refused++;
    }
  }
  // 7 states × 8 events, less the legal moves from these seven states.
  assert.equal(refused, 7 * 8 - 17);
  // An answer after a refusal, media or a restart before the answer, and
  // anything after the end are among them.
  assert.equal(transition(REFUSED, EVENTS[0]), undefined);
  assert.equal(transition(OFFERED, EVENTS[2]), undefined);
  assert.equal(transition(OFFERED, EVENTS[3]), undefined);
  assert.equal(transition(ENDED, EVENTS[6]), undefined);
  // Stopped before it was ever up: its first deadline runs already.
  assert.equal(transition(PENDING, EVENTS[7]), undefined);
});

Deno.test("ICE restart wait: none at first, then one per interval; a second at once, or one before the answer, waits at least a second", () => {
  assert.ok(restartWait(PENDING, 0, 2_000) <= 0);
  const restarted = transition(PENDING, { type: "restart", at: 10_000 })!;
  const done = transition(restarted.state, { type: "restarted", ok: true })!;
  assert.equal(restartWait(done.state, 10_500, 2_000), 1_500);
  assert.equal(restartWait(done.state, 12_000, 2_000), 0);
  assert.equal(restartWait(restarted.state, 50_000, 2_000), 2_000);
  assert.equal(restartWait(restarted.state, 50_000, 0), 1_000);
  for (const state of [OFFERED, REFUSED, ENDED]) {
    assert.equal(restartWait(state, 0, 0), 1_000);
  }
});
