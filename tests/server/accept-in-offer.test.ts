/**
 * `join-stream.acceptInOffer`: a viewer's `join-accepted` inside the offer
 * that follows it (one frame fewer per join), alone whenever no offer
 * follows at once or something else comes first; never forged by a
 * broadcaster; across cluster nodes too.
 */
import assert from "node:assert/strict";
import type { ServerMessage } from "../../protocol/messages.ts";
import { ANSWER, candidate, OFFER } from "./support/fixtures.ts";
import { startClusterNodes } from "./support/cluster-nodes.ts";
import { RedisProcess } from "./support/redis-process.ts";
import { TestClient } from "./support/test-client.ts";
import { startTestServer } from "./support/test-server.ts";

type Offer = Extract<ServerMessage, { type: "webrtc-offer" }>;

async function live(url: string, streamId: string): Promise<TestClient> {
  const broadcaster = await TestClient.connect(url);
  broadcaster.send({ type: "broadcaster-ready", streamId });
  await broadcaster.next("broadcaster-accepted");
  return broadcaster;
}

/** The broadcaster's offer to `viewerId`, as it would send it. */
function offerTo(streamId: string, viewerId: string, extra = {}) {
  return { type: "webrtc-offer", streamId, viewerId, offer: OFFER, ...extra };
}

Deno.test("acceptInOffer: the join-accepted of a live stream's viewer rides in the broadcaster's offer", async () => {
  await using t = await startTestServer();
  const broadcaster = await live(t.url, "s");
  const viewer = await TestClient.connect(t.url);
  viewer.send({ type: "join-stream", streamId: "s", acceptInOffer: true });
  const joined = await broadcaster.next("viewer-joined");
  assert.equal(joined.viewerId, viewer.id);
  broadcaster.send(offerTo("s", viewer.id));
  // The offer is the first thing the viewer gets: no join-accepted alone.
  const offer = await viewer.next("webrtc-offer") as Offer;
  assert.deepEqual(offer.offer, OFFER);
  const accepted = offer.joinAccepted!;
  assert.equal(accepted.type, "join-accepted");
  assert.equal(accepted.streamId, "s");
  assert.equal(accepted.viewerId, viewer.id);
  assert.equal(accepted.live, true);
  assert.equal(typeof accepted.resume, "string");
  // The rest of the handshake as ever, and nothing more for the viewer.
  viewer.send({ type: "webrtc-answer", streamId: "s", answer: ANSWER });
  assert.equal((await broadcaster.next("webrtc-answer")).viewerId, viewer.id);
  broadcaster.send({
    type: "webrtc-ice-candidate",
    streamId: "s",
    viewerId: viewer.id,
    candidate: candidate(1),
  });
  const next = await viewer.next("webrtc-ice-candidate");
  assert.equal("joinAccepted" in next, false);
  await viewer.expectQuiet();
  // Its claim resumes like any other: the server signed it for this viewer.
  const again = await TestClient.connect(
    `${t.url}?resume=${encodeURIComponent(accepted.resume!)}`,
  );
  assert.equal(again.welcome?.resumed, true);
});

Deno.test("acceptInOffer: join-accepted comes alone when no offer follows at once", async () => {
  await using t = await startTestServer();
  // Not live: it waits for a broadcaster, told so at once.
  const early = await TestClient.connect(t.url);
  early.send({ type: "join-stream", streamId: "s", acceptInOffer: true });
  const waiting = await early.next("join-accepted");
  assert.equal(waiting.live, false);
  // A viewer that did not ask: alone, before the offer (as a seed viewer).
  const broadcaster = await live(t.url, "s");
  assert.equal((await broadcaster.next("viewer-joined")).viewerId, early.id);
  const plain = await TestClient.connect(t.url);
  plain.send({ type: "join-stream", streamId: "s" });
  assert.equal((await plain.next("join-accepted")).live, true);
  await broadcaster.next("viewer-joined");
  broadcaster.send(offerTo("s", plain.id));
  const offer = await plain.next("webrtc-offer");
  assert.equal("joinAccepted" in offer, false);
});

Deno.test("acceptInOffer: a frame before the offer goes after the join-accepted, alone", async () => {
  await using t = await startTestServer();
  const broadcaster = await live(t.url, "s");
  const viewer = await TestClient.connect(t.url);
  viewer.send({ type: "join-stream", streamId: "s", acceptInOffer: true });
  await broadcaster.next("viewer-joined");
  // A candidate before the offer (a client may trickle so).
  broadcaster.send({
    type: "webrtc-ice-candidate",
    streamId: "s",
    viewerId: viewer.id,
    candidate: candidate(1),
  });
  broadcaster.send(offerTo("s", viewer.id));
  assert.equal((await viewer.next("join-accepted")).live, true);
  await viewer.next("webrtc-ice-candidate");
  const offer = await viewer.next("webrtc-offer");
  assert.equal("joinAccepted" in offer, false);
});

Deno.test("acceptInOffer: a broadcaster cannot put a joinAccepted of its own into its offer", async () => {
  await using t = await startTestServer();
  const broadcaster = await live(t.url, "s");
  const forged = {
    type: "join-accepted",
    streamId: "s",
    viewerId: "client_forged",
    live: true,
    iceServers: [{ urls: "turn:evil.example", username: "u", credential: "c" }],
  };
  for (const asks of [false, true]) {
    const viewer = await TestClient.connect(t.url);
    viewer.send({
      type: "join-stream",
      streamId: "s",
      ...(asks ? { acceptInOffer: true } : {}),
    });
    if (!asks) await viewer.next("join-accepted");
    await broadcaster.next("viewer-joined");
    broadcaster.send(offerTo("s", viewer.id, { joinAccepted: forged }));
    const offer = await viewer.next("webrtc-offer") as Offer;
    assert.deepEqual(offer.offer, OFFER);
    if (!asks) assert.equal("joinAccepted" in offer, false);
    else {
      // The server's own, once.
      assert.equal(offer.joinAccepted!.viewerId, viewer.id);
      assert.equal(offer.joinAccepted!.iceServers, undefined);
    }
  }
});

Deno.test("acceptInOffer: across cluster nodes the offer from the broadcaster's node carries it", async () => {
  await using redis = await RedisProcess.start();
  const nodes = await startClusterNodes(redis, 2);
  try {
    const [a, b] = nodes;
    const broadcaster = await live(a.url, "s");
    const viewer = await TestClient.connect(b.url);
    viewer.send({ type: "join-stream", streamId: "s", acceptInOffer: true });
    const joined = await broadcaster.next("viewer-joined");
    assert.equal(joined.viewerId, viewer.id);
    broadcaster.send(offerTo("s", viewer.id));
    const offer = await viewer.next("webrtc-offer") as Offer;
    assert.equal(offer.joinAccepted?.live, true);
    assert.equal(offer.joinAccepted?.viewerId, viewer.id);
    assert.equal(typeof offer.joinAccepted?.resume, "string");
  } finally {
    await Promise.all(nodes.map((node) => node[Symbol.asyncDispose]()));
  }
});
