/**
 * This node's membership in a cluster sharing one Redis: registration with a
 * TTL renewed by a heartbeat, a reaper that frees the members of nodes whose
 * TTL ran out, and delivery to other nodes' clients: over direct links
 * (node-links.ts, routed along cached routes: frame-routes.ts), or with
 * NODE_LINKS=off (and while a link is not open) through Redis pub/sub.
 *
 * Store state is a small machine, changed only in {@link RedisCluster.#set}:
 * `connecting -> ready <-> unavailable`. Unavailable for longer than the
 * node TTL, the others have reaped (or Redis forgot) this node's members, so
 * it closes its sockets and, once Redis is back, registers under a new node
 * id. Pub/sub is at most once: a frame published while a subscriber is
 * reconnecting is lost, never repeated; the elements repair what a lost
 * candidate or offer costs.
 */
import { Redis } from "ioredis";
import { RedisSfuStore } from "./redis-sfu-store.ts";
import { redisArguments, type RedisTarget } from "./redis-connection.ts";
import { SharedSfuLoad } from "./redis-sfu-load.ts";
import type { Directory } from "../signaling/directory.ts";
import type { Delivery, Envelope } from "../signaling/delivery.ts";
import type { Logger } from "../observe/logger.ts";
import type { Metrics } from "../observe/metrics.ts";
import {
  defineScripts,
  parseDeparture,
  RedisDirectory,
  runScript,
} from "./redis-directory.ts";
import type { FrameRoutes } from "./frame-routes.ts";
import { randomHex } from "./link-wire.ts";
import { linkNodes, type LinkOptions } from "./cluster-links.ts";
import type { NodeLinks } from "./node-links.ts";
import { decode, encode } from "./pubsub-frames.ts";
import type { ClusterHandlers } from "./cluster-handlers.ts";

export type { ClusterHandlers } from "./cluster-handlers.ts";

export type StoreState = "connecting" | "ready" | "unavailable";

export interface ClusterOptions {
  /** REDIS_URL (redis:// or rediss://, credentials in it) and any Sentinels. */
  redis: RedisTarget;
  /** REDIS_KEY_PREFIX: every key and channel starts with it. */
  prefix: string;
  /** NODE_TTL_MS: a silent node is reaped after this long. */
  nodeTtlMs: number;
  logger: Logger;
  metrics: Metrics;
  /**
   * Without RESUME_SECRET or SIGNAL_SECRET: the resume key this node
   * proposes (hex). The cluster keeps the first proposal in Redis and
   * {@link ClusterHandlers.resumeKey} hands it to every node.
   */
  resumeKey?: string;
  /** Direct links between nodes (NODE_LINK_*); none: pub/sub only. */
  links?: LinkOptions;
}

/**
 * A heartbeat unanswered this long: Redis counts as gone, and the links are
 * reset so that steps waiting on them fail instead of hanging. (Per-command
 * timeouts would cost a timer per routed frame.)
 */
const HEARTBEAT_TIMEOUT_MS = 1_000;

export class RedisCluster implements Delivery {
  readonly clustered = true;
  /** Redis's, behind the route cache when links are on. */
  readonly directory: Directory;
  /** With links: the links to other nodes (tests cut them). */
  readonly links: NodeLinks | undefined;
  /**
   * Fires `state` (a CustomEvent with the new {@link StoreState}) on each
   * change, and `reaped` (with the dead node ids) after freeing their members.
   */
  readonly events = new EventTarget();
  /** Streams' SFU snapshots, for the node that takes one over. */
  readonly sfuStore: RedisSfuStore;
  /** Janus instances' load, shared with the other nodes. */
  readonly sfuLoad: SharedSfuLoad;
  #node = newNodeId();
  #state: StoreState = "connecting";
  #options: ClusterOptions;
  #redis: Redis;
  #subscriber: Redis;
  #store: RedisDirectory;
  #handlers: ClusterHandlers | undefined;
  #registered = false;
  /** The channel subscribed to: this node id's. */
  #listening: string | undefined;
  #unavailableSince = 0;
  #outageTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #reaper: ReturnType<typeof setInterval> | undefined;
  #ticking = false;
  #resumeKey: string | undefined;
  /** Without CLUSTER_SECRET: the link key proposed, then the one shared. */
  #linkKey = randomHex(32);
  #stopped = false;

  constructor(options: ClusterOptions) {
    this.#options = options;
    this.#resumeKey = options.resumeKey;
    const common = {
      lazyConnect: true,
      // Reconnect quickly, then every second at most.
      retryStrategy: (times: number) => Math.min(times * 50, 1_000),
      maxRetriesPerRequest: 0,
    };
    // Commands fail at once while disconnected rather than queueing: a
    // queued join or candidate would be acted on late and out of order.
    this.#redis = new Redis(
      ...redisArguments(options.redis, {
        ...common,
        enableOfflineQueue: false,
        // A step sent before a disconnection fails; it is never sent again
        // after it (a join or a frame replayed late, perhaps twice).
        autoResendUnfulfilledCommands: false,
      }),
    );
    this.#subscriber = new Redis(...redisArguments(options.redis, common));
    defineScripts(this.#redis);
    this.#store = new RedisDirectory(this.#redis, options.prefix);
    const linked = options.links && linkNodes({
      ...options,
      links: options.links,
      redis: this.#redis,
      store: this.#store,
      self: () => this.#node,
      handlers: () => this.#handlers,
      publish: (node, payload) => this.#publish(node, payload),
    });
    this.links = linked?.links;
    this.directory = linked?.routes ?? this.#store;
    this.sfuStore = new RedisSfuStore(this.#redis, options.prefix, this.#node);
    this.sfuLoad = new SharedSfuLoad(
      this.#redis,
      options.prefix,
      this.#node,
      options.logger,
    );
    for (const link of [this.#redis, this.#subscriber]) {
      // Without a listener ioredis prints every error; state is followed here.
      link.on("error", () => {});
      // Either link lost loses something: commands, or frames for us.
      link.on("close", () => this.#unreachable("connection closed"));
      link.on("reconnecting", () => options.metrics.redisReconnects++);
      link.on("ready", () => this.#tick());
    }
    this.#subscriber.on("message", (_channel: string, payload: string) => {
      if (this.links?.published(payload)) return;
      const envelope = decode(payload);
      if (!envelope) return;
      options.metrics.clusterReceived++;
      this.#handlers?.envelope(envelope);
    });
  }

  get node(): string {
    return this.#node;
  }

  get state(): StoreState {
    return this.#state;
  }

  get ready(): boolean {
    return this.#state === "ready";
  }

  /** Resolves when the store is in `state` (at once if it is). */
  when(state: StoreState): Promise<void> {
    if (this.#state === state) return Promise.resolve();
    return new Promise((resolve) => {
      const listener = (event: Event) => {
        if ((event as CustomEvent<StoreState>).detail !== state) return;
        this.events.removeEventListener("state", listener);
        resolve();
      };
      this.events.addEventListener("state", listener);
    });
  }

  /** Connects, registers, and starts the heartbeat and the reaper. */
  start(handlers: ClusterHandlers): void {
    this.#handlers = handlers;
    const { nodeTtlMs } = this.#options;
    this.#redis.connect().catch(() => {});
    this.#subscriber.connect().catch(() => {});
    this.#heartbeat = setInterval(() => this.#tick(), nodeTtlMs / 3);
    this.#reaper = setInterval(() => this.#reap(), reapIntervalMs(nodeTtlMs));
    // The first tick comes with the links' `ready`.
  }

  /**
   * Resolves once every store step this node sent before it is done (one
   * link, answered in order): tests read Redis after it.
   */
  async barrier(): Promise<void> {
    await this.#redis.ping();
  }

  /** Sends `envelope` to `node`: over its link, else to its channel. */
  toNode(node: string, envelope: Envelope): void {
    this.#options.metrics.clusterSent++;
    if (this.links) this.links.send(node, envelope);
    else this.#publish(node, encode(envelope));
  }

  #publish(node: string, payload: string): void {
    const metrics = this.#options.metrics;
    this.#redis.publish(this.#channel(node), payload).catch(() =>
      metrics.clusterLost++
    );
  }

  /**
   * Stops heartbeating and disconnects. The registration is left to expire:
   * clients that reconnect elsewhere resume their places meanwhile, and a
   * reaper frees the rest after NODE_TTL_MS.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.sfuLoad.stop();
    clearInterval(this.#heartbeat);
    clearInterval(this.#reaper);
    clearTimeout(this.#outageTimer);
    this.links?.close();
    await Promise.allSettled([this.#redis.quit(), this.#subscriber.quit()]);
    this.#redis.disconnect();
    this.#subscriber.disconnect();
  }

  #channel(node: string): string {
    return `${this.#options.prefix}d:${node}`;
  }

  /** Registers (again, under a new id if needed) or renews the TTL. */
  async #tick(): Promise<void> {
    if (this.#ticking || this.#stopped) return;
    this.#ticking = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const silent = new Promise<"silent">((resolve) => {
      timer = setTimeout(() => resolve("silent"), HEARTBEAT_TIMEOUT_MS);
    });
    try {
      if (await Promise.race([this.#renew(), silent]) === "silent") {
        const cause = `no reply in ${HEARTBEAT_TIMEOUT_MS} ms`;
        this.#unreachable(cause);
        // Steps waiting on a silent Redis fail now rather than hang, and the
        // links start over.
        this.#store.abandon(cause);
        this.#redis.disconnect(true);
        this.#subscriber.disconnect(true);
      }
    } catch (error) {
      this.#unreachable(String(error));
    } finally {
      clearTimeout(timer);
      this.#ticking = false;
    }
  }

  async #renew(): Promise<void> {
    const { prefix, nodeTtlMs, metrics, logger } = this.#options;
    const started = performance.now();
    if (!this.#registered) {
      await this.#register();
    } else {
      const alive = await runScript(
        this.#redis,
        prefix,
        "lwHeartbeat",
        this.#node,
        nodeTtlMs,
      );
      metrics.observeRedisRoundTrip(performance.now() - started);
      if (alive !== 1) {
        logger.warn("cluster-registration-lost", { node: this.#node });
        metrics.clusterRegistrationsLost++;
        this.#forgotten("forgotten");
        await this.#register();
      }
    }
    if (this.#state !== "ready") {
      // Ready means listening too: resubscribed, confirmed by Redis.
      if (this.#listening) await this.#subscriber.subscribe(this.#listening);
      const was = this.#state;
      this.#set("ready", "registered");
      if (was === "unavailable") this.#handlers?.back();
    }
  }

  /** Registers under a node id nobody holds, and listens on its channel. */
  async #register(): Promise<void> {
    const { prefix, nodeTtlMs } = this.#options;
    for (;;) {
      const started = performance.now();
      const links = this.#options.links;
      const [registered, key, sharedLinkKey] = await runScript(
        this.#redis,
        prefix,
        "lwRegister",
        this.#node,
        nodeTtlMs,
        this.#resumeKey ?? "",
        this.links?.url ?? "",
        links && !links.secret ? this.#linkKey : "",
      ) as [number, string?, string?];
      this.#options.metrics.observeRedisRoundTrip(performance.now() - started);
      if (registered === 1) {
        if (key) {
          // Proposed again should Redis forget it: claims keep verifying.
          this.#resumeKey = key;
          this.#handlers?.resumeKey(key);
        }
        if (sharedLinkKey) {
          this.#linkKey = sharedLinkKey;
          await this.links!.useSecret(sharedLinkKey);
        }
        break;
      }
      this.#node = newNodeId();
    }
    const channel = this.#channel(this.#node);
    if (this.#listening !== channel) {
      await this.#subscriber.subscribe(channel);
      // The old id's members are reaped; frames still sent to it are void.
      if (this.#listening) await this.#subscriber.unsubscribe(this.#listening);
      this.#listening = channel;
    }
    this.#registered = true;
    this.#options.logger.info("cluster-registered", { node: this.#node });
  }

  #unreachable(cause: string): void {
    if (this.#stopped || this.#state === "unavailable") return;
    this.#set("unavailable", cause);
    this.#unavailableSince = performance.now();
    clearTimeout(this.#outageTimer);
    // Past the TTL the others reap this node's members (or Redis lost
    // them): its sockets stand for places that no longer exist.
    this.#outageTimer = setTimeout(() => {
      if (this.#state !== "unavailable") return;
      this.#options.metrics.clusterRegistrationsLost++;
      this.#forgotten("outage");
    }, this.#options.nodeTtlMs);
  }

  /**
   * This node's members are gone from the store, or about to be: a new id
   * (the old one's leftovers are reaped under it), and the sockets closed.
   */
  #forgotten(why: "forgotten" | "outage"): void {
    this.#registered = false;
    this.#node = newNodeId();
    this.links?.renamed();
    this.#handlers?.lost(why);
  }

  async #reap(): Promise<void> {
    if (this.#state !== "ready") return;
    try {
      const reply = await runScript(
        this.#redis,
        this.#options.prefix,
        "lwReap",
      ) as [string[], unknown[]];
      const [dead, flat] = reply;
      if (dead.length === 0) return;
      const departures = flat.map((d) => parseDeparture(d as never)!);
      this.#options.metrics.clusterNodesReaped += dead.length;
      this.links?.forget(dead);
      (this.directory as Partial<FrameRoutes>).forgetNodes?.(dead);
      this.#options.logger.warn("cluster-node-reaped", {
        nodes: dead,
        members: departures.length,
      });
      this.#handlers?.reaped(departures, dead);
      this.events.dispatchEvent(new CustomEvent("reaped", { detail: dead }));
    } catch (error) {
      this.#unreachable(String(error));
    }
  }

  /** The one place the store state changes. */
  #set(next: StoreState, cause: string): void {
    const previous = this.#state;
    if (previous === next) return;
    this.#state = next;
    if (next === "ready") clearTimeout(this.#outageTimer);
    this.events.dispatchEvent(new CustomEvent("state", { detail: next }));
    const log = next === "ready"
      ? this.#options.logger.info
      : this.#options.logger.warn;
    log("cluster-store", {
      node: this.#node,
      from: previous,
      to: next,
      cause,
      ...(previous === "unavailable"
        ? { downMs: Math.round(performance.now() - this.#unavailableSince) }
        : {}),
    });
  }
}

/** How often each node looks for dead ones: a killed node is noticed within TTL + this. */
export function reapIntervalMs(nodeTtlMs: number): number {
  return Math.max(100, Math.min(1_000, Math.round(nodeTtlMs / 5)));
}

function newNodeId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return "node_" +
    [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
