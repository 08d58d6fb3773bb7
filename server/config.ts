/**
 * Server configuration. Every limit the server enforces is here, named after
 * the environment variable that sets it, so the table in docs/server.md, the
 * tests and the code share one vocabulary.
 */
import type { LogLevel } from "./observe/logger.ts";
import { followTopology, janusUrls } from "./topology-limits.ts";

export { janusUrls };
import { readSecurity } from "./config-security.ts";
import { DEFAULT_STATE_DIR } from "./security/state-key.ts";
import { DEFAULT_SDP_LIMITS, type SdpLimits } from "../protocol/sdp-check.ts";
import { DEFAULT_LAYER_LIMITS } from "./sfu/layer-policy.ts";
import {
  DEFAULT_NODE_CONFIG,
  type NodeConfig,
  readNodeConfig,
} from "./cluster/node-config.ts";

export interface ServerConfig {
  /** TCP port; 0 picks a free one (tests, benchmarks). */
  port: number;
  hostname: string;
  /** Viewers one stream admits; more get `stream-full`. */
  maxViewersPerStream: number;
  /** Largest text frame in UTF-8 bytes; larger closes the socket with 1009. */
  maxMessageBytes: number;
  /** Token bucket refill: messages per second each connection may send. */
  rateLimitPerSecond: number;
  /** Token bucket size: the burst a connection may send at once. */
  rateLimitBurst: number;
  /** Frame bytes per second each connection may send (text counted in characters). */
  rateLimitBytesPerSecond: number;
  /** The burst of frame bytes a connection may send at once; at least one largest frame. */
  rateLimitBytesBurst: number;
  /** Refused messages within {@link rateLimitWindowMs} before closing with 1008. */
  rateLimitMaxRefusals: number;
  rateLimitWindowMs: number;
  /** Ping after this much silence; a peer silent for two intervals is dropped. */
  heartbeatIntervalMs: number;
  /** Bytes queued for one socket before it is dropped as a slow consumer. */
  maxBufferedBytes: number;
  /** Open WebSocket connections the server accepts; more get HTTP 503. */
  maxConnections: number;
  logLevel: LogLevel;
  /** Directory served at `/` (the built `dist/`), or none. */
  staticDir: string | undefined;
  /** HS256 secret for stream tokens; unset = open development mode. */
  signalSecret: string | undefined;
  /** Origins allowed to open a WebSocket; unset = any. */
  allowedOrigins: string[] | undefined;
  /** Open WebSockets from one IP address; more get HTTP 429. */
  maxConnectionsPerIp: number;
  /** New WebSockets one IP address may open per minute (token bucket refill); more get HTTP 429. */
  connectRatePerIpPerMinute: number;
  /** The burst of new WebSockets one IP address may open at once. */
  connectBurstPerIp: number;
  /** Announces and joins one IP address may make per minute (token bucket refill). */
  joinRatePerIpPerMinute: number;
  /** The burst of announces and joins one IP address may make at once. */
  joinBurstPerIp: number;
  /** Take the client address from X-Forwarded-For (only behind your own proxy). */
  trustProxy: boolean;
  /** Where audit events are POSTed, signed with webhookSecret. */
  webhookUrl: string | undefined;
  webhookSecret: string | undefined;
  /** TURN server URLs for time-limited credentials (coturn `use-auth-secret`). */
  turnUrls: string[] | undefined;
  turnSecret: string | undefined;
  /** Lifetime of issued TURN credentials, in seconds. */
  turnTtlSeconds: number;
  /** STUN URLs handed out beside TURN. */
  stunUrls: string[] | undefined;
  /**
   * Key for resume claims (RESUME_SECRET, else derived from SIGNAL_SECRET);
   * unset = a key kept in {@link stateDir} (one node) or in Redis (several):
   * sessions survive a restart either way.
   */
  resumeSecret: string | undefined;
  /** Lifetime of a resume claim; pongs renew it once half of it has passed. */
  resumeTtlSeconds: number;
  /**
   * Where one node without a secret (nor REDIS_URL) keeps its resume key
   * (security/state-key.ts), so claims survive a restart. Relative to the
   * working directory; untouched when the key comes from elsewhere.
   */
  stateDir: string;
  /**
   * How long a client whose socket dropped without a goodbye keeps its place
   * before its peers are told it left; 0 = told at once.
   */
  reconnectGraceMs: number;
  /**
   * Redis shared by every node (redis:// or rediss://, credentials in the
   * URL); unset = one process, everything in memory.
   */
  redisUrl: string | undefined;
  /**
   * Sentinels watching the Redis primary (REDIS_SENTINELS): the nodes ask
   * them where it is, and follow a failover. `redisUrl`'s host is then the
   * name they know it by.
   */
  redisSentinels: readonly { host: string; port: number }[] | undefined;
  /** The Sentinels' own password (REDIS_SENTINEL_PASSWORD), if they ask one. */
  redisSentinelPassword: string | undefined;
  /** Prefix of every Redis key and channel, so clusters can share a Redis. */
  redisKeyPrefix: string;
  /** A node silent this long is taken for dead and its members freed. */
  nodeTtlMs: number;
  /** Janus's WebSocket API (ws:// or wss://); unset = peer to peer only. */
  janusUrl: string | undefined;
  /**
   * A stream moves to the SFU (make before break) once it has more viewers
   * than this; 0 = every stream through the SFU from its start.
   */
  sfuAfterViewers: number;
  /**
   * Viewers of one stream one Janus instance carries (measured: 150 at
   * ≥ 90% delivery on 2 cores). The default MAX_VIEWERS_PER_STREAM with an
   * SFU.
   */
  sfuViewersPerInstance: number;
  /**
   * Simulcast layer switches Janus is asked for per stream per second
   * (each costs the broadcaster a keyframe); the rest wait their turn.
   */
  sfuLayerSwitchesPerSecond: number;
  /** A viewer's step down waits a random 0 to this many ms (spreads a burst). */
  sfuLayerJitterMs: number;
  /** A simulcast layer no viewer gets is paused after this many ms (dynacast). */
  sfuLayerPauseAfterMs: number;
  /** A viewer's own reported loss, in percent, that moves it a layer down. */
  sfuLayerLossPercent: number;
  /** How long a broadcaster asked to publish to the SFU has to offer (ms). */
  sfuOfferTimeoutMs: number;
  /**
   * How long a viewer switching to the SFU (make before break) has to play
   * its SFU connection before it stays peer to peer (ms).
   */
  sfuSwitchTimeoutMs: number;
  /** Open WHIP and WHEP sessions (they hold no socket); more get HTTP 503. */
  maxHttpSessions: number;
  /**
   * A WHIP or WHEP session's ICE restarts (PATCH) at most one per this
   * interval (each one is work for Janus); sooner gets HTTP 429.
   */
  iceRestartIntervalMs: number;
  /**
   * A WebSocket upgrade that has not opened this long after it was answered
   * is released (its slot, its per-IP count): a client that reset the
   * connection mid-handshake never opens.
   */
  handshakeTimeoutMs: number;
  /** Largest WHIP/WHEP body (an offer, an answer or a trickle fragment), in bytes; more gets HTTP 413. */
  maxSdpBytes: number;
  /** Media sections (`m=` lines) in one SDP a client sends; more is refused (`bad-sdp`). */
  maxSdpMediaSections: number;
  /** Lines in one SDP a client sends; more is refused (`bad-sdp`). */
  maxSdpLines: number;
  /** UTF-8 bytes in one line of an SDP a client sends; longer is refused (`bad-sdp`). */
  maxSdpLineBytes: number;
  /**
   * A WHIP or WHEP session whose media has not connected to Janus this long
   * after its 201 ends (stream no longer live, Janus's room and handles
   * gone); so does one whose Janus handle hangs up.
   */
  mediaConnectTimeoutMs: number;
  /** Links between nodes, processes per machine (cluster/node-config.ts). */
  nodes: NodeConfig;
}

export const DEFAULT_CONFIG: Readonly<ServerConfig> = {
  port: 5000,
  hostname: "0.0.0.0",
  maxViewersPerStream: 50,
  maxMessageBytes: 64 * 1024,
  rateLimitPerSecond: 100,
  rateLimitBurst: 1000,
  rateLimitBytesPerSecond: 128 * 1024,
  rateLimitBytesBurst: 512 * 1024,
  rateLimitMaxRefusals: 20,
  rateLimitWindowMs: 10_000,
  heartbeatIntervalMs: 15_000,
  maxBufferedBytes: 1024 * 1024,
  maxConnections: 10_000,
  logLevel: "info",
  staticDir: undefined,
  signalSecret: undefined,
  allowedOrigins: undefined,
  maxConnectionsPerIp: 50,
  connectRatePerIpPerMinute: 60,
  connectBurstPerIp: 50,
  joinRatePerIpPerMinute: 120,
  joinBurstPerIp: 50,
  trustProxy: false,
  webhookUrl: undefined,
  webhookSecret: undefined,
  turnUrls: undefined,
  turnSecret: undefined,
  turnTtlSeconds: 3600,
  stunUrls: undefined,
  resumeSecret: undefined,
  resumeTtlSeconds: 120,
  stateDir: DEFAULT_STATE_DIR,
  reconnectGraceMs: 5_000,
  redisUrl: undefined,
  redisSentinels: undefined,
  redisSentinelPassword: undefined,
  redisKeyPrefix: "lw:",
  nodeTtlMs: 5_000,
  janusUrl: undefined,
  sfuAfterViewers: 3,
  sfuViewersPerInstance: 150,
  sfuLayerSwitchesPerSecond: DEFAULT_LAYER_LIMITS.switchesPerSecond,
  sfuLayerJitterMs: DEFAULT_LAYER_LIMITS.jitterMs,
  sfuLayerPauseAfterMs: DEFAULT_LAYER_LIMITS.pauseAfterMs,
  sfuLayerLossPercent: DEFAULT_LAYER_LIMITS.lossPercent,
  sfuOfferTimeoutMs: 5_000,
  sfuSwitchTimeoutMs: 10_000,
  maxHttpSessions: 1_000,
  iceRestartIntervalMs: 2_000,
  handshakeTimeoutMs: 10_000,
  maxSdpBytes: 64 * 1024,
  maxSdpMediaSections: DEFAULT_SDP_LIMITS.maxMediaSections,
  maxSdpLines: DEFAULT_SDP_LIMITS.maxLines,
  maxSdpLineBytes: DEFAULT_SDP_LIMITS.maxLineBytes,
  mediaConnectTimeoutMs: 20_000,
  nodes: DEFAULT_NODE_CONFIG,
};

/** Environment variable for each numeric setting. */
export const ENV_NAMES = {
  port: "PORT",
  maxViewersPerStream: "MAX_VIEWERS_PER_STREAM",
  maxMessageBytes: "MAX_MESSAGE_BYTES",
  rateLimitPerSecond: "RATE_LIMIT_PER_SECOND",
  rateLimitBurst: "RATE_LIMIT_BURST",
  rateLimitBytesPerSecond: "RATE_LIMIT_BYTES_PER_SECOND",
  rateLimitBytesBurst: "RATE_LIMIT_BYTES_BURST",
  rateLimitMaxRefusals: "RATE_LIMIT_MAX_REFUSALS",
  rateLimitWindowMs: "RATE_LIMIT_WINDOW_MS",
  heartbeatIntervalMs: "HEARTBEAT_INTERVAL_MS",
  maxBufferedBytes: "MAX_BUFFERED_BYTES",
  maxConnections: "MAX_CONNECTIONS",
  maxConnectionsPerIp: "MAX_CONNECTIONS_PER_IP",
  connectRatePerIpPerMinute: "CONNECT_RATE_PER_IP_PER_MINUTE",
  connectBurstPerIp: "CONNECT_BURST_PER_IP",
  joinRatePerIpPerMinute: "JOIN_RATE_PER_IP_PER_MINUTE",
  joinBurstPerIp: "JOIN_BURST_PER_IP",
  turnTtlSeconds: "TURN_TTL_SECONDS",
  resumeTtlSeconds: "RESUME_TTL_SECONDS",
  reconnectGraceMs: "RECONNECT_GRACE_MS",
  nodeTtlMs: "NODE_TTL_MS",
  sfuAfterViewers: "SFU_AFTER_VIEWERS",
  sfuViewersPerInstance: "SFU_VIEWERS_PER_INSTANCE",
  sfuLayerSwitchesPerSecond: "SFU_LAYER_SWITCHES_PER_SECOND",
  sfuLayerJitterMs: "SFU_LAYER_JITTER_MS",
  sfuLayerPauseAfterMs: "SFU_LAYER_PAUSE_AFTER_MS",
  sfuLayerLossPercent: "SFU_LAYER_LOSS_PERCENT",
  sfuOfferTimeoutMs: "SFU_OFFER_TIMEOUT_MS",
  sfuSwitchTimeoutMs: "SFU_SWITCH_TIMEOUT_MS",
  maxHttpSessions: "MAX_HTTP_SESSIONS",
  iceRestartIntervalMs: "ICE_RESTART_INTERVAL_MS",
  handshakeTimeoutMs: "HANDSHAKE_TIMEOUT_MS",
  maxSdpBytes: "MAX_SDP_BYTES",
  maxSdpMediaSections: "MAX_SDP_MEDIA_SECTIONS",
  maxSdpLines: "MAX_SDP_LINES",
  maxSdpLineBytes: "MAX_SDP_LINE_BYTES",
  mediaConnectTimeoutMs: "MEDIA_CONNECT_TIMEOUT_MS",
} as const satisfies Partial<Record<keyof ServerConfig, string>>;

const LOG_LEVELS: readonly LogLevel[] = [
  "debug",
  "info",
  "warn",
  "error",
  "silent",
];

/** Smallest accepted value per setting (port 0 means "any free port"). */
const MINIMUM: Record<keyof typeof ENV_NAMES, number> = {
  port: 0,
  maxViewersPerStream: 1,
  maxMessageBytes: 256,
  rateLimitPerSecond: 1,
  rateLimitBurst: 1,
  rateLimitBytesPerSecond: 1024,
  rateLimitBytesBurst: 1024,
  rateLimitMaxRefusals: 1,
  rateLimitWindowMs: 100,
  heartbeatIntervalMs: 100,
  maxBufferedBytes: 1024,
  maxConnections: 1,
  maxConnectionsPerIp: 1,
  connectRatePerIpPerMinute: 1,
  connectBurstPerIp: 1,
  joinRatePerIpPerMinute: 1,
  joinBurstPerIp: 1,
  turnTtlSeconds: 60,
  resumeTtlSeconds: 10,
  reconnectGraceMs: 0,
  nodeTtlMs: 300,
  sfuAfterViewers: 0,
  sfuViewersPerInstance: 1,
  sfuLayerSwitchesPerSecond: 1,
  sfuLayerJitterMs: 0,
  sfuLayerPauseAfterMs: 0,
  // Viewers report from 5% (components/media/inbound-watch.ts).
  sfuLayerLossPercent: 5,
  sfuOfferTimeoutMs: 100,
  sfuSwitchTimeoutMs: 100,
  maxHttpSessions: 1,
  iceRestartIntervalMs: 0,
  handshakeTimeoutMs: 100,
  maxSdpBytes: 1024,
  maxSdpMediaSections: 1,
  maxSdpLines: 10,
  maxSdpLineBytes: 100,
  mediaConnectTimeoutMs: 500,
};

/** Largest accepted value, for the settings that have one. */
const MAXIMUM: Partial<Record<keyof typeof ENV_NAMES, number>> = {
  port: 65535,
  sfuLayerLossPercent: 100,
};

/**
 * Reads the configuration from environment variables, falling back to
 * {@link DEFAULT_CONFIG}. Throws one error naming every bad variable, so a
 * typo stops the server at start instead of silently using a default.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
): ServerConfig {
  const config: ServerConfig = { ...DEFAULT_CONFIG };
  const problems: string[] = [];
  const set = new Set<keyof ServerConfig>();
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === "") continue;
    const setting = key as keyof typeof ENV_NAMES;
    const value = Number(raw);
    const max = MAXIMUM[setting] ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isInteger(value) || value < MINIMUM[setting] || value > max) {
      problems.push(
        `${name} must be an integer from ${MINIMUM[setting]} to ${max}, got ${
          JSON.stringify(raw)
        }`,
      );
      continue;
    }
    config[setting] = value;
    set.add(setting);
  }
  const hostname = env.HOSTNAME?.trim();
  if (hostname) config.hostname = hostname;
  // Checked when used: with a secret it never is.
  const stateDir = env.STATE_DIR?.trim();
  if (stateDir) config.stateDir = stateDir;
  const staticDir = env.STATIC_DIR?.trim();
  if (staticDir) {
    try {
      if (!Deno.statSync(staticDir).isDirectory) throw new Error();
      config.staticDir = staticDir;
    } catch {
      problems.push(
        `STATIC_DIR must be a directory, got ${JSON.stringify(staticDir)}`,
      );
    }
  }
  const level = env.LOG_LEVEL?.trim().toLowerCase();
  if (level) {
    if ((LOG_LEVELS as readonly string[]).includes(level)) {
      config.logLevel = level as LogLevel;
    } else {
      problems.push(
        `LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got ${
          JSON.stringify(level)
        }`,
      );
    }
  }
  if (config.rateLimitBytesBurst < config.maxMessageBytes) {
    problems.push(
      "RATE_LIMIT_BYTES_BURST must be at least MAX_MESSAGE_BYTES, or the largest frames could never pass",
    );
  }
  readSecurity(env, config, problems);
  readCluster(env, config, problems);
  config.nodes = readNodeConfig(env, config, problems);
  followTopology(config, set);
  if (problems.length > 0) {
    throw new Error(`Invalid configuration: ${problems.join("; ")}`);
  }
  return config;
}

/** The SDP limits of `config`, as the checks in protocol/sdp-check.ts take them. */
export function sdpLimits(config: ServerConfig): SdpLimits {
  return {
    maxMediaSections: config.maxSdpMediaSections,
    maxLines: config.maxSdpLines,
    maxLineBytes: config.maxSdpLineBytes,
  };
}

/** The host of a valid `url` when it is a name, not an address. */
function primaryName(url: string | undefined): string | undefined {
  const host = url && new URL(url).hostname;
  return host && !/^(\d+\.){3}\d+$|^\[/.test(host) ? host : undefined;
}

/** `host:port` (IPv6 in brackets), or undefined when it is not one. */
function sentinelAddress(
  text: string,
): { host: string; port: number } | undefined {
  const match = /^\s*(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})\s*$/.exec(
    text,
  );
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65_535) return undefined;
  return { host: match[1] ?? match[2], port };
}

function readCluster(
  env: Readonly<Record<string, string | undefined>>,
  config: ServerConfig,
  problems: string[],
): void {
  const url = env.REDIS_URL?.trim();
  if (url) {
    const protocol = URL.canParse(url) ? new URL(url).protocol : "";
    if (protocol !== "redis:" && protocol !== "rediss:") {
      problems.push(
        `REDIS_URL must be a redis:// or rediss:// URL, got ${
          JSON.stringify(url.replace(/\/\/[^@/]*@/, "//…@"))
        }`,
      );
    } else config.redisUrl = url;
  }
  const sentinels = env.REDIS_SENTINELS?.trim();
  if (sentinels) {
    const parsed = sentinels.split(",").map(sentinelAddress);
    if (parsed.some((address) => address === undefined)) {
      problems.push(
        `REDIS_SENTINELS must be comma-separated host:port pairs (IPv6 as [::1]:26379), got ${
          JSON.stringify(sentinels)
        }`,
      );
    } else if (!primaryName(config.redisUrl)) {
      // Unset, or naming an address: the Sentinels would know no such name,
      // and the node would ask them for good.
      problems.push(
        "REDIS_SENTINELS needs REDIS_URL, whose host is the name the Sentinels know the primary by (redis://:password@mymaster), not an address",
      );
    } else config.redisSentinels = parsed as { host: string; port: number }[];
  }
  const sentinelPassword = env.REDIS_SENTINEL_PASSWORD;
  if (sentinelPassword && !sentinels) {
    problems.push("REDIS_SENTINEL_PASSWORD is for REDIS_SENTINELS, unset");
  } else config.redisSentinelPassword = sentinelPassword || undefined;
  const janus = env.JANUS_URL?.trim();
  if (janus) {
    const bad = janusUrls(janus).find((url) => {
      const protocol = URL.canParse(url) ? new URL(url).protocol : "";
      return protocol !== "ws:" && protocol !== "wss:";
    });
    if (bad !== undefined || janusUrls(janus).length === 0) {
      problems.push(
        `JANUS_URL must be Janus's WebSocket API, ws:// or wss:// (several comma-separated), got ${
          JSON.stringify(bad ?? janus)
        }`,
      );
    } else config.janusUrl = janus;
  }
  const prefix = env.REDIS_KEY_PREFIX;
  if (prefix !== undefined && prefix !== "") {
    if (!/^[A-Za-z0-9_.:-]{1,32}$/.test(prefix)) {
      problems.push(
        `REDIS_KEY_PREFIX must be 1-32 characters of [A-Za-z0-9_.:-], got ${
          JSON.stringify(prefix)
        }`,
      );
    } else config.redisKeyPrefix = prefix;
  }
}
