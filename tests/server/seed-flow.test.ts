/**
 * The seed note's Message Flow Summary, end to end, by clients that know
 * nothing of our additions.
 */
import assert from "node:assert/strict";
import { ANSWER, candidate, OFFER } from "./support/fixtures.ts";
import { SeedClient } from "./support/seed-client.ts";
import { startTestServer } from "./support/test-server.ts";

Deno.test("a seed-only broadcaster and two seed-only viewers complete the exchange", async () => {
  await using t = await startTestServer();
  const streamId = "9c23f06d-2f69-46d6-8a81-3057e5d90a32";
  const broadcaster = await SeedClient.connect(t.url);
  broadcaster.send({ type: "broadcaster-ready", streamId });

  for (let round = 0; round < 2; round++) {
    const viewer = await SeedClient.connect(t.url);
    viewer.send({ type: "join-stream", streamId });

    // 2. VIEWER JOINS
    const joined = await broadcaster.receive();
    assert.deepEqual(joined.type, "viewer-joined");
    assert.deepEqual(joined.streamId, streamId);
    const viewerId = joined.viewerId as string;
    assert.ok(viewerId.startsWith("client_"));

    // 3. OFFER, routed to exactly that viewer, which learns its id from it
    broadcaster.send({
      type: "webrtc-offer",
      offer: OFFER,
      streamId,
      viewerId,
    });
    const offer = await viewer.receive();
    assert.deepEqual(offer.type, "webrtc-offer");
    assert.deepEqual(offer.offer, OFFER);
    assert.deepEqual(offer.viewerId, viewerId);

    // 4. ANSWER
    viewer.send({ type: "webrtc-answer", answer: ANSWER, streamId, viewerId });
    const answer = await broadcaster.receive();
    assert.deepEqual(answer.type, "webrtc-answer");
    assert.deepEqual(answer.answer, ANSWER);
    assert.deepEqual(answer.viewerId, viewerId);

    // 5. ICE CANDIDATES, both ways
    broadcaster.send({
      type: "webrtc-ice-candidate",
      candidate: candidate(5000),
      streamId,
      viewerId,
    });
    viewer.send({
      type: "webrtc-ice-candidate",
      candidate: candidate(6000),
      streamId,
      viewerId,
    });
    const toViewer = await viewer.receive();
    assert.deepEqual(toViewer.type, "webrtc-ice-candidate");
    assert.deepEqual(toViewer.candidate, candidate(5000));
    assert.deepEqual(toViewer.viewerId, viewerId);
    const toBroadcaster = await broadcaster.receive();
    assert.deepEqual(toBroadcaster.type, "webrtc-ice-candidate");
    assert.deepEqual(toBroadcaster.candidate, candidate(6000));
    assert.deepEqual(toBroadcaster.viewerId, viewerId);
    // The additions reached the seed viewer too, and did not get in its way.
    assert.ok(viewer.ignored.includes("welcome"));
    assert.ok(viewer.ignored.includes("join-accepted"));
  }
  assert.deepEqual(t.server.registry.viewerCount, 2);
  const broadcasterId = t.server.registry.room(streamId)!.broadcaster!.id;
  await broadcaster.close();
  await t.closedOnServer(broadcasterId);
  assert.deepEqual(t.server.metrics.messagesRouted, 8);
  // Close the viewers through the server's own accounting: nothing may remain.
  for (const id of [...t.server.connections.keys()]) {
    t.server.connections.get(id)!.close(1000, "test over", "shutdown");
  }
  assert.deepEqual(t.server.registry.roomCount, 0);
  assert.deepEqual(t.server.registry.memberCount, 0);
});
