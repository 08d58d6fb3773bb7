/**
 * A cluster whose Redis is watched by Sentinel (REDIS_SENTINELS): the nodes
 * ask the Sentinel where the primary is, and when it dies they follow the
 * failover to the replica it promotes: Redis is no single point of failure.
 * Real processes: a primary, its replica and a Sentinel (redis-server
 * --sentinel), all on loopback.
 */
import assert from "node:assert/strict";
import { startClusterNodes } from "./support/cluster-nodes.ts";
import { RedisProcess } from "./support/redis-process.ts";
import type { TestServer } from "./support/test-server.ts";

/** The name the Sentinel knows the primary by: REDIS_URL's host. */
const NAME = "lw-primary";

Deno.test("cluster through Sentinel: nodes find the primary, follow a failover to its replica, and the stream goes on", async () => {
  await using primary = await RedisProcess.start();
  await using replica = await RedisProcess.start({ replicaOf: primary });
  await within(
    replica.logged("MASTER <-> REPLICA sync: Finished with success"),
    "the replica in sync",
  );
  await using sentinel = await RedisProcess.sentinel(primary, NAME);
  // It knows the replica: a failover has somewhere to go.
  await within(
    sentinel.logged(`+slave slave 127.0.0.1:${replica.port}`),
    "the Sentinel to know the replica",
  );
  const nodes = await within(
    startClusterNodes(primary, 2, {
      redisUrl: `redis://${NAME}`,
      redisSentinels: [{ host: "127.0.0.1", port: sentinel.port }],
      // Longer than the failover: the nodes keep their members through it.
      nodeTtlMs: 10_000,
    }, "info"),
    "the nodes ready through the Sentinel",
  );
  try {
    const [a, b] = nodes;
    const { broadcaster } = await whenReady(a, () => a.liveStream("s", 0));
    const first = await whenReady(b, () => b.connect());
    first.send({ type: "join-stream", streamId: "s" });
    await first.next("join-accepted");
    assert.equal((await broadcaster.next("viewer-joined")).viewerId, first.id);
    // What the nodes wrote went through the Sentinel's primary, and is on
    // the replica before it goes.
    assert.ok((await primary.inspector.keys("lw:*")).length > 0);
    assert.equal(await primary.inspector.wait(1, 5_000), 1);

    const down = nodes.map((node) => stateAfter(node, "unavailable"));
    await primary.kill();
    const switched = await within(
      sentinel.logged(`+switch-master ${NAME}`),
      "the Sentinel's failover",
    );
    assert.ok(
      switched.endsWith(`127.0.0.1 ${replica.port}`),
      `promoted the replica: ${switched}`,
    );
    await within(Promise.all(down), "the nodes to lose the primary");
    await within(
      Promise.all(nodes.map((node) => node.server.cluster!.when("ready"))),
      "the nodes ready on the promoted replica",
    );

    // On the promoted replica: the stream and its viewer are still known,
    // and a new viewer on the other node reaches the broadcaster.
    const second = await whenReady(b, () => b.connect());
    second.send({ type: "join-stream", streamId: "s" });
    const accepted = await second.next("join-accepted");
    assert.equal(accepted.live, true);
    const joined = await broadcaster.next("viewer-joined");
    assert.equal(joined.viewerId, second.id);
    assert.equal(joined.viewerCount, 2);
    assert.ok(
      (await replica.inspector.keys(`lw:*`)).some((key) =>
        key.includes(second.id)
      ),
      "the new viewer's place is on the promoted replica",
    );
  } catch (error) {
    // What each node's store went through (at info: its states and why),
    // and what the Redis processes said meanwhile.
    for (const [i, node] of nodes.entries()) {
      for (const line of node.logs) {
        if (line.includes('"cluster-')) console.error(`node ${i}: ${line}`);
      }
    }
    for (const [who, redis] of Object.entries({ primary, replica, sentinel })) {
      for (const line of redis.lines) console.error(`${who}: ${line}`);
    }
    throw error;
  } finally {
    await Promise.all(nodes.map((node) => node[Symbol.asyncDispose]()));
  }
});

/**
 * `promise`, or a failure naming `what` after 20 s: a cluster that never
 * finds its primary would otherwise hang the run.
 */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out waiting for ${what}`)),
      20_000,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `connect()` on `node` once its store is ready, again after a refusal: a
 * node can be ready and lose one of its Redis links within milliseconds
 * (seen under load, at the start and right after the failover; ioredis
 * connects it again 50-350 ms later), and a client refused meanwhile (503
 * `cluster-unavailable`) tries again, as the elements do.
 */
async function whenReady<T>(
  node: TestServer,
  connect: () => Promise<T>,
): Promise<T> {
  for (let tries = 1;; tries++) {
    // Bounded: a node that never gets its store back fails, not hangs.
    await within(node.server.cluster!.when("ready"), "the node ready");
    try {
      return await connect();
    } catch (error) {
      // Only a refused connection is tried again.
      if (tries === 5 || !String(error).includes("Could not connect")) {
        throw error;
      }
    }
  }
}

/** Resolves once `node`'s store state becomes `state` (from now on). */
function stateAfter(node: TestServer, state: string): Promise<void> {
  const events = node.server.cluster!.events;
  return new Promise((resolve) => {
    const listener = (event: Event) => {
      if ((event as CustomEvent<string>).detail !== state) return;
      events.removeEventListener("state", listener);
      resolve();
    };
    events.addEventListener("state", listener);
  });
}
