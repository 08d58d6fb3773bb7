/** A refused offer or answer: retried at 1, 2, 4 s, then given up; video resets the count. */
import assert from "node:assert/strict";
import {
  NEGOTIATION_CLEAN,
  NEGOTIATION_RETRIES,
  type NegotiationEffect,
  type NegotiationEvent,
  type NegotiationRetry,
  negotiationStep,
} from "../../components/session/negotiation-retry.ts";

const REFUSED: NegotiationEvent = { kind: "refused", playing: false };
const TAKEOVER_REFUSED: NegotiationEvent = { kind: "refused", playing: true };
const SUCCEEDED: NegotiationEvent = { kind: "succeeded" };

/** The effects of `events` from `state`, and the state they end in. */
function run(
  events: NegotiationEvent[],
  state: NegotiationRetry = NEGOTIATION_CLEAN,
): { effects: NegotiationEffect[]; state: NegotiationRetry } {
  const effects: NegotiationEffect[] = [];
  for (const event of events) {
    const step = negotiationStep(state, event);
    effects.push(step.effect);
    state = step.state;
  }
  return { effects, state };
}

Deno.test("three retries at 1 s, 2 s, 4 s, then give up; then nothing more", () => {
  const { effects, state } = run(Array(NEGOTIATION_RETRIES + 2).fill(REFUSED));
  assert.deepEqual(effects, [
    { do: "retry", afterMs: 1_000 },
    { do: "retry", afterMs: 2_000 },
    { do: "retry", afterMs: 4_000 },
    { do: "give-up" },
    // A late refusal (a step queued before the give-up) changes nothing.
    { do: "none" },
  ]);
  assert.deepEqual(state, { phase: "gave-up" });
});

Deno.test("success starts the count over, from any phase", () => {
  const { effects } = run([REFUSED, REFUSED, SUCCEEDED, REFUSED]);
  assert.deepEqual(effects.at(-1), { do: "retry", afterMs: 1_000 });
  for (
    const state of [
      NEGOTIATION_CLEAN,
      { phase: "failing", failures: 2 },
      { phase: "gave-up" },
    ] satisfies NegotiationRetry[]
  ) {
    assert.deepEqual(negotiationStep(state, SUCCEEDED), {
      state: NEGOTIATION_CLEAN,
      effect: { do: "none" },
    });
  }
});

Deno.test("a refused takeover drops only that connection, and counts toward the bound", () => {
  const { effects, state } = run([TAKEOVER_REFUSED, REFUSED, REFUSED]);
  assert.deepEqual(effects, [
    { do: "drop" },
    // The second refusal of the series: its delay is the second one.
    { do: "retry", afterMs: 2_000 },
    { do: "retry", afterMs: 4_000 },
  ]);
  assert.deepEqual(state, { phase: "failing", failures: 3 });
  assert.deepEqual(run([REFUSED], state).effects, [{ do: "give-up" }]);
});

Deno.test("while video plays, refusals past the bound never break it; the next one without video gives up at once", () => {
  const playing = Array(NEGOTIATION_RETRIES + 3).fill(TAKEOVER_REFUSED);
  const { effects, state } = run(playing);
  assert.ok(effects.every((effect) => effect.do === "drop"), "only drops");
  assert.deepEqual(state, {
    phase: "failing",
    failures: NEGOTIATION_RETRIES + 3,
  });
  assert.deepEqual(negotiationStep(state, REFUSED), {
    state: { phase: "gave-up" },
    effect: { do: "give-up" },
  });
});
