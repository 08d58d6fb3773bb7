/**
 * The SFU's cluster state in a real Redis: a stream's snapshot is saved by
 * the node driving it only (another node's save is refused once it took
 * the stream), taken once, removed by its driver, and expires; Janus
 * instances' loads are shared between nodes and a silent node stops
 * counting.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { RedisSfuStore } from "../../server/cluster/redis-sfu-store.ts";
import { SharedSfuLoad } from "../../server/cluster/redis-sfu-load.ts";
import { createLogger } from "../../server/observe/logger.ts";
import type { SfuSnapshot } from "../../server/sfu/handover.ts";
import { emptyTopology } from "../../server/sfu/topology.ts";
import { RedisProcess } from "./support/redis-process.ts";

const PREFIX = "lwt:";

function snapshot(phase: "asked" | "published"): SfuSnapshot {
  return { v: 1, topology: { ...emptyTopology("s"), phase } };
}

Deno.test("sfu store: saved by its driver only, taken over by another node, removed by the one that drives it", async () => {
  await using redis = await RedisProcess.start();
  const { inspector } = redis;
  const one = new RedisSfuStore(inspector, PREFIX, "n1");
  const two = new RedisSfuStore(inspector, PREFIX, "n2");
  assert.equal(await one.take("s"), undefined, "nothing to take yet");
  assert.equal(await one.save("s", snapshot("asked")), true);
  assert.equal(await one.save("s", snapshot("published")), true);
  assert.deepEqual(await inspector.hget(one.keyOf("s"), "node"), "n1");
  const ttl = await inspector.pttl(one.keyOf("s"));
  assert.ok(ttl > 50_000 && ttl <= 60_000, `TTL ${ttl}`);

  // Node 2 takes it: node 1's next save is refused (it is to let go).
  assert.deepEqual(await two.take("s"), snapshot("published"));
  assert.equal(await one.save("s", snapshot("asked")), false);
  assert.deepEqual(
    JSON.parse((await inspector.hget(one.keyOf("s"), "snap"))!),
    snapshot("published"),
  );
  // Only its driver removes it; its node stays a TTL, so node 1 (never
  // told it lost the stream) is still refused.
  await one.remove("s");
  assert.ok(await inspector.hget(one.keyOf("s"), "snap"));
  await two.remove("s");
  assert.deepEqual(await inspector.hgetall(one.keyOf("s")), { node: "n2" });
  assert.equal(await one.save("s", snapshot("asked")), false);
  const left = await inspector.pttl(one.keyOf("s"));
  assert.ok(left > 50_000 && left <= 60_000, `TTL ${left}`);
  // Taking names the taker even with nothing to take.
  assert.equal(await one.take("t"), undefined);
  assert.equal(await two.save("t", snapshot("asked")), false);
  assert.equal(await one.save("t", snapshot("asked")), true);
});

Deno.test("sfu load: nodes share their load on each Janus instance; a node that stops sharing stops counting", async () => {
  await using redis = await RedisProcess.start();
  const { inspector } = redis;
  await inspector.sadd(`${PREFIX}nodes`, "n1", "n2", "n3");
  const logger = createLogger("silent");
  // As the nodes' own link: a command fails at once while Redis is away.
  const link = new Redis(redis.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  });
  link.on("error", () => {});
  await new Promise((resolve) => link.once("ready", resolve));
  const sources = ["n1", "n2", "n3"].map((node, i) => ({
    node,
    share: new SharedSfuLoad(link, PREFIX, node, logger),
    mine: new Map([["ws://a/", i + 1], ["ws://b/", 10 * (i + 1)]]),
    shared: new Map<string, number>(),
  }));
  const exchange = (s: (typeof sources)[number]) =>
    s.share.exchange({
      localLoads: () => s.mine,
      setShared: (loads) => {
        s.shared = new Map(loads);
      },
    });
  for (const source of sources) await exchange(source);
  // n1 hears n2's and n3's: a 2 + 3, b 20 + 30.
  await exchange(sources[0]);
  assert.deepEqual(
    sources[0].shared,
    new Map([["ws://a/", 5], ["ws://b/", 50]]),
  );
  // n3 leaves the registry (reaped): its loads no longer count.
  await inspector.srem(`${PREFIX}nodes`, "n3");
  await exchange(sources[0]);
  assert.deepEqual(
    sources[0].shared,
    new Map([["ws://a/", 2], ["ws://b/", 20]]),
  );
  // A node's own entry expires unless it keeps sharing.
  const ttl = await inspector.pttl(`${PREFIX}l:n1`);
  assert.ok(ttl > 0 && ttl <= 10_000, `TTL ${ttl}`);
  // Redis away: the last loads read stand, nothing throws.
  await redis.kill();
  sources[0].shared = new Map([["ws://a/", 7]]);
  await exchange(sources[0]);
  assert.deepEqual(sources[0].shared, new Map([["ws://a/", 7]]));
  link.disconnect();
});
