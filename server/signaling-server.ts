/**
 * Starts the signaling server: HTTP routes plus one {@link Connection} per
 * WebSocket, all sharing one registry and router. Importable (tests and
 * benchmarks start it on port 0); `main.ts` is the command-line entry.
 */
import { buildServices } from "./services.ts";
import { newClientId } from "./signaling/client-id.ts";
import { type ServerConfig } from "./config.ts";
import { Connection, type ConnectionContext } from "./signaling/connection.ts";
import { createHttpHandler, type Refusal } from "./http/http-handler.ts";
import { createLogger, type Logger } from "./observe/logger.ts";
import { type Gauges, Metrics } from "./observe/metrics.ts";
import type { RedisCluster } from "./cluster/redis-cluster.ts";
import type { SfuPool } from "./sfu/sfu-pool.ts";
import { RESUMED_CLOSE_CODE } from "./signaling/signaling-router.ts";
import { StreamRegistry } from "./signaling/stream-registry.ts";
import { unroutableError } from "./signaling/media-route.ts";

export interface SignalingServer {
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number;
  readonly hostname: string;
  /**
   * Read-only use in tests: who is in which stream. One process only: with
   * REDIS_URL the directory is in Redis, and reading this throws.
   */
  readonly registry: StreamRegistry;
  /** With REDIS_URL: this node's membership in the cluster. */
  readonly cluster: RedisCluster | undefined;
  /** With JANUS_URL: this server's use of Janus. */
  readonly sfu: SfuPool | undefined;
  readonly metrics: Metrics;
  /** Open connections by client id. */
  readonly connections: ReadonlyMap<string, Connection>;
  /** Fires `connection-closed` (a CustomEvent with the client id) per connection. */
  readonly events: EventTarget;
  /**
   * Closes every socket with 1012 (service restart) and tells nobody anyone
   * left: clients reconnect to the next process and resume. Then stops
   * listening.
   */
  shutdown(): Promise<void>;
  /** Settles when the HTTP server has stopped. */
  readonly finished: Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Serves every path that is not /ws, /healthz or /metrics (bundles, pages). */
  files?: (request: Request) => Promise<Response | undefined>;
  /**
   * A second, HTTPS listener on the same rooms (the dev server's, so a phone
   * on the LAN may use its camera, which browsers allow only over HTTPS).
   */
  tls?: { port: number; cert: string; key: string };
  /** With REDIS_URL: the cluster's class, from {@link redisClusterFor}. */
  redisCluster?: typeof RedisCluster;
}

/**
 * The Redis cluster's class when the configuration has REDIS_URL, loaded
 * only then: ioredis costs one node that never uses it ~25 ms and ~9 MiB
 * at every start (bench/server-start.ts).
 */
export async function redisClusterFor(
  config: ServerConfig,
): Promise<typeof RedisCluster | undefined> {
  if (!config.redisUrl) return undefined;
  return (await import("./cluster/redis-cluster.ts")).RedisCluster;
}

type Lifecycle = "running" | "draining";

/** How long shutdown waits for clients to answer its close frames. */
const SHUTDOWN_CLOSE_WAIT_MS = 1_000;

export function startSignalingServer(
  config: ServerConfig,
  options: StartOptions = {},
): Promise<SignalingServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const {
    metrics,
    cluster,
    registry,
    webhook,
    audit,
    ipLimits,
    resumeTokens,
    gateway,
    sfu,
    router,
    clients,
    allowedOrigin,
    whip,
    whep,
    sweep,
    connections,
  } = buildServices(config, logger, {}, options.redisCluster);
  const events = new EventTarget();
  let lifecycle: Lifecycle = "running";
  /** The one shutdown, once asked for. */
  let stopping: Promise<void> | undefined;
  const startedAt = performance.now();

  const context: ConnectionContext = {
    config,
    router,
    metrics,
    logger,
    onClosed(connection) {
      // A resumed client's new connection may hold the id already.
      if (connections.get(connection.id) === connection) {
        connections.delete(connection.id);
      }
      ipLimits.disconnect(connection.remoteAddress, performance.now());
      logger.debug("disconnected", { clientId: connection.id });
      events.dispatchEvent(
        new CustomEvent("connection-closed", { detail: connection.id }),
      );
    },
  };

  // In a cluster the counts are this node's members; the cluster's are the
  // sum over nodes.
  const gauges = (): Gauges =>
    registry
      ? {
        connections: connections.size,
        streams: registry.roomCount,
        liveStreams: registry.liveCount,
        viewers: registry.viewerCount,
        ...(gateway ? { sfuUp: gateway.up ? 1 : 0 } : {}),
      }
      : {
        connections: connections.size,
        ...router.localCounts(),
        storeUp: cluster!.ready ? 1 : 0,
        node: cluster!.node,
      };

  /** Closes every socket: this node's places are gone from the cluster. */
  const closeAll = (code: number, reason: string) => {
    router.forgetAll();
    for (const connection of [...connections.values()]) {
      connection.close(code, reason, "cluster-lost");
    }
  };
  cluster?.start({
    envelope: (envelope) => router.deliver(envelope),
    reaped: (departures) => router.tellDepartures(departures, "node lost"),
    // Forgotten: reconnect now (here, registered anew, or elsewhere). An
    // outage: try again later, elsewhere if the balancer has a healthy node.
    lost: (why) =>
      why === "forgotten"
        ? closeAll(1012, "Cluster state lost; reconnect")
        : closeAll(1013, "Cluster store unavailable"),
    back: () => router.retryLeaves(),
    resumeKey: (key) => resumeTokens.useSharedKey(key),
    placeOf: (id) => clients.place(id),
    sendLocal: (id, text) => clients.peer(id)?.sendRaw(text),
    unroutable: (from, streamId, viewerId, text) => {
      const peer = clients.peer(from.clientId);
      const error = peer &&
        unroutableError(from.role, streamId, viewerId, text);
      if (error) router.refuse(peer, error);
    },
  });

  const refuse = (
    status: Refusal["status"],
    error: string,
    message: string,
    remoteAddress: string,
  ): Refusal => {
    audit.record({ kind: "refused", reason: error, remoteAddress });
    return { status, error, message };
  };

  const handler = createHttpHandler({
    metrics,
    gauges,
    health: () =>
      cluster
        ? {
          ready: cluster.ready,
          details: { node: cluster.node, redis: cluster.state },
        }
        : { ready: true, details: {} },
    startedAt,
    files: options.files,
    onError: (error, request) =>
      logger.error("http-handler-failed", {
        method: request.method,
        path: new URL(request.url).pathname.slice(0, 200),
        error: String(error),
      }),
    ...(whip && whep
      ? {
        whip: (request, address, route) => whip.handle(request, address, route),
        whep: (request, address, route) => whep.handle(request, address, route),
      }
      : {}),
    admit(request, remoteAddress) {
      if (!allowedOrigin(request.headers.get("origin"))) {
        return refuse(
          403,
          "origin-not-allowed",
          "This page's origin may not connect",
          remoteAddress,
        );
      }
      if (lifecycle === "draining") {
        return refuse(
          503,
          "shutting-down",
          "Server is shutting down",
          remoteAddress,
        );
      }
      if (cluster && !cluster.ready) {
        return refuse(
          503,
          "cluster-unavailable",
          "This node cannot reach its cluster store (Redis) right now",
          remoteAddress,
        );
      }
      if (connections.size >= config.maxConnections) {
        return refuse(
          503,
          "server-full",
          `Server is at its limit of ${config.maxConnections} connections`,
          remoteAddress,
        );
      }
      const counted = ipLimits.connect(remoteAddress, performance.now());
      if (counted === "too-many-connections") {
        return refuse(
          429,
          counted,
          `At most ${config.maxConnectionsPerIp} connections per address`,
          remoteAddress,
        );
      }
      if (counted === "connect-rate-limited") {
        return refuse(
          429,
          counted,
          `At most ${config.connectRatePerIpPerMinute} new connections per minute per address`,
          remoteAddress,
        );
      }
      return true;
    },
    upgrade(request, remoteAddress) {
      let upgraded: Deno.WebSocketUpgrade;
      try {
        upgraded = Deno.upgradeWebSocket(request, {
          // Deno pings after half of this of silence and closes after all of it.
          idleTimeout: (config.heartbeatIntervalMs * 2) / 1000,
        });
      } catch (error) {
        // One the checks before let through: its slot goes back.
        ipLimits.disconnect(remoteAddress, performance.now());
        return {
          status: 400,
          error: "bad-upgrade",
          message: `Not a WebSocket upgrade this server can take: ${
            (error as Error).message
          }`,
        };
      }
      const { socket, response } = upgraded;
      const claim = new URL(request.url).searchParams.get("resume");
      const check = claim ? resumeTokens.verify(claim) : undefined;
      const id = check?.ok
        ? check.claims.clientId
        : newClientId((candidate) => connections.has(candidate));
      // (Across nodes ids are 62 random bits; the store's scripts refuse an
      // id another node holds, should two ever meet.)
      const connection = new Connection(
        socket,
        id,
        remoteAddress,
        context,
        check?.ok
          ? { resumed: true, claims: check.claims }
          : { resumed: false, refused: check?.reason },
      );
      // The client's old socket, if the server has not noticed it die yet.
      const stale = connections.get(id);
      connections.set(id, connection);
      router.connected(connection);
      if (check?.ok) {
        const back = router.resume(connection, check.claims);
        if (back instanceof Promise) {
          // Its messages wait until its place is settled (or found gone).
          connection.holdUntil(
            back.then(
              (found) => logger.debug("resumed", { clientId: id, back: found }),
              (error) =>
                logger.warn("resume-failed", {
                  clientId: id,
                  error: String(error),
                }),
            ),
          );
        } else logger.debug("resumed", { clientId: id, back });
      }
      stale?.close(
        RESUMED_CLOSE_CODE,
        "Resumed on a new connection",
        "resumed",
      );
      metrics.connectionsAccepted++;
      logger.debug("connected", { clientId: id, remoteAddress });
      return response;
    },
  }, config.trustProxy);

  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    port: config.port,
    hostname: config.hostname,
    // Several processes on one port (PROCESSES, REUSE_PORT; Linux).
    ...(config.nodes.reusePort ? { reusePort: true } : {}),
    onListen: (addr) => listening.resolve(addr as Deno.NetAddr),
  }, handler);

  const secure = options.tls && Deno.serve({
    port: options.tls.port,
    hostname: config.hostname,
    cert: options.tls.cert,
    key: options.tls.key,
    onListen: (addr) =>
      logger.info("listening-tls", { port: (addr as Deno.NetAddr).port }),
  }, handler);

  return listening.promise.then((addr) => {
    logger.info("listening", {
      hostname: addr.hostname,
      port: addr.port,
      websocket: `ws://${addr.hostname}:${addr.port}/ws`,
      // The limits in force, those that follow the topology included.
      maxViewersPerStream: config.maxViewersPerStream,
      maxConnectionsPerIp: config.maxConnectionsPerIp,
      connectBurstPerIp: config.connectBurstPerIp,
      joinBurstPerIp: config.joinBurstPerIp,
    });
    return {
      port: addr.port,
      hostname: addr.hostname,
      get registry(): StreamRegistry {
        if (!registry) {
          throw new Error("The directory is in Redis (REDIS_URL is set)");
        }
        return registry;
      },
      cluster,
      sfu: gateway,
      metrics,
      connections,
      events,
      finished: server.finished,
      shutdown() {
        // Once: a second call waits for the same (`finished` may never
        // settle while Deno holds a stuck upgrade).
        stopping ??= stop();
        return stopping;
      },
    };
  });

  async function stop(): Promise<void> {
    lifecycle = "draining";
    logger.info("shutting-down", { connections: connections.size });
    clearInterval(sweep);
    router.drain();
    const closing = [...connections.values()].map((connection) => {
      connection.close(1012, "Service restart", "shutdown");
      return connection.socketClosed();
    });
    // Our close frames first: stopping the listener closes with 1001.
    await Promise.race([
      Promise.all(closing),
      new Promise((resolve) =>
        Deno.unrefTimer(setTimeout(resolve, SHUTDOWN_CLOSE_WAIT_MS))
      ),
    ]);
    await Promise.all([
      // Deno 2.9 never finishes a shutdown while it holds an upgrade
      // whose client reset mid-handshake (docs/protocol.md, HTTP
      // answers): stop waiting.
      untilOr(
        server.shutdown(),
        SHUTDOWN_CLOSE_WAIT_MS,
        () =>
          logger.warn("shutdown-upgrades-stuck", {
            afterMs: SHUTDOWN_CLOSE_WAIT_MS,
          }),
      ),
      secure && untilOr(secure.shutdown(), SHUTDOWN_CLOSE_WAIT_MS),
      webhook?.close(),
      cluster?.stop(),
      // In a cluster its streams' Janus sessions stay for the nodes their
      // broadcasters move to (they claim them); alone, they end here.
      gateway?.close(cluster !== undefined),
    ]);
    sfu?.close();
  }
}

/** `step`, or after `ms` whatever it has not done yet (`late` is told). */
function untilOr(
  step: Promise<void>,
  ms: number,
  late?: () => void,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      late?.();
      resolve();
    }, ms);
    Deno.unrefTimer(timer);
  });
  return Promise.race([step.finally(() => clearTimeout(timer)), deadline]);
}
