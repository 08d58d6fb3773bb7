/** Any malformed frame gets a typed error and the connection stays usable. */
import assert from "node:assert/strict";
import { startTestServer } from "./support/test-server.ts";

const CASES: [frame: string | Uint8Array, code: string][] = [
  ["not json", "bad-json"],
  ["", "bad-json"],
  ['{"type":', "bad-json"],
  ["42", "bad-message"],
  ["null", "bad-message"],
  ["[1,2]", "bad-message"],
  ['"join-stream"', "bad-message"],
  ["{}", "bad-message"],
  ['{"type":7}', "bad-message"],
  ['{"type":"launch-missiles"}', "unknown-type"],
  ['{"type":"__proto__"}', "unknown-type"],
  ['{"type":"join-stream"}', "invalid-field"],
  ['{"type":"join-stream","streamId":12}', "invalid-field"],
  ['{"type":"join-stream","streamId":""}', "invalid-stream-id"],
  ['{"type":"join-stream","streamId":"has space"}', "invalid-stream-id"],
  ['{"type":"join-stream","streamId":"../../etc"}', "invalid-stream-id"],
  [
    `{"type":"join-stream","streamId":"${"x".repeat(129)}"}`,
    "invalid-stream-id",
  ],
  ['{"type":"broadcaster-ready","streamId":"a/b"}', "invalid-stream-id"],
  ['{"type":"webrtc-offer","streamId":"s","viewerId":"v"}', "invalid-field"],
  [
    '{"type":"webrtc-offer","streamId":"s","viewerId":"v","offer":"sdp"}',
    "invalid-field",
  ],
  [
    '{"type":"webrtc-offer","streamId":"s","viewerId":"v","offer":{"type":"answer","sdp":""}}',
    "invalid-field",
  ],
  [
    '{"type":"webrtc-offer","streamId":"s","viewerId":5,"offer":{"type":"offer","sdp":""}}',
    "invalid-field",
  ],
  [
    '{"type":"webrtc-answer","streamId":"s","answer":{"type":"answer"}}',
    "invalid-field",
  ],
  [
    '{"type":"webrtc-ice-candidate","streamId":"s","candidate":{}}',
    "invalid-field",
  ],
  [
    '{"type":"webrtc-ice-candidate","streamId":"s","candidate":{"candidate":"c","sdpMLineIndex":-1}}',
    "invalid-field",
  ],
  [
    '{"type":"webrtc-ice-candidate","streamId":"s","candidate":{"candidate":"c","sdpMid":3}}',
    "invalid-field",
  ],
  ['{"type":"ping","nonce":{"a":1}}', "invalid-field"],
  [new Uint8Array([1, 2, 3]), "binary-unsupported"],
];

Deno.test("each malformed frame gets its error code and the connection stays open", async () => {
  await using t = await startTestServer();
  const client = await t.connect();
  for (const [frame, code] of CASES) {
    client.socket.send(frame);
    const error = await client.next("error");
    assert.equal(error.code, code, `for ${String(frame)}`);
    assert.ok(error.message.length > 0);
  }
  // Still usable: a normal join works on the same socket.
  client.send({ type: "join-stream", streamId: "s" });
  assert.equal((await client.next("join-accepted")).viewerId, client.id);
  assert.equal(t.server.connections.size, 1);
  assert.equal(t.server.registry.roomCount, 1);
});

Deno.test("errors name the refused message type when it had one", async () => {
  await using t = await startTestServer();
  const client = await t.connect();
  client.send({ type: "webrtc-answer", streamId: "s", answer: null });
  assert.deepEqual(await client.next("error"), {
    type: "error",
    code: "invalid-field",
    message: "`answer` must be an object",
    inReplyTo: "webrtc-answer",
  });
});

Deno.test("errors are counted by code in /metrics", async () => {
  await using t = await startTestServer();
  const client = await t.connect();
  client.send("nope");
  client.send({ type: "nope" });
  client.send("nope");
  await client.sync();
  const text = await (await fetch(`http://127.0.0.1:${t.server.port}/metrics`))
    .text();
  assert.match(text, /^live_errors_total\{code="bad-json"\} 2$/m);
  assert.match(text, /^live_errors_total\{code="unknown-type"\} 1$/m);
});
