/**
 * The wiring: every service a signaling server runs on, built from its
 * configuration (the directory in memory or Redis, admission, tokens, the
 * audit trail, the SFU's gateway and relay, the router, WHIP and WHEP),
 * without listening. `startSignalingServer` puts HTTP in front of it; tests
 * and benches that need the parts without a port build them here.
 */
import { P2P_MAX_VIEWERS } from "./topology-limits.ts";
import { Admission } from "./security/admission.ts";
import { AuditTrail } from "./observe/audit.ts";
import { newClientId } from "./signaling/client-id.ts";
import { janusUrls, sdpLimits, type ServerConfig } from "./config.ts";
import { Connection } from "./signaling/connection.ts";
import { IpLimits } from "./security/ip-limits.ts";
import { type Logger } from "./observe/logger.ts";
import { Metrics } from "./observe/metrics.ts";
import { type Delivery, LOCAL_DELIVERY } from "./signaling/delivery.ts";
import type { RedisCluster } from "./cluster/redis-cluster.ts";
import { linkOptions } from "./cluster/cluster-links.ts";
import type { MediaEvent } from "./sfu/sfu-gateway.ts";
import { type LostEvent, SfuPool } from "./sfu/sfu-pool.ts";
import { SfuRelay } from "./sfu/sfu-relay.ts";
import { LocalClients } from "./signaling/local-clients.ts";
import { Postman } from "./signaling/postman.ts";
import { SessionEndpoint } from "./http/session-endpoint.ts";
import { IceRestartElsewhere, type SessionHost } from "./http/session-host.ts";
import { WHEP, type WhepSession } from "./http/whep.ts";
import { WHIP, type WhipSession } from "./http/whip.ts";
import { ResumeTokens } from "./security/resume-token.ts";
import { loadStateKey } from "./security/state-key.ts";
import {
  type RouterOptions,
  SignalingRouter,
} from "./signaling/signaling-router.ts";
import { type OriginCheck, originCheck } from "./security/origins.ts";
import { StreamRegistry } from "./signaling/stream-registry.ts";
import { secretKey } from "./security/tokens.ts";
import { TurnCredentials } from "./security/turn-credentials.ts";
import { WebhookSender } from "./observe/webhook.ts";
import { handleGuarded } from "./signaling/handler-guard.ts";
import { DEFAULT_LAYER_LIMITS } from "./sfu/layer-policy.ts";

/** What `buildServices` made (the names are the ones the server uses). */
export interface Services {
  metrics: Metrics;
  cluster: RedisCluster | undefined;
  registry: StreamRegistry | undefined;
  webhook: WebhookSender | undefined;
  audit: AuditTrail;
  ipLimits: IpLimits;
  admission: Admission;
  resumeTokens: ResumeTokens;
  gateway: SfuPool | undefined;
  delivery: Delivery;
  clients: LocalClients;
  postman: Postman;
  sfu: SfuRelay | undefined;
  router: SignalingRouter;
  allowedOrigin: OriginCheck;
  socketless: SessionHost | undefined;
  whip: SessionEndpoint<WhipSession> | undefined;
  whep: SessionEndpoint<WhepSession> | undefined;
  sweep: ReturnType<typeof setInterval>;
  connections: Map<string, Connection>;
}

/** Parts a test may put in place of the real ones. */
export interface ServiceHooks {
  /** Builds the router (a test's subclass that breaks on purpose, say). */
  router?: (options: RouterOptions) => SignalingRouter;
}

export function buildServices(
  config: ServerConfig,
  logger: Logger,
  hooks: ServiceHooks = {},
  /** With REDIS_URL: the cluster's class (signaling-server.ts's redisClusterFor). */
  redisCluster?: typeof RedisCluster,
): Services {
  if (config.redisUrl && !redisCluster) {
    throw new Error(
      "REDIS_URL is set but the Redis cluster was not loaded (redisClusterFor)",
    );
  }
  // One node without a secret keeps its resume key in STATE_DIR; read
  // before anything starts, so an unusable directory stops the start
  // cleanly (StateDirError).
  const stateKey = !config.redisUrl && !config.resumeSecret &&
      !config.signalSecret
    ? loadStateKey(config.stateDir)
    : undefined;
  if (stateKey) {
    const { path, created, tightened } = stateKey;
    logger.info("resume-key", { path, created });
    if (tightened) logger.warn("resume-key-mode-tightened", { path });
  }
  const metrics = new Metrics();
  const cluster = config.redisUrl && redisCluster
    ? new redisCluster({
      redis: {
        url: config.redisUrl,
        sentinels: config.redisSentinels,
        sentinelPassword: config.redisSentinelPassword,
      },
      prefix: config.redisKeyPrefix,
      nodeTtlMs: config.nodeTtlMs,
      links: linkOptions(config.nodes),
      logger,
      metrics,
      // Without a configured key, claims must still verify on every node.
      resumeKey: config.resumeSecret ?? config.signalSecret
        ? undefined
        : Array.from(
          crypto.getRandomValues(new Uint8Array(32)),
          (b) => b.toString(16).padStart(2, "0"),
        ).join(""),
    })
    : undefined;
  const registry = cluster ? undefined : new StreamRegistry();
  const webhook = config.webhookUrl && config.webhookSecret
    ? new WebhookSender({
      url: config.webhookUrl,
      secret: config.webhookSecret,
      logger,
    })
    : undefined;
  const audit = new AuditTrail(
    logger,
    webhook ? [(event) => webhook.send(event)] : [],
  );
  const ipLimits = new IpLimits({
    maxConnections: config.maxConnectionsPerIp,
    connectsPerMinute: config.connectRatePerIpPerMinute,
    connectBurst: config.connectBurstPerIp,
    joinsPerMinute: config.joinRatePerIpPerMinute,
    joinBurst: config.joinBurstPerIp,
  });
  const admission = new Admission({
    ipLimits,
    audit,
    tokenKey: config.signalSecret ? secretKey(config.signalSecret) : undefined,
    turn: config.turnUrls && config.turnSecret
      ? new TurnCredentials({
        urls: config.turnUrls,
        secret: config.turnSecret,
        ttlSeconds: config.turnTtlSeconds,
        stunUrls: config.stunUrls,
      })
      : undefined,
  });
  const resumeTokens = new ResumeTokens(
    config.resumeSecret ?? config.signalSecret,
    config.resumeTtlSeconds,
  );
  if (stateKey) resumeTokens.useSharedKey(stateKey.hexKey);
  const gateway = config.janusUrl
    ? new SfuPool(janusUrls(config.janusUrl), logger, {
      capPerInstance: config.sfuViewersPerInstance,
    })
    : undefined;
  gateway?.start();
  // Every node's load on each instance: a new stream goes where the
  // cluster as a whole is least loaded.
  if (gateway && cluster) cluster.sfuLoad.start(gateway);
  const delivery = cluster ?? LOCAL_DELIVERY;
  // This node's clients, and the postman that reaches them or their node:
  // the router and the SFU relay's later steps send through it.
  const clients = new LocalClients();
  const postman = new Postman(clients, delivery);
  // With a cluster, each stream's SFU state is driven on its broadcaster's
  // node and kept in Redis for the node that takes it over.
  const sfu = gateway &&
    new SfuRelay({
      gateway,
      ...(cluster ? { store: cluster.sfuStore } : {}),
      logger,
      metrics,
      post: (out) => postman.post(out),
      afterViewers: config.sfuAfterViewers,
      directMax: Math.min(config.maxViewersPerStream, P2P_MAX_VIEWERS),
      offerTimeoutMs: config.sfuOfferTimeoutMs,
      switchTimeoutMs: config.sfuSwitchTimeoutMs,
      layers: {
        ...DEFAULT_LAYER_LIMITS,
        switchesPerSecond: config.sfuLayerSwitchesPerSecond,
        jitterMs: config.sfuLayerJitterMs,
        pauseAfterMs: config.sfuLayerPauseAfterMs,
        lossPercent: config.sfuLayerLossPercent,
      },
    });
  const makeRouter = hooks.router ??
    ((options: RouterOptions) => new SignalingRouter(options));
  const router: SignalingRouter = makeRouter({
    sfu,
    clients,
    postman,
    directory: cluster?.directory ?? registry!,
    delivery,
    metrics,
    logger,
    admission,
    audit,
    maxViewersPerStream: config.maxViewersPerStream,
    resumeTokens,
    reconnectGraceMs: config.reconnectGraceMs,
  });
  const allowedOrigin = originCheck(config.allowedOrigins);
  // WHIP publishers: broadcasters without a socket, through the SFU only.
  const socketless: SessionHost | undefined = gateway && {
    sfuUp: () => gateway.up,
    newId: () => newClientId((candidate) => connections.has(candidate)),
    connected: (peer) => router.connected(peer),
    // A failure is logged and refused; it rejects too, for a PATCH that
    // waits on it (a 500); the calls that do not wait catch it (`handOn`).
    handle: (peer, message) =>
      handleGuarded(router, logger, peer, message, undefined, true),
    leave: (peer, cause) => router.leave(peer, cause),
    originAllowed: (origin) => allowedOrigin(origin),
    roomForSession: (): boolean =>
      (whip?.size ?? 0) + (whep?.size ?? 0) < config.maxHttpSessions,
    ice: {
      publisher: async (streamId, sdp) =>
        (await gateway.restartPublisher(streamId, { type: "offer", sdp })).sdp,
      subscriber: async (streamId, viewerId) => {
        // Driven on another node (its broadcaster's): not from here.
        if (cluster && sfu?.phaseOf(streamId) === undefined) {
          throw new IceRestartElsewhere(streamId);
        }
        return (await gateway.restartSubscriber(streamId, viewerId)).sdp;
      },
      answer: (streamId, viewerId, sdp) =>
        gateway.answer(streamId, viewerId, { type: "answer", sdp }),
    },
    iceRestartIntervalMs: config.iceRestartIntervalMs,
    maxSessions: config.maxHttpSessions,
    maxSdpBytes: config.maxSdpBytes,
    sdpLimits: sdpLimits(config),
    mediaConnectTimeoutMs: config.mediaConnectTimeoutMs,
    logger,
  };
  const whip: SessionEndpoint<WhipSession> | undefined = socketless &&
    new SessionEndpoint(socketless, WHIP);
  // WHEP players: viewers without a socket, through the SFU only.
  const whep: SessionEndpoint<WhepSession> | undefined = socketless &&
    new SessionEndpoint(socketless, WHEP);
  gateway?.events.addEventListener("media", (event) => {
    const detail = (event as CustomEvent<MediaEvent>).detail;
    whip?.media(detail);
    whep?.media(detail);
  });
  // Their Janus instance is gone, and with it their media: a WHIP or WHEP
  // client cannot be offered anew, it is ended and comes back by itself.
  gateway?.events.addEventListener("lost", (event) => {
    const { streams } = (event as CustomEvent<LostEvent>).detail;
    whip?.endStreams(streams, "sfu-down");
    whep?.endStreams(streams, "sfu-down");
  });
  // Addresses that left and whose join bucket refilled are forgotten.
  const sweep = setInterval(() => ipLimits.sweep(performance.now()), 60_000);
  Deno.unrefTimer(sweep);
  const connections = new Map<string, Connection>();
  return {
    metrics,
    cluster,
    registry,
    webhook,
    audit,
    ipLimits,
    admission,
    resumeTokens,
    gateway,
    delivery,
    clients,
    postman,
    sfu,
    router,
    allowedOrigin,
    socketless,
    whip,
    whep,
    sweep,
    connections,
  };
}
