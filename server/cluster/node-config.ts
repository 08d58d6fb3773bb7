/**
 * How the nodes of a cluster reach each other (NODE_LINK_*, CLUSTER_SECRET)
 * and how many run on one machine (PROCESSES, REUSE_PORT), checked for
 * `loadConfig` (config.ts holds the rest). docs/server.md has the table.
 */
import { MIN_SECRET_BYTES } from "../security/tokens.ts";

export interface NodeConfig {
  /** NODE_LINKS: frames between nodes over direct links (on) or Redis pub/sub (off). */
  links: boolean;
  /** NODE_LINK_HOST: where this node's link listens. */
  linkHost: string;
  /** NODE_LINK_PORT: its port; 0 = any free one. */
  linkPort: number;
  /**
   * NODE_LINK_URL: the address other nodes are given (`tcp://host:port`);
   * unset = `tcp://NODE_LINK_HOST:<port bound>`.
   */
  linkUrl: string | undefined;
  /** CLUSTER_SECRET: the nodes' shared key for links; unset = one kept in Redis. */
  clusterSecret: string | undefined;
  /** NODE_LINK_QUEUE_BYTES: frames queued for one link (or held by one route) before more are dropped. */
  linkQueueBytes: number;
  /**
   * NODE_LINK_MAX_FRAME_BYTES: the largest frame a link carries, counted as
   * JavaScript counts a string (a frame of N bytes of UTF-8 counts at most N).
   */
  linkMaxFrameBytes: number;
  /** NODE_LINK_CONNECT_TIMEOUT_MS: connecting and proving, together; a probe's answer too. */
  linkConnectTimeoutMs: number;
  /** NODE_LINK_MAX_PENDING: connections to this node's link still proving themselves, at most; more are closed. */
  linkMaxPending: number;
  /** NODE_LINK_RETRY_MS: after a link failed, frames go through pub/sub this long before it is tried again. */
  linkRetryMs: number;
  /** NODE_LINK_ROUTES: routes (a target's node) cached per node. */
  linkRoutes: number;
  /** PROCESSES: server processes on this machine, sharing PORT (REUSE_PORT). */
  processes: number;
  /** REUSE_PORT: listen with SO_REUSEPORT (Linux), so several processes share PORT. */
  reusePort: boolean;
}

export const DEFAULT_NODE_CONFIG: Readonly<NodeConfig> = {
  links: true,
  linkHost: "127.0.0.1",
  linkPort: 0,
  linkUrl: undefined,
  clusterSecret: undefined,
  // A burst of 5,000 connections on 2 cores queued up to ~10 MiB on one
  // link while the other node caught up (bench/RESULTS.md, issue 24); 8 MiB
  // dropped frames mid-handshake in 3 runs of 30. This bounds a node that
  // stops reading, not one that is slower for a second.
  linkQueueBytes: 64 * 1024 * 1024,
  linkMaxFrameBytes: 1024 * 1024,
  linkConnectTimeoutMs: 2_000,
  // A node's peers make one link each, at once when it starts: room for a
  // few dozen nodes, none for a flood of connections that never prove.
  linkMaxPending: 64,
  linkRetryMs: 1_000,
  linkRoutes: 100_000,
  processes: 1,
  reusePort: false,
};

/** Environment variable of each numeric setting, with its range. */
export const NODE_ENV_NAMES = {
  linkPort: ["NODE_LINK_PORT", 0, 65535],
  linkQueueBytes: ["NODE_LINK_QUEUE_BYTES", 64 * 1024, Number.MAX_SAFE_INTEGER],
  linkMaxFrameBytes: ["NODE_LINK_MAX_FRAME_BYTES", 1024, 64 * 1024 * 1024],
  linkConnectTimeoutMs: ["NODE_LINK_CONNECT_TIMEOUT_MS", 50, 600_000],
  linkMaxPending: ["NODE_LINK_MAX_PENDING", 1, 100_000],
  linkRetryMs: ["NODE_LINK_RETRY_MS", 10, 600_000],
  linkRoutes: ["NODE_LINK_ROUTES", 16, 100_000_000],
  processes: ["PROCESSES", 1, 256],
} as const satisfies Partial<
  Record<keyof NodeConfig, readonly [string, number, number]>
>;

/** The settings `readNodeConfig` needs from the rest of the configuration. */
interface Around {
  redisUrl: string | undefined;
  maxMessageBytes: number;
  port: number;
}

/** Reads the node settings; each bad one is added to `problems`. */
export function readNodeConfig(
  env: Readonly<Record<string, string | undefined>>,
  around: Around,
  problems: string[],
  os: string = Deno.build.os,
): NodeConfig {
  const config: NodeConfig = { ...DEFAULT_NODE_CONFIG };
  for (const [key, [name, min, max]] of Object.entries(NODE_ENV_NAMES)) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === "") continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(
        `${name} must be an integer from ${min} to ${max}, got ${
          JSON.stringify(raw)
        }`,
      );
    } else config[key as keyof typeof NODE_ENV_NAMES] = value;
  }
  const flag = (name: string, yes: string, no: string) => {
    const raw = env[name]?.trim().toLowerCase();
    if (!raw) return undefined;
    if (raw === yes || raw === no) return raw === yes;
    problems.push(
      `${name} must be ${yes} or ${no}, got ${JSON.stringify(raw)}`,
    );
    return undefined;
  };
  config.links = flag("NODE_LINKS", "on", "off") ?? config.links;
  config.reusePort = flag("REUSE_PORT", "1", "0") ?? config.reusePort;
  const host = env.NODE_LINK_HOST?.trim();
  if (host) config.linkHost = host;
  const url = env.NODE_LINK_URL?.trim();
  if (url) {
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    if (parsed?.protocol !== "tcp:" || !parsed.hostname || !parsed.port) {
      problems.push(
        `NODE_LINK_URL must be tcp://host:port, got ${JSON.stringify(url)}`,
      );
    } else config.linkUrl = url;
  } else if (/^(0\.0\.0\.0|::|\[::\])$/.test(config.linkHost)) {
    problems.push(
      `NODE_LINK_HOST ${config.linkHost} listens on every interface: set NODE_LINK_URL to the address other nodes reach this one at`,
    );
  }
  const secret = env.CLUSTER_SECRET;
  if (secret) {
    if (new TextEncoder().encode(secret).length < MIN_SECRET_BYTES) {
      problems.push(
        `CLUSTER_SECRET must be at least ${MIN_SECRET_BYTES} bytes`,
      );
    } else config.clusterSecret = secret;
  }
  // A client's largest frame, with the link's own header.
  if (config.linkMaxFrameBytes < around.maxMessageBytes + 1024) {
    problems.push(
      "NODE_LINK_MAX_FRAME_BYTES must be at least MAX_MESSAGE_BYTES + 1024, or a client's largest frame could not cross",
    );
  }
  if ((config.processes > 1 || config.reusePort) && os !== "linux") {
    problems.push(
      "PROCESSES above 1 and REUSE_PORT need Linux (SO_REUSEPORT spreads connections only there)",
    );
  }
  if (config.processes > 1 && !around.redisUrl) {
    problems.push(
      "PROCESSES above 1 needs REDIS_URL: the processes share their streams through Redis",
    );
  }
  if (config.processes > 1 && around.port === 0) {
    problems.push("PROCESSES above 1 needs a PORT they share (not 0)");
  }
  return config;
}
