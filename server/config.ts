/**
 * Server configuration. Every limit the server enforces is here, named after
 * the environment variable that sets it, so the README table, the tests and
 * the code share one vocabulary.
 */
import type { LogLevel } from "./logger.ts";

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
}

export const DEFAULT_CONFIG: Readonly<ServerConfig> = {
  port: 5000,
  hostname: "0.0.0.0",
  maxViewersPerStream: 50,
  maxMessageBytes: 64 * 1024,
  rateLimitPerSecond: 100,
  rateLimitBurst: 1000,
  rateLimitMaxRefusals: 100,
  rateLimitWindowMs: 10_000,
  heartbeatIntervalMs: 15_000,
  maxBufferedBytes: 1024 * 1024,
  maxConnections: 10_000,
  logLevel: "info",
  staticDir: undefined,
};

/** Environment variable for each numeric setting. */
export const ENV_NAMES = {
  port: "PORT",
  maxViewersPerStream: "MAX_VIEWERS_PER_STREAM",
  maxMessageBytes: "MAX_MESSAGE_BYTES",
  rateLimitPerSecond: "RATE_LIMIT_PER_SECOND",
  rateLimitBurst: "RATE_LIMIT_BURST",
  rateLimitMaxRefusals: "RATE_LIMIT_MAX_REFUSALS",
  rateLimitWindowMs: "RATE_LIMIT_WINDOW_MS",
  heartbeatIntervalMs: "HEARTBEAT_INTERVAL_MS",
  maxBufferedBytes: "MAX_BUFFERED_BYTES",
  maxConnections: "MAX_CONNECTIONS",
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
  rateLimitMaxRefusals: 1,
  rateLimitWindowMs: 100,
  heartbeatIntervalMs: 100,
  maxBufferedBytes: 1024,
  maxConnections: 1,
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
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === "") continue;
    const setting = key as keyof typeof ENV_NAMES;
    const value = Number(raw);
    const max = setting === "port" ? 65535 : Number.MAX_SAFE_INTEGER;
    if (!Number.isInteger(value) || value < MINIMUM[setting] || value > max) {
      problems.push(
        `${name} must be an integer from ${MINIMUM[setting]} to ${max}, got ${
          JSON.stringify(raw)
        }`,
      );
      continue;
    }
    config[setting] = value;
  }
  const hostname = env.HOSTNAME?.trim();
  if (hostname) config.hostname = hostname;
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
  if (problems.length > 0) {
    throw new Error(`Invalid configuration: ${problems.join("; ")}`);
  }
  return config;
}
