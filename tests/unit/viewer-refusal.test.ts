/**
 * A viewer's refused offer (components/session/viewer-refusal.ts): told to
 * the server, said as a `live-error` and retried after the backoff, within
 * half as long again; past the bound reported to the session (the `error`
 * state); dropped without a retry while video plays.
 */
import assert from "node:assert/strict";
import {
  type ClientMessage,
  MAX_NEGOTIATION_REASON_LENGTH,
  type NegotiationFailed,
} from "../../protocol/messages.ts";
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
        {
          streamId: "order-1",
          send: (message) => {
            const { type, stage, reason } = message as NegotiationFailed;
            said.push(`server ${type} ${stage}: ${reason}`);
            return true;
          },
          report: say("report"),
        },
        { onError: say("live-error") },
        (afterMs) => retries.push(afterMs),
      );
    },
  };
}

Deno.test("viewer refusal: told to the server, a live-error and a retry after 1, 2, 4 s (up to half as long again), then a report", () => {
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
  const server =
    "server negotiation-failed set-remote-offer: Error: bad extmap";
  assert.deepEqual(v.said, [
    ...Array(NEGOTIATION_RETRIES).fill([server, `live-error ${message}`])
      .flat(),
    // Before the give-up closes the session.
    server,
    `report ${message}`,
  ]);
});

Deno.test("viewer refusal: while video plays, said and dropped, never retried", () => {
  const v = viewer();
  const state = v.refuse(undefined, true);
  assert.deepEqual(state, { phase: "failing", failures: 1 });
  assert.deepEqual(v.retries, []);
  assert.equal(v.said.length, 2);
  assert.match(v.said[0], /^server negotiation-failed/);
  assert.match(v.said[1], /^live-error negotiation-failed/);
});

Deno.test("viewer refusal: the server's report names the stream and the stage, its reason cut to the limit; none outside a stream", () => {
  const sent: ClientMessage[] = [];
  const refuse = (streamId: string | null) =>
    viewerRefused(
      undefined,
      false,
      "set-local-answer",
      new DOMException("x".repeat(400), "InvalidAccessError"),
      {
        streamId,
        send: (message) => sent.push(message) > 0,
        report: () => {},
      },
      { onError: () => {} },
      () => {},
    );
  refuse("order-1");
  const [report] = sent as NegotiationFailed[];
  assert.equal(report.reason.length, MAX_NEGOTIATION_REASON_LENGTH);
  assert.ok(report.reason.startsWith("InvalidAccessError: xxx"));
  // No viewerId: the server sets the sender's.
  assert.deepEqual({ ...report, reason: "" }, {
    type: "negotiation-failed",
    streamId: "order-1",
    stage: "set-local-answer",
    reason: "",
  });
  refuse(null);
  assert.equal(sent.length, 1);
});
