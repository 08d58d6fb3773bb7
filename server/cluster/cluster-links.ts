/**
 * A cluster node's links and route cache, built from its configuration and
 * wired to its Redis and its handlers (redis-cluster.ts keeps the rest).
 */
import type { Redis } from "ioredis";
import type { Logger } from "../observe/logger.ts";
import type { Metrics } from "../observe/metrics.ts";
import type { NodeConfig } from "./node-config.ts";
import { FrameRoutes } from "./frame-routes.ts";
import type { LinkLimits } from "./node-link.ts";
import { NodeLinks } from "./node-links.ts";
import type { RedisDirectory } from "./redis-directory.ts";
import type { ClusterHandlers } from "./cluster-handlers.ts";

/** What the cluster takes of the node configuration. */
export interface LinkOptions {
  hostname: string;
  port: number;
  url?: string;
  /** CLUSTER_SECRET; none: a key kept in Redis. */
  secret?: string;
  limits: LinkLimits;
  retryMs: number;
  maxRoutes: number;
}

/** The link options of `config`, or none with NODE_LINKS=off. */
export function linkOptions(config: NodeConfig): LinkOptions | undefined {
  if (!config.links) return undefined;
  return {
    hostname: config.linkHost,
    port: config.linkPort,
    ...(config.linkUrl ? { url: config.linkUrl } : {}),
    ...(config.clusterSecret ? { secret: config.clusterSecret } : {}),
    limits: {
      queueBytes: config.linkQueueBytes,
      maxFrameBytes: config.linkMaxFrameBytes,
      connectTimeoutMs: config.linkConnectTimeoutMs,
      maxPending: config.linkMaxPending,
    },
    retryMs: config.linkRetryMs,
    maxRoutes: config.linkRoutes,
  };
}

export interface LinkParts {
  links: LinkOptions;
  prefix: string;
  logger: Logger;
  metrics: Metrics;
  redis: Redis;
  store: RedisDirectory;
  self(): string;
  handlers(): ClusterHandlers | undefined;
  publish(node: string, payload: string): void;
}

/** Listening links and the route cache in front of `store`. */
export function linkNodes(
  parts: LinkParts,
): { links: NodeLinks; routes: FrameRoutes } {
  const { links: options, prefix, redis, handlers } = parts;
  const links = new NodeLinks({
    ...options,
    self: parts.self,
    logger: parts.logger,
    metrics: parts.metrics,
    address: async (node) => {
      const value = await redis.get(`${prefix}n:${node}`);
      return value?.startsWith("tcp://") ? value : undefined;
    },
    publish: parts.publish,
    deliver: (envelope) => handlers()?.envelope(envelope),
    placeOf: (id) => handlers()?.placeOf(id),
  });
  if (options.secret) links.useSecret(options.secret);
  const routes = new FrameRoutes({
    store: parts.store,
    links,
    self: parts.self,
    maxRoutes: options.maxRoutes,
    maxHeldBytes: options.limits.queueBytes,
    metrics: parts.metrics,
    placeOf: (id) => handlers()?.placeOf(id),
    sendLocal: (id, text) => handlers()?.sendLocal(id, text),
    unroutable: (...args) => handlers()?.unroutable(...args),
  });
  return { links, routes };
}
