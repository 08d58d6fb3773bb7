/**
 * `negotiation-failed`: parsed like every message, logged as
 * `client-negotiation-failed` (no SDP, at most a burst per connection),
 * counted by stage, refused outside the sender's stream or role.
 */
import assert from "node:assert/strict";
import { MAX_NEGOTIATION_REASON_LENGTH } from "../../protocol/messages.ts";
import { parseClientMessage } from "../../protocol/parse-client-message.ts";
import { NEGOTIATION_LOG_BURST } from "../../server/signaling/negotiation-reports.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

/** What Chromium says of an offer whose bundled m-lines share a header extension id. */
const CHROMIUM_REASON =
  "InvalidAccessError: Failed to execute 'setRemoteDescription' on 'RTCPeerConnection': Failed to set remote offer sdp: A BUNDLE group contains a codec collision for header extension id=1. The id must be the same across all bundled media descriptions";

function logged(t: TestServer): Record<string, unknown>[] {
  return t.logs.map((line) => JSON.parse(line))
    .filter((entry) => entry.event === "client-negotiation-failed");
}

Deno.test("parse: stage from the list, reason a string within the limit, viewerId optional, extra fields dropped", () => {
  const message = {
    type: "negotiation-failed",
    streamId: "order-1",
    stage: "set-remote-offer",
    reason: CHROMIUM_REASON,
  };
  assert.deepEqual(parseClientMessage(JSON.stringify(message)), {
    ok: true,
    message,
    exact: true,
  });
  const extra = parseClientMessage(
    JSON.stringify({ ...message, viewerId: "client_v", sdp: "v=0" }),
  );
  assert.deepEqual(extra.ok && extra.message, {
    ...message,
    viewerId: "client_v",
  });
  assert.equal(extra.ok && extra.exact, false);
  const longest = "x".repeat(MAX_NEGOTIATION_REASON_LENGTH);
  assert.ok(
    parseClientMessage(JSON.stringify({ ...message, reason: longest })).ok,
  );
  for (
    const bad of [
      { stage: "set-remote-candidate" },
      { stage: undefined },
      { stage: "constructor" },
      { reason: `${longest}x` },
      { reason: undefined },
      { reason: 42 },
      { viewerId: "v".repeat(129) },
    ]
  ) {
    const refused = parseClientMessage(JSON.stringify({ ...message, ...bad }));
    assert.deepEqual(
      !refused.ok && [refused.error.code, refused.error.inReplyTo],
      ["invalid-field", "negotiation-failed"],
      JSON.stringify(bad),
    );
  }
  const badStream = parseClientMessage(
    JSON.stringify({ ...message, streamId: "a b" }),
  );
  assert.equal(!badStream.ok && badStream.error.code, "invalid-stream-id");
});

Deno.test("a viewer's and a broadcaster's reports: one warn line each with who, where and why, and a counter by stage; nothing sent back", async () => {
  await using t = await startTestServer({}, "warn");
  const { broadcaster, viewers: [viewer] } = await t.liveStream("s", 1);
  viewer.send({
    type: "negotiation-failed",
    streamId: "s",
    stage: "set-remote-offer",
    reason: CHROMIUM_REASON,
  });
  broadcaster.send({
    type: "negotiation-failed",
    streamId: "s",
    viewerId: viewer.id,
    stage: "set-remote-answer",
    reason: "InvalidAccessError: Answer changed id for extmap attribute",
  });
  await viewer.expectQuiet();
  await broadcaster.expectQuiet();
  const lines = t.logs.map((line) => JSON.parse(line))
    .filter((entry) => entry.event === "client-negotiation-failed");
  assert.deepEqual(lines.map(({ time: _, ...entry }) => entry), [
    {
      level: "warn",
      event: "client-negotiation-failed",
      clientId: viewer.id,
      role: "viewer",
      streamId: "s",
      stage: "set-remote-offer",
      reason: CHROMIUM_REASON,
    },
    {
      level: "warn",
      event: "client-negotiation-failed",
      clientId: broadcaster.id,
      role: "broadcaster",
      streamId: "s",
      viewerId: viewer.id,
      stage: "set-remote-answer",
      reason: "InvalidAccessError: Answer changed id for extmap attribute",
    },
  ]);
  const metrics = t.server.metrics.render({
    connections: 2,
    streams: 1,
    liveStreams: 1,
    viewers: 1,
  });
  assert.match(
    metrics,
    /^live_client_negotiation_failures_total\{stage="set-remote-offer"\} 1$/m,
  );
  assert.match(
    metrics,
    /^live_client_negotiation_failures_total\{stage="set-remote-answer"\} 1$/m,
  );
});

Deno.test("refused outside the sender's stream (not-in-stream) or for the other role's stage (wrong-role); nothing logged", async () => {
  await using t = await startTestServer({}, "warn");
  const { broadcaster, viewers: [viewer] } = await t.liveStream("s", 1);
  const outsider = await t.connect();
  const report = {
    type: "negotiation-failed",
    streamId: "s",
    stage: "set-remote-offer",
    reason: "InvalidAccessError",
  };
  outsider.send(report);
  assert.deepEqual(
    pick(await outsider.next("error")),
    ["not-in-stream", "negotiation-failed"],
  );
  viewer.send({ ...report, streamId: "other" });
  assert.deepEqual(
    pick(await viewer.next("error")),
    ["not-in-stream", "negotiation-failed"],
  );
  viewer.send({ ...report, stage: "set-remote-answer" });
  assert.deepEqual(
    pick(await viewer.next("error")),
    ["wrong-role", "negotiation-failed"],
  );
  broadcaster.send({ ...report, stage: "create-answer" });
  assert.deepEqual(
    pick(await broadcaster.next("error")),
    ["wrong-role", "negotiation-failed"],
  );
  assert.deepEqual(logged(t), []);
});

Deno.test("the log stops at an SDP line a browser quotes, and a flood from one connection is counted, not logged", async () => {
  await using t = await startTestServer({}, "warn");
  const { viewers: [viewer, other] } = await t.liveStream("s", 2);
  viewer.send({
    type: "negotiation-failed",
    streamId: "s",
    stage: "set-remote-offer",
    reason:
      "OperationError: Failed to parse SessionDescription. a=candidate:1 1 udp 2122260223 192.168.1.10 50000 typ host Invalid value",
  });
  for (let i = 0; i < NEGOTIATION_LOG_BURST + 5; i++) {
    viewer.send({
      type: "negotiation-failed",
      streamId: "s",
      stage: "create-answer",
      reason: `refusal ${i}`,
    });
  }
  other.send({
    type: "negotiation-failed",
    streamId: "s",
    stage: "set-local-answer",
    reason: "Invalid candidate: candidate:1 1 udp 1 10.1.2.3 5000 typ host",
  });
  await viewer.expectQuiet();
  await other.expectQuiet();
  const lines = logged(t);
  assert.equal(
    lines[0].reason,
    "OperationError: Failed to parse SessionDescription. …",
  );
  assert.ok(!JSON.stringify(lines).includes("192.168.1.10"));
  const own = lines.filter((entry) => entry.clientId === viewer.id);
  assert.equal(own.length, NEGOTIATION_LOG_BURST);
  // Each connection has its own allowance; a bare candidate or address is
  // cut too.
  const others = lines.filter((e) => e.clientId === other.id);
  assert.equal(others.length, 1);
  assert.equal(others[0].reason, "Invalid …");
  assert.ok(!JSON.stringify(lines).includes("10.1.2.3"));
  // Every report is counted.
  assert.equal(
    t.server.metrics.negotiationFailures.get("create-answer"),
    NEGOTIATION_LOG_BURST + 5,
  );
});

function pick(error: { code?: string; inReplyTo?: string }) {
  return [error.code, error.inReplyTo];
}
