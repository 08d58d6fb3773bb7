/**
 * A viewer's refused offer (components/session/viewer-refusal.ts): said as
 * a `live-error` and retried after the backoff, within half as long again;
 * past the bound reported to the session (the `error` state); dropped
 * without a retry while video plays.
 */
import assert from "node:assert/strict";
import { viewerRefused } from "../../components/session/viewer-refusal.ts";
import {
  NEGOTIATION_RETRIES,
  NEGOTIATION_RETRY_MS,
  type NegotiationRetry,
} from "../../components/session/negotiation-retry.ts";

function viewer() {
  const said: string[] = [];
  const retries: number[] = [];
  const say = (who: string) => (code: string, message: string) =>
    said.push(`${who} ${code}: ${message}`);
  return {
    said,
    retries,
    refuse(state: NegotiationRetry | undefined, playing = false) {
      return viewerRefused(
        state,
        playing,
        "set-remote-offer",
        new Error("bad extmap"),
        { report: say("report") },
        { onError: say("live-error") },
        (afterMs) => retries.push(afterMs),
      );
    },
  };
}

Deno.test("viewer refusal: a live-error and a retry after 1, 2, 4 s (up to half as long again), then a report", () => {
  const v = viewer();
  let state: NegotiationRetry | undefined;
  for (let i = 0; i <= NEGOTIATION_RETRIES; i++) state = v.refuse(state);
  assert.deepEqual(state, { phase: "gave-up" });
  assert.equal(v.retries.length, NEGOTIATION_RETRIES);
  v.retries.forEach((afterMs, i) => {
    const base = NEGOTIATION_RETRY_MS * 2 ** i;
    assert.ok(afterMs >= base && afterMs <= base * 1.5, `${afterMs} ms`);
  });
  const message =
    "negotiation-failed: The browser refused the offer (set-remote-offer): Error: bad extmap";
  assert.deepEqual(v.said, [
    ...Array(NEGOTIATION_RETRIES).fill(`live-error ${message}`),
    `report ${message}`,
  ]);
});

Deno.test("viewer refusal: while video plays, said and dropped, never retried", () => {
  const v = viewer();
  const state = v.refuse(undefined, true);
  assert.deepEqual(state, { phase: "failing", failures: 1 });
  assert.deepEqual(v.retries, []);
  assert.equal(v.said.length, 1);
  assert.match(v.said[0], /^live-error negotiation-failed/);
});
