/**
 * What a WHIP or WHEP endpoint's answers mean for the elements' states
 * (components/session/whip-publisher.ts, components/session/whep-player.ts), through the
 * same state functions the elements publish.
 */
import assert from "node:assert/strict";
import {
  type BroadcasterFacts,
  broadcasterState,
  INITIAL_BROADCASTER_FACTS,
} from "../../components/state/broadcaster-state.ts";
import type { HttpMediaStatus } from "../../components/session/http-media-session.ts";
import {
  INITIAL_VIEWER_FACTS,
  type ViewerFacts,
  viewerState,
} from "../../components/state/viewer-state.ts";
import { whepFacts } from "../../components/session/whep-player.ts";
import { whipFacts } from "../../components/session/whip-publisher.ts";

/** The broadcaster's state after `statuses`, from broadcasting on. */
function broadcaster(...statuses: HttpMediaStatus[]) {
  let facts: BroadcasterFacts = {
    ...INITIAL_BROADCASTER_FACTS,
    intent: "broadcasting",
  };
  let error;
  for (const status of statuses) {
    const outcome = whipFacts(status, facts.everAccepted);
    facts = { ...facts, ...outcome.patch };
    if (outcome.error?.fatal) facts = { ...facts, failure: outcome.error.code };
    error = outcome.error;
  }
  return { state: broadcasterState(facts), error };
}

function viewer(...statuses: HttpMediaStatus[]) {
  let facts: ViewerFacts = INITIAL_VIEWER_FACTS;
  let refused;
  for (const status of statuses) {
    const outcome = whepFacts(status);
    facts = { ...facts, ...outcome.patch };
    refused = outcome.refused;
  }
  return { state: viewerState(facts), refused };
}

Deno.test("whip: connecting, then answered is live", () => {
  assert.equal(broadcaster({ kind: "connecting" }).state, "connecting");
  assert.equal(
    broadcaster({ kind: "connecting" }, { kind: "open" }).state,
    "live",
  );
});

Deno.test("whip: taken or busy is shown while it asks again; unreachable after live is reconnecting", () => {
  const taken = broadcaster({ kind: "retrying", status: 409 });
  assert.equal(taken.state, "error");
  assert.deepEqual(taken.error, {
    code: "stream-taken",
    message: "WHIP answered 409",
    fatal: false,
  });
  assert.equal(
    broadcaster({ kind: "retrying", status: 429 }).error?.code,
    "rate-limited",
  );
  // Never reached: say so. Reached before: reconnecting.
  assert.equal(broadcaster({ kind: "retrying", status: 0 }).state, "error");
  assert.equal(
    broadcaster({ kind: "open" }, { kind: "retrying", status: 503 }).state,
    "reconnecting",
  );
  // Answered again: live, the refusal gone.
  assert.equal(
    broadcaster({ kind: "retrying", status: 409 }, { kind: "open" }).state,
    "live",
  );
});

Deno.test("whip: 401, 403, a session's 409 (taken over) and other refusals are fatal with their codes", () => {
  for (
    const [status, code] of [
      [401, "token-required"],
      [403, "token-wrong-stream"],
      [409, "replaced"],
      [400, "invalid-field"],
    ] as const
  ) {
    const { state, error } = broadcaster({
      kind: "refused",
      status,
      message: "no",
    });
    assert.equal(state, "error");
    assert.deepEqual(error, { code, message: "no", fatal: true });
  }
});

Deno.test("whep: 404 is waiting, answered is negotiating until frames, refusals are errors", () => {
  assert.equal(viewer({ kind: "connecting" }).state, "connecting");
  assert.equal(viewer({ kind: "retrying", status: 404 }).state, "waiting");
  assert.equal(viewer({ kind: "retrying", status: 503 }).state, "connecting");
  assert.equal(viewer({ kind: "open" }).state, "negotiating");
  const refused = viewer({ kind: "refused", status: 403, message: "other" });
  assert.equal(refused.state, "error");
  assert.deepEqual(refused.refused, {
    code: "token-wrong-stream",
    message: "other",
  });
});
