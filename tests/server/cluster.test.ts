/**
 * Several nodes sharing one real Redis behave as one server: the seed flow
 * across nodes, roles and attribution, atomic claims under races, takeover,
 * resume on another node, and Redis keys freed when streams empty.
 */
import assert from "node:assert/strict";
import {
  REPLACED_CLOSE_CODE,
  RESUMED_CLOSE_CODE,
} from "../../server/signaling/signaling-router.ts";
import { mintToken } from "../../server/security/tokens.ts";
import { ANSWER, candidate, OFFER } from "./support/fixtures.ts";
import { startClusterNodes } from "./support/cluster-nodes.ts";
import { RedisProcess } from "./support/redis-process.ts";
import { TestClient } from "./support/test-client.ts";
import type { TestServer } from "./support/test-server.ts";

const SECRET = "a-test-secret-of-at-least-32-bytes!!";

/** Nodes and Redis for one test, all stopped at the end whatever happens. */
async function cluster(
  count: number,
  overrides: Parameters<typeof startClusterNodes>[2] = {},
) {
  const redis = await RedisProcess.start();
  const nodes = await startClusterNodes(redis, count, overrides);
  return {
    redis,
    nodes,
    async [Symbol.asyncDispose]() {
      await Promise.all(nodes.map((node) => node[Symbol.asyncDispose]()));
      await redis[Symbol.asyncDispose]();
    },
  };
}

/**
 * Keys of streams and members: clients, streams, viewers, node member sets
 * (node registrations and the shared resume key are not about streams).
 */
async function streamKeys(redis: RedisProcess): Promise<string[]> {
  return (await redis.keys()).filter((key) => /^lw:[csvm]:/.test(key));
}

async function announce(node: TestServer, streamId: string, token?: string) {
  const client = await node.connect();
  client.send({ type: "broadcaster-ready", streamId, token });
  return { client, reply: await client.next() };
}

async function join(node: TestServer, streamId: string, token?: string) {
  const client = await node.connect();
  client.send({ type: "join-stream", streamId, token });
  return { client, reply: await client.next() };
}

Deno.test("cluster: the seed flow works with the broadcaster and its viewers on different nodes", async () => {
  await using c = await cluster(3);
  const [a, b, cNode] = c.nodes;
  // A viewer waiting on B before the broadcaster exists anywhere.
  const early = await join(b, "s");
  assert.equal(early.reply.type, "join-accepted");
  assert.equal((early.reply as { live: boolean }).live, false);

  const { client: broadcaster, reply } = await announce(a, "s");
  assert.equal(reply.type, "broadcaster-accepted");
  assert.deepEqual(await early.client.next("broadcaster-joined"), {
    type: "broadcaster-joined",
    streamId: "s",
  });
  assert.deepEqual(await broadcaster.next("viewer-joined"), {
    type: "viewer-joined",
    streamId: "s",
    viewerId: early.client.id,
    viewerCount: 1,
  });

  const late = await join(cNode, "s");
  assert.equal((late.reply as { live: boolean }).live, true);
  assert.equal(
    (await broadcaster.next("viewer-joined")).viewerId,
    late.client.id,
  );

  for (const viewer of [early.client, late.client]) {
    broadcaster.send({
      type: "webrtc-offer",
      streamId: "s",
      viewerId: viewer.id,
      offer: OFFER,
    });
    assert.deepEqual(await viewer.next("webrtc-offer"), {
      type: "webrtc-offer",
      streamId: "s",
      viewerId: viewer.id,
      offer: OFFER,
    });
    broadcaster.send({
      type: "webrtc-ice-candidate",
      streamId: "s",
      viewerId: viewer.id,
      candidate: candidate(5000),
    });
    assert.equal(
      (await viewer.next("webrtc-ice-candidate")).viewerId,
      viewer.id,
    );
  }
  // Attribution: a viewer's claimed viewerId is replaced by its real one.
  late.client.send({
    type: "webrtc-answer",
    streamId: "s",
    viewerId: early.client.id,
    answer: ANSWER,
  });
  assert.deepEqual(await broadcaster.next("webrtc-answer"), {
    type: "webrtc-answer",
    streamId: "s",
    viewerId: late.client.id,
    answer: ANSWER,
  });
  late.client.send({
    type: "webrtc-ice-candidate",
    streamId: "s",
    candidate: candidate(6000),
  });
  assert.equal(
    (await broadcaster.next("webrtc-ice-candidate")).viewerId,
    late.client.id,
  );

  await late.client.close();
  assert.deepEqual(await broadcaster.next("viewer-left"), {
    type: "viewer-left",
    streamId: "s",
    viewerId: late.client.id,
    viewerCount: 1,
  });
  await broadcaster.close();
  assert.deepEqual(await early.client.next("broadcaster-left"), {
    type: "broadcaster-left",
    streamId: "s",
  });
  await early.client.close();
  await Promise.all([
    a.closedOnServer(broadcaster.id),
    b.closedOnServer(early.client.id),
  ]);
  assert.deepEqual(await streamKeys(c.redis), []);
});

Deno.test("cluster: roles are enforced across nodes as on one", async () => {
  await using c = await cluster(2);
  const [a, b] = c.nodes;
  const { client: broadcaster } = await announce(a, "s");
  const { client: viewer } = await join(b, "s");
  await broadcaster.next("viewer-joined");
  const outsider = await b.connect();

  viewer.send({ type: "webrtc-offer", streamId: "s", offer: OFFER });
  assert.equal((await viewer.next("error")).code, "wrong-role");
  broadcaster.send({
    type: "webrtc-answer",
    streamId: "s",
    viewerId: viewer.id,
    answer: ANSWER,
  });
  assert.equal((await broadcaster.next("error")).code, "wrong-role");
  broadcaster.send({
    type: "webrtc-offer",
    streamId: "s",
    viewerId: outsider.id,
    offer: OFFER,
  });
  assert.equal((await broadcaster.next("error")).code, "unknown-viewer");
  broadcaster.send({ type: "webrtc-offer", streamId: "s", offer: OFFER });
  assert.equal((await broadcaster.next("error")).code, "invalid-field");
  outsider.send({
    type: "webrtc-answer",
    streamId: "s",
    answer: ANSWER,
  });
  assert.equal((await outsider.next("error")).code, "not-in-stream");
  await outsider.expectQuiet();
  await viewer.expectQuiet();
  await broadcaster.expectQuiet();
});

Deno.test("cluster without an SFU: viewer-playing and viewer-loss go nowhere (no store lookup, nothing to the broadcaster)", async () => {
  await using c = await cluster(2);
  const [a, b] = c.nodes;
  const { client: broadcaster } = await announce(a, "s");
  const { client: viewer } = await join(b, "s");
  await broadcaster.next("viewer-joined");
  const lookups = b.server.metrics.clusterRouteLookups;
  const sent = b.server.metrics.clusterSent;
  viewer.send({ type: "viewer-playing", streamId: "s", session: "42" });
  viewer.send({ type: "viewer-loss", streamId: "s", lost: 9, received: 30 });
  await viewer.expectQuiet();
  // Anything forwarded would have gone before this offer's answer.
  broadcaster.send({
    type: "webrtc-offer",
    streamId: "s",
    viewerId: viewer.id,
    offer: OFFER,
  });
  await viewer.next("webrtc-offer");
  viewer.send({
    type: "webrtc-answer",
    streamId: "s",
    viewerId: viewer.id,
    answer: ANSWER,
  });
  assert.equal((await broadcaster.next()).type, "webrtc-answer");
  await broadcaster.expectQuiet();
  // Only the answer crossed: one frame at most, looked up at most once.
  assert.ok(b.server.metrics.clusterRouteLookups - lookups <= 1);
  assert.ok(b.server.metrics.clusterSent - sent <= 1);
});

Deno.test("cluster: racing announces on three nodes: exactly one broadcaster", async () => {
  await using c = await cluster(3);
  for (let round = 0; round < 5; round++) {
    const streamId = `race-${round}`;
    const clients = await Promise.all(
      Array.from({ length: 9 }, (_, i) => c.nodes[i % 3].connect()),
    );
    for (const client of clients) {
      client.send({ type: "broadcaster-ready", streamId });
    }
    const replies = await Promise.all(clients.map((client) => client.next()));
    const accepted = replies.filter((r) => r.type === "broadcaster-accepted");
    const taken = replies.filter((r) =>
      r.type === "error" && r.code === "stream-taken"
    );
    assert.equal(accepted.length, 1, JSON.stringify(replies));
    assert.equal(taken.length, 8);
    await Promise.all(clients.map((client) => client.close()));
  }
});

Deno.test("cluster: racing joins for the last seats: exactly MAX_VIEWERS_PER_STREAM win", async () => {
  await using c = await cluster(3, { maxViewersPerStream: 3 });
  await announce(c.nodes[0], "s");
  const clients = await Promise.all(
    Array.from({ length: 12 }, (_, i) => c.nodes[i % 3].connect()),
  );
  for (const client of clients) {
    client.send({ type: "join-stream", streamId: "s" });
  }
  const replies = await Promise.all(clients.map((client) => client.next()));
  assert.equal(
    replies.filter((r) => r.type === "join-accepted").length,
    3,
    JSON.stringify(replies),
  );
  const full = replies.filter((r) => r.type === "error");
  assert.equal(full.length, 9);
  for (const r of full) {
    assert.equal(r.type === "error" && r.code, "stream-full");
  }
  assert.equal(await c.redis.inspector.hlen("lw:v:s"), 3);
});

Deno.test("cluster: a token's maxViewers holds across nodes", async () => {
  await using c = await cluster(2, { signalSecret: SECRET });
  const [a, b] = c.nodes;
  const { reply } = await announce(
    a,
    "s",
    await mintToken(SECRET, {
      sub: "shop",
      stream: "s",
      role: "broadcaster",
      maxViewers: 2,
    }),
  );
  assert.equal(reply.type, "broadcaster-accepted");
  const viewerToken = (sub: string) =>
    mintToken(SECRET, { sub, stream: "s", role: "viewer" });
  const replies = await Promise.all(
    ["v1", "v2", "v3", "v4"].map(async (sub, i) =>
      (await join(i % 2 ? a : b, "s", await viewerToken(sub))).reply
    ),
  );
  assert.equal(replies.filter((r) => r.type === "join-accepted").length, 2);
  const refused = replies.filter((r) => r.type === "error");
  assert.equal(refused.length, 2);
  for (const r of refused) {
    assert.equal(r.type === "error" && r.code, "stream-full");
  }
});

Deno.test("cluster: the same subject takes over from another node; another subject is refused", async () => {
  await using c = await cluster(2, { signalSecret: SECRET });
  const [a, b] = c.nodes;
  const token = (sub: string) =>
    mintToken(SECRET, { sub, stream: "s", role: "broadcaster" });
  const old = await announce(a, "s", await token("shop"));
  assert.equal(old.reply.type, "broadcaster-accepted");
  const viewer = await join(
    b,
    "s",
    await mintToken(SECRET, { sub: "customer", stream: "s", role: "viewer" }),
  );
  await old.client.next("viewer-joined");

  const stranger = await announce(b, "s", await token("someone-else"));
  assert.equal(
    stranger.reply.type === "error" && stranger.reply.code,
    "stream-taken",
  );

  const fresh = await announce(b, "s", await token("shop"));
  assert.equal(fresh.reply.type, "broadcaster-accepted");
  assert.equal((await old.client.next("error")).code, "replaced");
  assert.equal((await old.client.closed).code, REPLACED_CLOSE_CODE);
  assert.equal(
    (await fresh.client.next("viewer-joined")).viewerId,
    viewer.client.id,
  );
  assert.equal((await viewer.client.next()).type, "broadcaster-left");
  assert.equal((await viewer.client.next()).type, "broadcaster-joined");
  assert.equal(await c.redis.inspector.hget("lw:s:s", "b"), fresh.client.id);
});

Deno.test("cluster: a dropped client resumes its place on another node; its stale socket is closed", async () => {
  await using c = await cluster(2);
  const [a, b] = c.nodes;
  const { client: broadcaster } = await announce(a, "s");
  const { client: viewer, reply } = await join(a, "s");
  await broadcaster.next("viewer-joined");
  const claim = (reply as { resume: string }).resume;

  // The viewer comes back on B while its old socket on A is still open.
  const back = await TestClient.connect(
    `${b.url}?resume=${encodeURIComponent(claim)}`,
  );
  assert.equal(back.id, viewer.id);
  assert.equal(back.welcome?.resumed, true);
  assert.equal((await viewer.closed).code, RESUMED_CLOSE_CODE);
  back.send({ type: "join-stream", streamId: "s" });
  assert.equal((await back.next("join-accepted")).viewerId, viewer.id);
  // The broadcaster hears of the same viewer again (a re-join), never of it leaving.
  assert.equal((await broadcaster.next("viewer-joined")).viewerId, viewer.id);
  broadcaster.send({
    type: "webrtc-offer",
    streamId: "s",
    viewerId: viewer.id,
    offer: OFFER,
  });
  assert.equal((await back.next("webrtc-offer")).viewerId, viewer.id);
  assert.equal(
    await c.redis.inspector.hget(`lw:c:${viewer.id}`, "n"),
    b.server.cluster!.node,
  );
  await broadcaster.expectQuiet();
});

Deno.test("cluster: a resumed socket that drops while Redis answers keeps its grace: the place is left when it ends", async () => {
  const grace = 1_000;
  // A TTL well past the pause: no heartbeat gives up during it.
  await using c = await cluster(1, {
    reconnectGraceMs: grace,
    nodeTtlMs: 10_000,
  });
  const [a] = c.nodes;
  const { client: broadcaster } = await announce(a, "s");
  const { client: viewer, reply } = await join(a, "s");
  await broadcaster.next("viewer-joined");
  const claim = (reply as { resume: string }).resume;
  // Redis holds the resume's answer while its new socket comes and goes
  // (a few ms, well under the grace and the heartbeat's 1 s timeout).
  c.redis.pause();
  try {
    const back = await TestClient.connect(
      `${a.url}?resume=${encodeURIComponent(claim)}`,
    );
    assert.equal(back.welcome?.resumed, true);
    assert.equal((await viewer.closed).code, RESUMED_CLOSE_CODE);
    // Closed before it said anything: a drop, not a goodbye.
    await back.close();
    await a.closedOnServer(viewer.id);
  } finally {
    c.redis.resume();
  }
  // The resume lands after the drop; the drop's grace still ends it.
  assert.deepEqual(await broadcaster.next("viewer-left"), {
    type: "viewer-left",
    streamId: "s",
    viewerId: viewer.id,
    viewerCount: 0,
  });
  assert.equal(a.server.metrics.graceExpired, 1);
  assert.equal(await c.redis.inspector.exists(`lw:c:${viewer.id}`), 0);
});

Deno.test("cluster: client ids are unique across nodes", async () => {
  await using c = await cluster(3);
  const clients = await Promise.all(
    Array.from({ length: 60 }, (_, i) => c.nodes[i % 3].connect()),
  );
  assert.equal(new Set(clients.map((client) => client.id)).size, 60);
});

Deno.test("cluster: /healthz names the node and its Redis state; /metrics counts cross-node frames", async () => {
  await using c = await cluster(2);
  const [a, b] = c.nodes;
  const health =
    await (await fetch(`http://127.0.0.1:${a.server.port}/healthz`)).json();
  assert.equal(health.status, "ok");
  assert.equal(health.node, a.server.cluster!.node);
  assert.equal(health.redis, "ready");
  const { client: broadcaster } = await announce(a, "s");
  const { client: viewer } = await join(b, "s");
  await broadcaster.next("viewer-joined");
  broadcaster.send({
    type: "webrtc-offer",
    streamId: "s",
    viewerId: viewer.id,
    offer: OFFER,
  });
  await viewer.next("webrtc-offer");
  const text = await (await fetch(`http://127.0.0.1:${a.server.port}/metrics`))
    .text();
  assert.match(text, /^live_redis_up 1$/m);
  assert.match(text, /^live_cluster_messages_sent_total [1-9]/m);
  assert.match(text, /^live_redis_roundtrip_seconds_count [1-9]/m);
  const received =
    await (await fetch(`http://127.0.0.1:${b.server.port}/metrics`)).text();
  assert.match(received, /^live_cluster_messages_received_total [1-9]/m);
});
