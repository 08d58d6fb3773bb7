/**
 * The Redis cluster is loaded only with REDIS_URL: one node that never uses
 * it does not pay for ioredis at every start.
 */
import assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "../../server/config.ts";
import { createLogger } from "../../server/observe/logger.ts";
import { buildServices } from "../../server/services.ts";
import { redisClusterFor } from "../../server/signaling-server.ts";

interface InfoModule {
  specifier: string;
  dependencies?: {
    isDynamic?: boolean;
    code?: { specifier: string };
  }[];
}

Deno.test("redis: main.ts reaches ioredis only through a dynamic import", async () => {
  const main = new URL("../../server/main.ts", import.meta.url);
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", main.href],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(success, "deno info failed");
  const info = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: InfoModule[];
  };
  const modules = new Map(info.modules.map((m) => [m.specifier, m]));
  // Every module main.ts loads at start: its static imports, transitively.
  const loaded = new Set([main.href]);
  const queue = [main.href];
  while (queue.length > 0) {
    for (const dependency of modules.get(queue.pop()!)?.dependencies ?? []) {
      const next = dependency.code?.specifier;
      if (!next || dependency.isDynamic || loaded.has(next)) continue;
      loaded.add(next);
      queue.push(next);
    }
  }
  assert.ok(loaded.size > 50, `only ${loaded.size} modules: a wrong graph?`);
  const redis = [...loaded].filter((s) => /ioredis|redis-cluster/.test(s));
  assert.deepEqual(redis, []);
  // It is there, behind the dynamic import.
  assert.ok(info.modules.some((m) => m.specifier.includes("ioredis")));
});

Deno.test("redis: the cluster's class is loaded for REDIS_URL only, and needed then", async () => {
  assert.equal(await redisClusterFor(DEFAULT_CONFIG), undefined);
  const config = { ...DEFAULT_CONFIG, redisUrl: "redis://127.0.0.1:1" };
  const loaded = await redisClusterFor(config);
  assert.equal(typeof loaded, "function");
  assert.throws(
    () => buildServices(config, createLogger("error", () => {})),
    /REDIS_URL is set but the Redis cluster was not loaded/,
  );
});
