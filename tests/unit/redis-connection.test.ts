/** What a node hands ioredis: the primary itself, or the Sentinels that name it. */
import assert from "node:assert/strict";
import { redisArguments } from "../../server/cluster/redis-connection.ts";

Deno.test("without Sentinels: REDIS_URL itself, and a demoted primary's READONLY reconnects", () => {
  const [url, options] = redisArguments(
    { url: "redis://:pw@10.0.0.5:6379/2" },
    { lazyConnect: true },
  );
  assert.equal(url, "redis://:pw@10.0.0.5:6379/2");
  assert.equal(options.lazyConnect, true);
  assert.equal(options.sentinels, undefined);
  const reconnect = options.reconnectOnError!;
  assert.equal(
    reconnect(
      new Error("READONLY You can't write against a read only replica."),
    ),
    true,
  );
  assert.equal(
    reconnect(new Error("ERR Error running script (f_1): -READONLY …")),
    true,
  );
  assert.equal(reconnect(new Error("ERR unknown command")), false);
});

Deno.test("with Sentinels: the URL's host is the primary's name; its TLS, the Sentinels' password, silent Sentinels passed over", () => {
  const [url, options] = redisArguments({
    url: "rediss://:pw@my%2Dprimary/1",
    sentinels: [{ host: "10.0.0.5", port: 26379 }, {
      host: "::1",
      port: 26380,
    }],
    sentinelPassword: "s3cret",
  }, { lazyConnect: true });
  assert.equal(url, "rediss://:pw@my%2Dprimary/1");
  assert.deepEqual(options.sentinels, [
    { host: "10.0.0.5", port: 26379 },
    { host: "::1", port: 26380 },
  ]);
  assert.equal(options.name, "my-primary");
  assert.equal(options.sentinelPassword, "s3cret");
  assert.equal(options.enableTLSForSentinelMode, true);
  assert.equal(options.failoverDetector, undefined);
  assert.equal(options.sentinelCommandTimeout, 1_000);
  assert.equal(options.lazyConnect, true);
  const [, plain] = redisArguments({
    url: "redis://mymaster",
    sentinels: [{ host: "s", port: 26379 }],
  }, {});
  assert.equal(plain.name, "mymaster");
  assert.equal(plain.sentinelPassword, undefined);
  assert.equal(plain.enableTLSForSentinelMode, undefined);
});
