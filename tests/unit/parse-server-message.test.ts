/** Server frames as the elements read them: each role's types, checked fields. */
import assert from "node:assert/strict";
import {
  BROADCASTER_MESSAGES,
  parseMessageOf,
  parseServerMessage,
  VIEWER_MESSAGES,
} from "../../protocol/parse-server-message.ts";

const OFFER = JSON.stringify({
  type: "webrtc-offer",
  streamId: "s",
  viewerId: "v",
  offer: { type: "offer", sdp: "v=0" },
});
const JOINED = JSON.stringify({ type: "viewer-joined", viewerId: "v" });

Deno.test("a role reads its own types; another role's is of an unknown type to it", () => {
  assert.equal(parseMessageOf(OFFER, VIEWER_MESSAGES)?.type, "webrtc-offer");
  assert.equal(parseMessageOf(OFFER, BROADCASTER_MESSAGES), undefined);
  assert.equal(
    parseMessageOf(JOINED, BROADCASTER_MESSAGES)?.type,
    "viewer-joined",
  );
  assert.equal(parseMessageOf(JOINED, VIEWER_MESSAGES), undefined);
  // Both roles: the session's own messages.
  const pong = JSON.stringify({ type: "pong" });
  assert.equal(parseMessageOf(pong, VIEWER_MESSAGES)?.type, "pong");
  assert.equal(parseMessageOf(pong, BROADCASTER_MESSAGES)?.type, "pong");
});

Deno.test("parseServerMessage reads every type; a missing field or bad JSON is undefined", () => {
  assert.equal(parseServerMessage(OFFER)?.type, "webrtc-offer");
  assert.equal(parseServerMessage(JOINED)?.type, "viewer-joined");
  assert.equal(
    parseServerMessage(JSON.stringify({ type: "viewer-joined" })),
    undefined,
  );
  assert.equal(parseServerMessage("{"), undefined);
  assert.equal(
    parseServerMessage(JSON.stringify({ type: "hello" })),
    undefined,
  );
});
