/** Environment variables in, a checked configuration out. */
import assert from "node:assert/strict";
import { NODE_ENV_NAMES } from "../../server/cluster/node-config.ts";
import {
  DEFAULT_CONFIG,
  ENV_NAMES,
  janusUrls,
  loadConfig,
} from "../../server/config.ts";

Deno.test("defaults when nothing is set", () => {
  assert.deepEqual(loadConfig({}), DEFAULT_CONFIG);
  assert.equal(DEFAULT_CONFIG.port, 5000);
  assert.equal(DEFAULT_CONFIG.hostname, "0.0.0.0");
  assert.equal(DEFAULT_CONFIG.maxViewersPerStream, 50);
  assert.equal(DEFAULT_CONFIG.maxMessageBytes, 65536);
});

Deno.test("every variable is read", () => {
  const config = loadConfig({
    PORT: "8080",
    HOSTNAME: "127.0.0.1",
    MAX_VIEWERS_PER_STREAM: "10",
    MAX_MESSAGE_BYTES: "4096",
    RATE_LIMIT_PER_SECOND: "5",
    RATE_LIMIT_BURST: "20",
    RATE_LIMIT_BYTES_PER_SECOND: "2048",
    RATE_LIMIT_BYTES_BURST: "8192",
    RATE_LIMIT_MAX_REFUSALS: "7",
    RATE_LIMIT_WINDOW_MS: "2000",
    HEARTBEAT_INTERVAL_MS: "1000",
    MAX_BUFFERED_BYTES: "65536",
    MAX_CONNECTIONS: "100",
    LOG_LEVEL: "DEBUG",
    STATIC_DIR: ".",
    SIGNAL_SECRET: "s".repeat(32),
    ALLOWED_ORIGINS: "https://shop.example, https://*.example.com",
    MAX_CONNECTIONS_PER_IP: "5",
    CONNECT_RATE_PER_IP_PER_MINUTE: "30",
    CONNECT_BURST_PER_IP: "4",
    JOIN_RATE_PER_IP_PER_MINUTE: "10",
    JOIN_BURST_PER_IP: "3",
    TRUST_PROXY: "1",
    WEBHOOK_URL: "http://127.0.0.1:9/hook",
    WEBHOOK_SECRET: "w",
    TURN_URLS: "turn:127.0.0.1:3478",
    TURN_SECRET: "t",
    TURN_TTL_SECONDS: "600",
    STUN_URLS: "stun:127.0.0.1:3478",
    RESUME_SECRET: "r".repeat(32),
    RESUME_TTL_SECONDS: "90",
    STATE_DIR: "/var/lib/live-widgets",
    RECONNECT_GRACE_MS: "2500",
    REDIS_URL: "rediss://user:pw@redis.internal:6380/0",
    REDIS_KEY_PREFIX: "shop1:",
    REDIS_SENTINELS: "10.0.0.7:26379",
    REDIS_SENTINEL_PASSWORD: "sp",
    NODE_TTL_MS: "3000",
    SFU_AFTER_VIEWERS: "0",
    SFU_VIEWERS_PER_INSTANCE: "80",
    SFU_LAYER_SWITCHES_PER_SECOND: "5",
    SFU_LAYER_JITTER_MS: "100",
    SFU_LAYER_PAUSE_AFTER_MS: "2000",
    SFU_LAYER_LOSS_PERCENT: "20",
    SFU_OFFER_TIMEOUT_MS: "3000",
    SFU_SWITCH_TIMEOUT_MS: "20000",
    MAX_HTTP_SESSIONS: "50",
    ICE_RESTART_INTERVAL_MS: "500",
    HANDSHAKE_TIMEOUT_MS: "3000",
    MAX_SDP_BYTES: "32768",
    MAX_SDP_MEDIA_SECTIONS: "4",
    MAX_SDP_LINES: "500",
    MAX_SDP_LINE_BYTES: "512",
    MEDIA_CONNECT_TIMEOUT_MS: "8000",
    NODE_LINKS: "on",
    NODE_LINK_HOST: "0.0.0.0",
    NODE_LINK_PORT: "7001",
    NODE_LINK_URL: "tcp://10.0.0.5:7001",
    CLUSTER_SECRET: "c".repeat(32),
    NODE_LINK_QUEUE_BYTES: "1048576",
    NODE_LINK_MAX_FRAME_BYTES: "65536",
    NODE_LINK_CONNECT_TIMEOUT_MS: "500",
    NODE_LINK_RETRY_MS: "250",
    NODE_LINK_ROUTES: "1000",
    NODE_LINK_MAX_PENDING: "16",
    PROCESSES: "2",
    REUSE_PORT: "1",
  });
  assert.deepEqual(config, {
    port: 8080,
    hostname: "127.0.0.1",
    maxViewersPerStream: 10,
    maxMessageBytes: 4096,
    rateLimitPerSecond: 5,
    rateLimitBurst: 20,
    rateLimitBytesPerSecond: 2048,
    rateLimitBytesBurst: 8192,
    rateLimitMaxRefusals: 7,
    rateLimitWindowMs: 2000,
    heartbeatIntervalMs: 1000,
    maxBufferedBytes: 65536,
    maxConnections: 100,
    logLevel: "debug",
    staticDir: ".",
    signalSecret: "s".repeat(32),
    allowedOrigins: ["https://shop.example", "https://*.example.com"],
    maxConnectionsPerIp: 5,
    connectRatePerIpPerMinute: 30,
    connectBurstPerIp: 4,
    joinRatePerIpPerMinute: 10,
    joinBurstPerIp: 3,
    trustProxy: true,
    webhookUrl: "http://127.0.0.1:9/hook",
    webhookSecret: "w",
    turnUrls: ["turn:127.0.0.1:3478"],
    turnSecret: "t",
    turnTtlSeconds: 600,
    stunUrls: ["stun:127.0.0.1:3478"],
    resumeSecret: "r".repeat(32),
    resumeTtlSeconds: 90,
    stateDir: "/var/lib/live-widgets",
    reconnectGraceMs: 2500,
    redisUrl: "rediss://user:pw@redis.internal:6380/0",
    redisKeyPrefix: "shop1:",
    redisSentinels: [{ host: "10.0.0.7", port: 26379 }],
    redisSentinelPassword: "sp",
    nodeTtlMs: 3000,
    janusUrl: undefined,
    sfuAfterViewers: 0,
    sfuViewersPerInstance: 80,
    sfuLayerSwitchesPerSecond: 5,
    sfuLayerJitterMs: 100,
    sfuLayerPauseAfterMs: 2000,
    sfuLayerLossPercent: 20,
    sfuOfferTimeoutMs: 3000,
    sfuSwitchTimeoutMs: 20000,
    maxHttpSessions: 50,
    iceRestartIntervalMs: 500,
    handshakeTimeoutMs: 3000,
    maxSdpBytes: 32768,
    maxSdpMediaSections: 4,
    maxSdpLines: 500,
    maxSdpLineBytes: 512,
    mediaConnectTimeoutMs: 8000,
    nodes: {
      links: true,
      linkHost: "0.0.0.0",
      linkPort: 7001,
      linkUrl: "tcp://10.0.0.5:7001",
      clusterSecret: "c".repeat(32),
      linkQueueBytes: 1048576,
      linkMaxFrameBytes: 65536,
      linkConnectTimeoutMs: 500,
      linkRetryMs: 250,
      linkRoutes: 1000,
      linkMaxPending: 16,
      processes: 2,
      reusePort: true,
    },
  });
});

Deno.test("bad values stop the start with every culprit named", () => {
  assert.throws(
    () =>
      loadConfig({
        PORT: "70000",
        MAX_VIEWERS_PER_STREAM: "0",
        MAX_MESSAGE_BYTES: "64k",
        LOG_LEVEL: "loud",
        STATIC_DIR: "/no/such/dir",
        SIGNAL_SECRET: "too-short",
        ALLOWED_ORIGINS: "shop.example",
        WEBHOOK_URL: "http://127.0.0.1:9/hook",
        TURN_URLS: "turn:127.0.0.1:3478",
      }),
    (error: Error) => {
      for (
        const name of [
          "PORT",
          "MAX_VIEWERS_PER_STREAM",
          "MAX_MESSAGE_BYTES",
          "LOG_LEVEL",
          "STATIC_DIR",
          "SIGNAL_SECRET",
          "ALLOWED_ORIGINS",
          "WEBHOOK_SECRET",
          "TURN_SECRET",
        ]
      ) {
        assert.match(error.message, new RegExp(name));
      }
      return true;
    },
  );
});

Deno.test("SFU_LAYER_LOSS_PERCENT is a percentage from 5 (what viewers report from) to 100", () => {
  assert.equal(loadConfig({}).sfuLayerLossPercent, 10);
  assert.equal(
    loadConfig({ SFU_LAYER_LOSS_PERCENT: "100" }).sfuLayerLossPercent,
    100,
  );
  for (const raw of ["4", "101", "7.5"]) {
    assert.throws(
      () => loadConfig({ SFU_LAYER_LOSS_PERCENT: raw }),
      /SFU_LAYER_LOSS_PERCENT must be an integer from 5 to 100/,
      raw,
    );
  }
});

Deno.test("RESUME_SECRET must be long enough; RECONNECT_GRACE_MS may be 0", () => {
  assert.throws(
    () => loadConfig({ RESUME_SECRET: "short" }),
    /RESUME_SECRET must be at least 32 bytes/,
  );
  assert.equal(loadConfig({ RECONNECT_GRACE_MS: "0" }).reconnectGraceMs, 0);
  assert.throws(
    () => loadConfig({ RESUME_TTL_SECONDS: "5" }),
    /RESUME_TTL_SECONDS must be an integer from 10/,
  );
});

Deno.test("REDIS_URL must be redis:// or rediss:// and its password stays out of the error", () => {
  assert.equal(loadConfig({}).redisUrl, undefined);
  assert.equal(
    loadConfig({ REDIS_URL: "redis://127.0.0.1:6379" }).redisUrl,
    "redis://127.0.0.1:6379",
  );
  assert.throws(
    () => loadConfig({ REDIS_URL: "http://user:hunter2@redis:6379" }),
    (error: Error) => {
      assert.match(
        error.message,
        /REDIS_URL must be a redis:\/\/ or rediss:\/\//,
      );
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    },
  );
  assert.throws(
    () => loadConfig({ REDIS_KEY_PREFIX: "has space" }),
    /REDIS_KEY_PREFIX must be 1-32 characters/,
  );
  assert.throws(
    () => loadConfig({ NODE_TTL_MS: "100" }),
    /NODE_TTL_MS must be an integer from 300/,
  );
});

Deno.test("REDIS_SENTINELS: host:port pairs (IPv6 in brackets), with REDIS_URL naming the primary", () => {
  const config = loadConfig({
    REDIS_URL: "redis://:pw@mymaster",
    REDIS_SENTINELS: "10.0.0.5:26379, sentinel-b:26380,[::1]:26381",
    REDIS_SENTINEL_PASSWORD: "s3cret",
  });
  assert.deepEqual(config.redisSentinels, [
    { host: "10.0.0.5", port: 26379 },
    { host: "sentinel-b", port: 26380 },
    { host: "::1", port: 26381 },
  ]);
  assert.equal(config.redisSentinelPassword, "s3cret");
  assert.equal(loadConfig({}).redisSentinels, undefined);
  for (const bad of ["10.0.0.5", "a:0", "a:65536", "a:26379,", "::1:26379"]) {
    assert.throws(
      () => loadConfig({ REDIS_URL: "redis://m", REDIS_SENTINELS: bad }),
      /REDIS_SENTINELS must be comma-separated host:port pairs/,
      bad,
    );
  }
  for (
    const url of [undefined, "redis://10.0.0.5:6379", "redis://[::1]:6379"]
  ) {
    assert.throws(
      () => loadConfig({ REDIS_URL: url, REDIS_SENTINELS: "10.0.0.5:26379" }),
      /REDIS_SENTINELS needs REDIS_URL, whose host is the name/,
      url,
    );
  }
  assert.throws(
    () => loadConfig({ REDIS_URL: "redis://m", REDIS_SENTINEL_PASSWORD: "x" }),
    /REDIS_SENTINEL_PASSWORD is for REDIS_SENTINELS, unset/,
  );
});

Deno.test("JANUS_URL must be a ws:// URL, and not with REDIS_URL yet", () => {
  assert.equal(
    loadConfig({ JANUS_URL: "ws://127.0.0.1:8188/" }).janusUrl,
    "ws://127.0.0.1:8188/",
  );
  assert.throws(
    () => loadConfig({ JANUS_URL: "http://127.0.0.1:8088/janus" }),
    /JANUS_URL must be Janus's WebSocket API/,
  );
  // Several instances, comma-separated: each must be one.
  const several = loadConfig({
    JANUS_URL: " ws://10.0.0.1:8188/ , wss://janus-2.internal/ ",
  }).janusUrl!;
  assert.deepEqual(janusUrls(several), [
    "ws://10.0.0.1:8188/",
    "wss://janus-2.internal/",
  ]);
  assert.throws(
    () => loadConfig({ JANUS_URL: "ws://10.0.0.1:8188/,10.0.0.2:8188" }),
    /JANUS_URL must be .*got "10.0.0.2:8188"/,
  );
  assert.throws(
    () => loadConfig({ JANUS_URL: " , " }),
    /JANUS_URL must be/,
  );
  const both = loadConfig({
    JANUS_URL: "ws://127.0.0.1:8188/",
    REDIS_URL: "redis://127.0.0.1:6379",
  });
  assert.equal(both.janusUrl, "ws://127.0.0.1:8188/");
  assert.equal(both.redisUrl, "redis://127.0.0.1:6379");
  assert.equal(loadConfig({}).sfuAfterViewers, 3);
});

Deno.test("every numeric variable is in docs/server.md's configuration table", async () => {
  const readme = await Deno.readTextFile(
    new URL("../../docs/server.md", import.meta.url),
  );
  const names = [
    ...Object.values(ENV_NAMES),
    ...Object.values(NODE_ENV_NAMES).map(([name]) => name),
  ];
  for (const name of names) {
    assert.match(readme, new RegExp(`^\\| \`${name}\` +\\|`, "m"), name);
  }
});

Deno.test("limits follow the topology unless set: a full stream fits behind one address", () => {
  const limits = (env: Record<string, string>) => {
    const config = loadConfig(env);
    return [
      config.maxViewersPerStream,
      config.maxConnectionsPerIp,
      config.connectBurstPerIp,
      config.joinBurstPerIp,
    ];
  };
  const janus = { JANUS_URL: "ws://127.0.0.1:8188/" };
  // Peer to peer: the broadcaster's uplink caps the audience.
  assert.deepEqual(limits({}), [50, 50, 50, 50]);
  // One Janus instance carries 150 viewers of a stream.
  assert.deepEqual(limits(janus), [150, 150, 150, 150]);
  assert.deepEqual(
    limits({ ...janus, SFU_VIEWERS_PER_INSTANCE: "300" }),
    [300, 300, 300, 300],
  );
  // Two instances: a stream cascades over both.
  assert.deepEqual(
    limits({ JANUS_URL: "ws://10.0.0.1:8188/,ws://10.0.0.2:8188/" }),
    [300, 300, 300, 300],
  );
  // What is set wins; the per-address cap never follows below 50.
  assert.deepEqual(
    limits({
      ...janus,
      MAX_VIEWERS_PER_STREAM: "20",
      CONNECT_BURST_PER_IP: "5",
    }),
    [20, 50, 5, 50],
  );
  assert.deepEqual(
    limits({ MAX_CONNECTIONS_PER_IP: "400" }),
    [50, 400, 400, 400],
  );
});
