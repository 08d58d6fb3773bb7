/**
 * Nodes send their clients' frames to each other over direct links, with
 * Redis only as the directory: frames cross in one hop (Redis's MONITOR
 * sees no publish and no route lookup), a cached route that went stale
 * ends as the store says (delivered where the target is now, in order, or
 * the same error as before), and a link cut mid-run is made again.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { SCRIPTS } from "../../server/cluster/redis-scripts.ts";
import { ANSWER, candidate, OFFER } from "./support/fixtures.ts";
import { startClusterNodes } from "./support/cluster-nodes.ts";
import { RedisProcess } from "./support/redis-process.ts";
import { TcpProxy } from "./support/tcp-proxy.ts";
import type { TestClient } from "./support/test-client.ts";
import type { TestServer } from "./support/test-server.ts";
import { DEFAULT_NODE_CONFIG } from "../../server/cluster/node-config.ts";

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

/** Every command Redis runs meanwhile (MONITOR), as `name args...`. */
async function monitor(redis: RedisProcess) {
  const client = new Redis(redis.url);
  const seen: string[][] = [];
  const feed = await client.monitor();
  feed.on("monitor", (_time: string, args: string[]) => seen.push(args));
  return {
    seen,
    async [Symbol.asyncDispose]() {
      feed.disconnect();
      await client.quit();
    },
  };
}

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(text),
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

function counter(node: TestServer, name: string): number {
  const m = node.server.metrics;
  const table: Record<string, number> = {
    link: m.clusterLinkFrames,
    pubsub: m.clusterPublished,
    lookups: m.clusterRouteLookups,
    misses: m.clusterRouteMisses,
    opened: m.clusterLinksOpened,
    closed: m.clusterLinkFailures,
  };
  return table[name];
}

async function live(node: TestServer, streamId: string) {
  const broadcaster = await node.connect();
  broadcaster.send({ type: "broadcaster-ready", streamId });
  await broadcaster.next("broadcaster-accepted");
  return broadcaster;
}

async function watch(node: TestServer, streamId: string, b: TestClient) {
  const viewer = await node.connect();
  viewer.send({ type: "join-stream", streamId });
  const accepted = await viewer.next("join-accepted");
  await b.next("viewer-joined");
  return { viewer, claim: accepted.resume! };
}

/** The seed's handshake: an offer and candidates each way, and the answer. */
async function handshake(b: TestClient, v: TestClient, streamId: string) {
  b.send({ type: "webrtc-offer", streamId, viewerId: v.id, offer: OFFER });
  for (let i = 0; i < 4; i++) {
    b.send({
      type: "webrtc-ice-candidate",
      streamId,
      viewerId: v.id,
      candidate: candidate(6000 + i),
    });
  }
  assert.equal((await v.next("webrtc-offer")).type, "webrtc-offer");
  for (let i = 0; i < 4; i++) {
    const c = await v.next("webrtc-ice-candidate");
    assert.equal(
      (c.candidate as { candidate: string }).candidate,
      candidate(6000 + i).candidate,
    );
  }
  v.send({ type: "webrtc-answer", streamId, answer: ANSWER });
  for (let i = 0; i < 4; i++) {
    v.send({
      type: "webrtc-ice-candidate",
      streamId,
      candidate: candidate(7000 + i),
    });
  }
  assert.equal((await b.next("webrtc-answer")).viewerId, v.id);
  for (let i = 0; i < 4; i++) {
    const c = await b.next("webrtc-ice-candidate");
    assert.equal(c.viewerId, v.id);
    assert.equal(
      (c.candidate as { candidate: string }).candidate,
      candidate(7000 + i).candidate,
    );
  }
}

Deno.test("links: a handshake across nodes goes node to node; Redis runs no publish and no route lookup for it", async () => {
  await using c = await cluster(2);
  const [a, b] = c.nodes;
  const broadcaster = await live(a, "s");
  await using seen = await monitor(c.redis);
  const { viewer } = await watch(b, "s", broadcaster);
  await handshake(broadcaster, viewer, "s");
  // A second viewer, and the first one's re-join (a fresh offer).
  const second = await watch(b, "s", broadcaster);
  await handshake(broadcaster, second.viewer, "s");
  viewer.send({ type: "join-stream", streamId: "s" });
  await viewer.next("join-accepted");
  await broadcaster.next("viewer-joined");
  await handshake(broadcaster, viewer, "s");

  const route = await sha1(SCRIPTS.lwRoute);
  const commands = seen.seen.map((args) => args.join(" ").toLowerCase());
  assert.deepEqual(commands.filter((line) => line.startsWith("publish")), []);
  assert.deepEqual(commands.filter((line) => line.includes(route)), []);
  // What Redis did run: the joins (one script each), heartbeats, reaps.
  assert.ok(commands.some((line) => line.startsWith("evalsha")));
  assert.equal(counter(a, "pubsub") + counter(b, "pubsub"), 0);
  assert.equal(counter(a, "lookups") + counter(b, "lookups"), 0);
  // 3 handshakes x 5 frames each way, 3 viewer-joined, and the link's.
  assert.ok(counter(a, "link") >= 15, `A sent ${counter(a, "link")}`);
  assert.ok(counter(b, "link") >= 18, `B sent ${counter(b, "link")}`);
  assert.equal(counter(a, "opened"), 1);
  assert.equal(counter(b, "opened"), 1);
});

Deno.test("links: frames for a viewer that left get unknown-viewer, as without links", async () => {
  await using c = await cluster(2);
  const [a, b] = c.nodes;
  const broadcaster = await live(a, "s");
  const { viewer } = await watch(b, "s", broadcaster);
  await handshake(broadcaster, viewer, "s");
  viewer.send({ type: "leave-stream", streamId: "s" });
  await broadcaster.next("viewer-left");
  // The route to B is cached: B sends it back, Redis has no such viewer.
  broadcaster.send({
    type: "webrtc-ice-candidate",
    streamId: "s",
    viewerId: viewer.id,
    candidate: candidate(1),
  });
  const error = await broadcaster.next("error");
  assert.equal(error.code, "unknown-viewer");
  assert.equal(error.inReplyTo, "webrtc-ice-candidate");
  assert.equal(counter(a, "misses"), 1);
  // And a viewer whose broadcaster left.
  const other = await live(a, "t");
  const second = await watch(b, "t", other);
  await handshake(other, second.viewer, "t");
  other.send({ type: "leave-stream", streamId: "t" });
  await second.viewer.next("broadcaster-left");
  second.viewer.send({ type: "webrtc-answer", streamId: "t", answer: ANSWER });
  const refused = await second.viewer.next("error");
  assert.equal(refused.code, "no-broadcaster");
  assert.equal(refused.inReplyTo, "webrtc-answer");
});

Deno.test("links: a viewer resumed on a third node gets the broadcaster's next frames there, in order", async () => {
  await using c = await cluster(3, { reconnectGraceMs: 5_000 });
  const [a, b, third] = c.nodes;
  const broadcaster = await live(a, "s");
  const { viewer, claim } = await watch(b, "s", broadcaster);
  await handshake(broadcaster, viewer, "s");
  // The viewer's socket drops; it comes back on the third node.
  viewer.socket.close(4000, "network change");
  await b.closedOnServer(viewer.id);
  const back = await (await import("./support/test-client.ts")).TestClient
    .connect(`${third.url}?resume=${encodeURIComponent(claim)}`);
  assert.equal(back.id, viewer.id);
  back.send({ type: "join-stream", streamId: "s" });
  await back.next("join-accepted");
  await broadcaster.next("viewer-joined");
  // A's cached route still says B: B sends these back, Redis says the
  // third node, and they arrive there in the order they were sent.
  for (let i = 0; i < 20; i++) {
    broadcaster.send({
      type: "webrtc-ice-candidate",
      streamId: "s",
      viewerId: viewer.id,
      candidate: candidate(9000 + i),
    });
  }
  for (let i = 0; i < 20; i++) {
    const got = await back.next("webrtc-ice-candidate");
    assert.equal(
      (got.candidate as { candidate: string }).candidate,
      candidate(9000 + i).candidate,
    );
  }
});

Deno.test("links: a link cut mid-run is made again; frames keep their order and none comes twice", async () => {
  await using redis = await RedisProcess.start();
  // B's link is reached through a proxy the test can cut.
  const port = freePort();
  await using proxy = await TcpProxy.start(port);
  // A tries a failed link again after 50 ms (NODE_LINK_RETRY_MS).
  const retry = { ...DEFAULT_NODE_CONFIG, linkRetryMs: 50 };
  const nodes = [
    ...(await startClusterNodes(redis, 1, { nodes: retry })),
    ...(await startClusterNodes(redis, 1, {
      nodes: {
        ...retry,
        linkPort: port,
        linkUrl: `tcp://127.0.0.1:${proxy.port}`,
      },
    })),
  ];
  try {
    const [a, b] = nodes;
    const broadcaster = await live(a, "s");
    const { viewer } = await watch(b, "s", broadcaster);
    await handshake(broadcaster, viewer, "s");
    const total = 300;
    let cuts = 0;
    const send = (i: number) =>
      broadcaster.send({
        type: "webrtc-ice-candidate",
        streamId: "s",
        viewerId: viewer.id,
        candidate: candidate(10_000 + i),
      });
    let nextCut = 25;
    for (let i = 0; i < total; i++) {
      send(i);
      if (i < nextCut) continue;
      nextCut = i + 60;
      const back = proxy.nextConnection();
      cuts += proxy.cut();
      // Frames keep coming (through Redis meanwhile) until the link is
      // made again, NODE_LINK_RETRY_MS later.
      let made = false;
      back.then(() => made = true);
      while (!made && ++i < total) {
        send(i);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    assert.ok(cuts >= 3, `cut ${cuts} connections`);
    // The last frames come after the link is back: wait for the last one.
    const ports: number[] = [];
    for (;;) {
      const got = await viewer.next("webrtc-ice-candidate");
      const text = (got.candidate as { candidate: string }).candidate;
      ports.push(Number(text.split(" ")[5]));
      if (ports.at(-1) === 10_000 + total - 1) break;
    }
    // In order, none twice; at most the frames in flight at a cut lost.
    for (let i = 1; i < ports.length; i++) {
      assert.ok(ports[i] > ports[i - 1], `${ports[i]} after ${ports[i - 1]}`);
    }
    assert.ok(ports.length >= total - 10 * cuts, `${ports.length} arrived`);
    assert.ok(counter(a, "opened") >= 2, "the link was made again");
    // Frames flow over the link again afterwards.
    const before = counter(a, "link");
    await handshake(broadcaster, viewer, "s");
    assert.ok(counter(a, "link") >= before + 5);
  } finally {
    await Promise.all(nodes.map((node) => node[Symbol.asyncDispose]()));
  }
});

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

Deno.test("links: a node with NODE_LINKS=off (or of a version before links, mid-deploy) and one with links talk through pub/sub in the old format", async () => {
  await using redis = await RedisProcess.start();
  const nodes = [
    ...(await startClusterNodes(redis, 1)),
    ...(await startClusterNodes(redis, 1, {
      nodes: { ...DEFAULT_NODE_CONFIG, links: false },
    })),
  ];
  try {
    const [linked, old] = nodes;
    for (const [home, away] of [[linked, old], [old, linked]]) {
      const streamId = `s-${home === linked ? "linked" : "old"}`;
      const broadcaster = await live(home, streamId);
      const { viewer } = await watch(away, streamId, broadcaster);
      await handshake(broadcaster, viewer, streamId);
      viewer.send({ type: "leave-stream", streamId });
      assert.equal((await broadcaster.next("viewer-left")).viewerId, viewer.id);
    }
    assert.equal(counter(linked, "link"), 0);
    assert.ok(counter(linked, "pubsub") >= 10);
  } finally {
    await Promise.all(nodes.map((node) => node[Symbol.asyncDispose]()));
  }
});
