/** Roles come from the server's registry, never from what a message claims. */
import assert from "node:assert/strict";
import { ANSWER, candidate, OFFER } from "./support/fixtures.ts";
import { startTestServer } from "./support/test-server.ts";

Deno.test("a viewer's answer and candidates reach its broadcaster under its real id, whatever it claims", async () => {
  await using t = await startTestServer();
  const { broadcaster, viewers: [liar, victim] } = await t.liveStream("s", 2);
  liar.send({
    type: "webrtc-answer",
    streamId: "s",
    viewerId: victim.id,
    answer: ANSWER,
  });
  liar.send({
    type: "webrtc-ice-candidate",
    streamId: "s",
    viewerId: victim.id,
    candidate: candidate(1),
  });
  const answer = await broadcaster.next("webrtc-answer");
  assert.equal(answer.viewerId, liar.id);
  const ice = await broadcaster.next("webrtc-ice-candidate");
  assert.equal(ice.viewerId, liar.id);
  await victim.expectQuiet();
});

Deno.test("only the broadcaster sends offers and only viewers send answers", async () => {
  await using t = await startTestServer();
  const { broadcaster, viewers: [viewer, other] } = await t.liveStream("s", 2);
  viewer.send({
    type: "webrtc-offer",
    streamId: "s",
    viewerId: other.id,
    offer: OFFER,
  });
  assert.deepEqual(await viewer.next("error"), {
    type: "error",
    code: "wrong-role",
    message: "Only the broadcaster sends offers",
    inReplyTo: "webrtc-offer",
  });
  broadcaster.send({
    type: "webrtc-answer",
    streamId: "s",
    viewerId: viewer.id,
    answer: ANSWER,
  });
  assert.equal((await broadcaster.next("error")).code, "wrong-role");
  await other.expectQuiet();
  await broadcaster.expectQuiet();
  assert.equal(t.server.metrics.messagesRouted, 0);
});

Deno.test("the broadcaster reaches only viewers of its own stream", async () => {
  await using t = await startTestServer();
  const a = await t.liveStream("a", 1);
  const b = await t.liveStream("b", 1);
  a.broadcaster.send({
    type: "webrtc-offer",
    streamId: "a",
    viewerId: b.viewers[0].id,
    offer: OFFER,
  });
  assert.equal((await a.broadcaster.next("error")).code, "unknown-viewer");
  a.broadcaster.send({
    type: "webrtc-offer",
    streamId: "b",
    viewerId: b.viewers[0].id,
    offer: OFFER,
  });
  assert.equal((await a.broadcaster.next("error")).code, "not-in-stream");
  a.broadcaster.send({ type: "webrtc-offer", streamId: "a", offer: OFFER });
  const missing = await a.broadcaster.next("error");
  assert.equal(missing.code, "invalid-field");
  assert.match(missing.message, /viewerId/);
  await b.viewers[0].expectQuiet();
  await b.broadcaster.expectQuiet();
});

Deno.test("a client outside the stream cannot inject anything into it", async () => {
  await using t = await startTestServer();
  const { broadcaster, viewers: [viewer] } = await t.liveStream("s", 1);
  const outsider = await t.connect();
  for (
    const message of [
      { type: "webrtc-answer", streamId: "s", answer: ANSWER },
      { type: "webrtc-ice-candidate", streamId: "s", candidate: candidate(1) },
      {
        type: "webrtc-offer",
        streamId: "s",
        viewerId: viewer.id,
        offer: OFFER,
      },
      {
        type: "webrtc-ice-candidate",
        streamId: "s",
        viewerId: viewer.id,
        candidate: candidate(2),
      },
      { type: "leave-stream", streamId: "s" },
    ]
  ) {
    outsider.send(message);
    const error = await outsider.next("error");
    assert.equal(error.code, "not-in-stream", JSON.stringify(message));
  }
  // A viewer naming a stream other than its own is refused the same way.
  viewer.send({ type: "webrtc-answer", streamId: "t", answer: ANSWER });
  assert.equal((await viewer.next("error")).code, "not-in-stream");
  await broadcaster.expectQuiet();
  await viewer.expectQuiet();
});

Deno.test("broadcaster-ready on a taken stream gets stream-taken and changes nothing", async () => {
  await using t = await startTestServer();
  const { broadcaster, viewers: [viewer] } = await t.liveStream("s", 1);
  const usurper = await t.connect();
  usurper.send({ type: "join-stream", streamId: "other" });
  await usurper.next("join-accepted");
  usurper.send({ type: "broadcaster-ready", streamId: "s" });
  assert.deepEqual(await usurper.next("error"), {
    type: "error",
    code: "stream-taken",
    message: "Stream s already has a broadcaster",
    inReplyTo: "broadcaster-ready",
    streamId: "s",
  });
  assert.equal(t.server.registry.room("s")?.broadcaster?.id, broadcaster.id);
  assert.equal(
    t.server.registry.membershipOf(usurper.id)?.room.streamId,
    "other",
  );
  await broadcaster.expectQuiet();
  await viewer.expectQuiet();
});

Deno.test("a viewer's answer while the broadcaster is away gets no-broadcaster", async () => {
  await using t = await startTestServer();
  const viewer = await t.connect();
  viewer.send({ type: "join-stream", streamId: "s" });
  await viewer.next("join-accepted");
  viewer.send({ type: "webrtc-answer", streamId: "s", answer: ANSWER });
  assert.equal((await viewer.next("error")).code, "no-broadcaster");
  viewer.send({
    type: "webrtc-ice-candidate",
    streamId: "s",
    candidate: candidate(1),
  });
  assert.equal((await viewer.next("error")).code, "no-broadcaster");
});

Deno.test("what reaches the broadcaster has no smuggled fields, whether forwarded as is or rebuilt", async () => {
  await using t = await startTestServer();
  const { broadcaster, viewers: [viewer] } = await t.liveStream("s", 1);
  // Exact frame with the viewer's real id: forwarded as received.
  viewer.send({
    type: "webrtc-answer",
    streamId: "s",
    viewerId: viewer.id,
    answer: ANSWER,
  });
  assert.deepEqual(await broadcaster.next("webrtc-answer"), {
    type: "webrtc-answer",
    streamId: "s",
    viewerId: viewer.id,
    answer: ANSWER,
  });
  // Extra fields at either level: rebuilt without them.
  viewer.send({
    type: "webrtc-answer",
    streamId: "s",
    viewerId: viewer.id,
    answer: { ...ANSWER, script: "<x>" },
    admin: true,
  });
  assert.deepEqual(await broadcaster.next("webrtc-answer"), {
    type: "webrtc-answer",
    streamId: "s",
    viewerId: viewer.id,
    answer: ANSWER,
  });
  // A claimed id of someone else: rebuilt with the real one.
  viewer.send({
    type: "webrtc-answer",
    streamId: "s",
    viewerId: "client_someoneelse",
    answer: ANSWER,
  });
  assert.equal((await broadcaster.next("webrtc-answer")).viewerId, viewer.id);
});

Deno.test("sfu messages: refused with why on a server without an SFU, and from a viewer", async () => {
  await using t = await startTestServer();
  const { broadcaster, viewers: [viewer] } = await t.liveStream("s", 1);
  broadcaster.send({
    type: "sfu-offer",
    streamId: "s",
    offer: { type: "offer", sdp: "v=0" },
  });
  const refused = await broadcaster.next("error");
  assert.equal(refused.code, "not-in-stream");
  assert.match(refused.message, /no stream through an SFU/);
  viewer.send({
    type: "sfu-ice-candidate",
    streamId: "s",
    candidate: { candidate: "candidate:1 1 udp 1 10.0.0.1 9 typ host" },
  });
  assert.equal((await viewer.next("error")).inReplyTo, "sfu-ice-candidate");
  // A viewer saying what it plays is not an error anywhere: a switch
  // between two connections of its broadcaster sends it too.
  viewer.send({ type: "viewer-playing", streamId: "s", session: "42" });
  // Nor its loss report, with no SFU to move it (viewer-layers.ts); one
  // with a bad count is refused.
  viewer.send({ type: "viewer-loss", streamId: "s", lost: 9, received: 30 });
  viewer.send({ type: "viewer-loss", streamId: "s", lost: -1, received: 3 });
  const bad = await viewer.next("error");
  assert.deepEqual([bad.code, bad.inReplyTo], ["invalid-field", "viewer-loss"]);
  viewer.send({ type: "ping", nonce: "after" });
  assert.equal((await viewer.next("pong")).nonce, "after");
});
