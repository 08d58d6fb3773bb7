/**
 * How a node reaches Redis: the primary at REDIS_URL, or, with Sentinels
 * (REDIS_SENTINELS), the primary they name, followed through a failover.
 * The Sentinel case takes redis-rb's convention: the URL's host is the name
 * the Sentinels know the primary by (`sentinel monitor <name> …`), its
 * credentials, database and `rediss:` the primary's.
 */
import type { RedisOptions } from "ioredis";

export interface RedisTarget {
  /** REDIS_URL. */
  url: string;
  /** REDIS_SENTINELS; none: `url` is the primary itself. */
  sentinels?: readonly { host: string; port: number }[];
  /** REDIS_SENTINEL_PASSWORD. */
  sentinelPassword?: string;
}

/** ioredis's arguments for `target`, on top of `common`. */
export function redisArguments(
  target: RedisTarget,
  common: RedisOptions,
): [url: string, options: RedisOptions] {
  // A primary demoted by a failover answers writes with READONLY until the
  // link is made again: made again, to whatever is primary now.
  const options: RedisOptions = {
    ...common,
    // (Redis 6 wraps a script's as `ERR Error running script … -READONLY`.)
    reconnectOnError: (error) => error.message.includes("READONLY"),
  };
  const { sentinels } = target;
  if (!sentinels) return [target.url, options];
  const url = new URL(target.url);
  return [target.url, {
    ...options,
    sentinels: sentinels.map(({ host, port }) => ({ host, port })),
    name: decodeURIComponent(url.hostname),
    ...(target.sentinelPassword
      ? { sentinelPassword: target.sentinelPassword }
      : {}),
    // TLS to the primary (rediss:); the Sentinels' own links stay as they are.
    ...(url.protocol === "rediss:" ? { enableTLSForSentinelMode: true } : {}),
    // No `failoverDetector`: a dead primary closes the link, one that stops
    // answering (its machine lost) is left after the heartbeat's timeout
    // (redis-cluster.ts), a demoted one answers READONLY; each link is then
    // resolved anew through the Sentinels. With
    // it, one node in ~10 never came back after a failover in
    // tests/server/cluster-sentinel.test.ts (ioredis 5.9.3).
    // A Sentinel that takes the connection but never answers is passed
    // over (no timeout by default: the link would wait on it for good).
    sentinelCommandTimeout: 1_000,
    connectTimeout: 2_000,
  }];
}
