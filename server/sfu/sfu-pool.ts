/**
 * Several Janus instances (JANUS_URL, comma-separated) as one SFU: a stream
 * is published on the least-loaded linked instance (its origin; with a
 * cluster, counting every node's load, redis-sfu-load.ts) and stays there. Its viewers subscribe there until it carries `capPerInstance` of
 * them (SFU_VIEWERS_PER_INSTANCE); past that the stream **cascades**: the
 * origin forwards the publisher to another instance (VideoRoom's remote
 * publishers; the broadcaster still uploads once) and new viewers subscribe
 * there. An edge is the least-loaded linked instance not yet carrying the
 * stream; it is torn down when its last viewer leaves, or with the stream.
 *
 * When an instance is lost, the streams it was the origin of are named in
 * one `lost` event (with whether another instance is up, to publish them
 * again there), and the viewers it carried as an edge in `edge-lost` (to
 * subscribe again elsewhere); `up` fires when any instance links. One
 * instance is a pool of one.
 */
import type { Logger } from "../observe/logger.ts";
import type { Jsep } from "./video-room.ts";
import { JanusUnavailable } from "./janus-client.ts";
import { SfuGateway } from "./sfu-gateway.ts";
import {
  cascade,
  type CascadeContext,
  endEdge,
  remoteIdOf,
} from "./pool-cascade.ts";
import {
  adoptStream,
  describeStream,
  discardStream,
  type PoolContext,
  type PoolRecord,
  releaseStream,
} from "./pool-record.ts";

export type { PoolRecord } from "./pool-record.ts";

/**
 * The share of SFU_VIEWERS_PER_INSTANCE past which the next edge is made
 * ahead of need (a viewer that waits for a cascade's setup waits ~3 Janus
 * round trips longer for its first frame).
 */
const PREPARE_AT = 0.8;

/** The streams an instance took with it, and whether another is up. */
export interface LostEvent {
  url: string;
  streams: readonly string[];
  up: boolean;
}

/** The viewers of `streamId` an edge instance carried when it was lost. */
export interface EdgeLostEvent {
  url: string;
  streamId: string;
  viewers: readonly string[];
}

export interface SfuPoolOptions {
  /** Viewers of one stream an instance carries before it cascades. */
  capPerInstance?: number;
  /** Makes an instance's gateway (a fake in unit tests). */
  make?: (url: string) => SfuGateway;
}

export class SfuPool {
  /**
   * Fires `lost` (a {@link LostEvent}), `up` (an instance linked), and
   * SfuGateway's `slowlink`, `substream` and `media` from every instance.
   */
  readonly events = new EventTarget();
  #instances: SfuGateway[];
  #logger: Logger;
  #cap: number;
  /** Each stream's origin: where its publisher is. */
  #assigned = new Map<string, SfuGateway>();
  /** Each cascaded stream's edges, settled once the origin forwards there. */
  #edges = new Map<string, Map<SfuGateway, Promise<void>>>();
  /** Where each viewer is subscribed (or about to be), by stream, then viewer. */
  #viewers = new Map<string, Map<string, SfuGateway>>();
  /** Edges being torn down (by remote id): not picked again until they are. */
  #closing = new Set<string>();
  /** What pool-record.ts's and pool-cascade.ts's steps work on. */
  #context: PoolContext;
  #cascadeContext: CascadeContext;
  /** Other nodes' load on each instance (by URL), with a cluster. */
  #shared: ReadonlyMap<string, number> = new Map();

  constructor(
    urls: readonly string[],
    logger: Logger,
    options: SfuPoolOptions = {},
  ) {
    const make = options.make ?? ((url: string) => new SfuGateway(url, logger));
    this.#instances = urls.map(make);
    this.#logger = logger;
    this.#cap = options.capPerInstance ?? Infinity;
    this.#context = {
      instances: this.#instances,
      assigned: this.#assigned,
      edges: this.#edges,
      viewers: this.#viewers,
      logger,
      placed: (streamId) => this.#placed(streamId),
      edgeLost: (streamId, edge) => this.#edgeLost(streamId, edge),
      forget: (streamId) => this.#forget(streamId),
    };
    this.#cascadeContext = {
      instances: this.#instances,
      assigned: this.#assigned,
      edges: this.#edges,
      closing: this.#closing,
      logger,
      leastLoaded: (except) => this.#leastLoaded(except),
    };
    for (const instance of this.#instances) {
      const { events } = instance;
      for (const type of ["slowlink", "substream", "media", "changed"]) {
        events.addEventListener(type, (event) =>
          this.events.dispatchEvent(
            new CustomEvent(type, { detail: (event as CustomEvent).detail }),
          ));
      }
      events.addEventListener(
        "up",
        () => this.events.dispatchEvent(new Event("up")),
      );
      events.addEventListener("down", (event) => {
        const had = (event as CustomEvent<string[]>).detail;
        const streams = had.filter((id) => this.#assigned.get(id) === instance);
        for (const streamId of streams) {
          for (const edge of this.#forget(streamId)) {
            edge.end(streamId).catch(() => {});
          }
        }
        for (const streamId of had) {
          if (this.#edges.get(streamId)?.has(instance)) {
            this.#edgeLost(streamId, instance);
          }
        }
        const detail: LostEvent = { url: instance.url, streams, up: this.up };
        this.events.dispatchEvent(new CustomEvent("lost", { detail }));
      });
    }
  }

  /** Whether any instance is linked: streams go to the SFU only then. */
  get up(): boolean {
    return this.#instances.some((instance) => instance.up);
  }

  /** Linked instances now (a gauge). */
  get linked(): number {
    return this.#instances.filter((instance) => instance.up).length;
  }

  /** Links every instance now, and again whenever a link is lost. */
  start(): void {
    for (const instance of this.#instances) instance.start();
  }

  /** The instance `streamId` is published on, if any. */
  instanceOf(streamId: string): string | undefined {
    return this.#assigned.get(streamId)?.url;
  }

  /**
   * Publishes on the stream's instance, or (a new stream, or its instance
   * lost) on the least-loaded linked one (arguments: SfuGateway.publish's).
   */
  publish(...args: Parameters<SfuGateway["publish"]>): Promise<Jsep> {
    let instance = this.#assigned.get(args[0]);
    if (!instance?.up) {
      instance = this.#leastLoaded();
      if (!instance) {
        return Promise.reject(
          new JanusUnavailable("No Janus instance is linked"),
        );
      }
      this.#assigned.set(args[0], instance);
    }
    return instance.publish(...args);
  }

  /**
   * Subscribes `viewerId` on the stream's origin, or past its cap on an
   * edge (cascading to a new one when every edge is full).
   */
  async subscribe(streamId: string, viewerId: string): Promise<Jsep> {
    const origin = this.#assigned.get(streamId);
    if (!origin) {
      throw new JanusUnavailable(
        `Stream ${streamId} is on no linked Janus instance`,
      );
    }
    const placed = this.#placed(streamId);
    let at = placed.get(viewerId);
    if (!at?.up) at = this.#place(streamId, origin);
    placed.set(viewerId, at);
    if (at !== origin) {
      const edge = at;
      try {
        await this.#edges.get(streamId)?.get(edge);
      } catch {
        // The cascade failed (logged): the origin carries the viewer.
        if (this.#viewers.get(streamId)?.get(viewerId) === edge) {
          at = origin;
          placed.set(viewerId, at);
        }
      }
      // It left, or its edge was lost and it went elsewhere, meanwhile: a
      // subscription now would be nobody's (and keep it counted here).
      if (this.#viewers.get(streamId)?.get(viewerId) !== at) {
        throw new Error(`Viewer ${viewerId} of ${streamId} was placed anew`);
      }
    }
    return await at.subscribe(streamId, viewerId);
  }

  setLayer(streamId: string, viewerId: string, layer: number): Promise<void> {
    return this.#onViewer(
      streamId,
      viewerId,
      (i) => i.setLayer(streamId, viewerId, layer),
    );
  }

  answer(streamId: string, viewerId: string, answer: Jsep): Promise<void> {
    return this.#onViewer(
      streamId,
      viewerId,
      (i) => i.answer(streamId, viewerId, answer),
    );
  }

  /** Asks the stream's publisher for a keyframe (through its origin). */
  requestKeyframe(streamId: string): Promise<void> {
    return this.#on(streamId, (i) => i.requestKeyframe(streamId));
  }

  restartPublisher(streamId: string, offer: Jsep): Promise<Jsep> {
    return this.#on(streamId, (i) => i.restartPublisher(streamId, offer));
  }

  restartSubscriber(streamId: string, viewerId: string): Promise<Jsep> {
    return this.#onViewer(
      streamId,
      viewerId,
      (i) => i.restartSubscriber(streamId, viewerId),
    );
  }

  trickle(
    streamId: string,
    viewerId: string | undefined,
    candidate: Parameters<SfuGateway["trickle"]>[2],
  ): Promise<void> {
    return viewerId === undefined
      ? this.#on(streamId, (i) => i.trickle(streamId, undefined, candidate))
      : this.#onViewer(
        streamId,
        viewerId,
        (i) => i.trickle(streamId, viewerId, candidate),
      );
  }

  isSubscribed(streamId: string, viewerId: string): boolean {
    const at = this.#viewers.get(streamId)?.get(viewerId) ??
      this.#assigned.get(streamId);
    return at?.isSubscribed(streamId, viewerId) ?? false;
  }

  /** The viewer left; an edge left without viewers is torn down. */
  async unsubscribe(streamId: string, viewerId: string): Promise<void> {
    const at = this.#viewers.get(streamId)?.get(viewerId) ??
      this.#assigned.get(streamId);
    this.#viewers.get(streamId)?.delete(viewerId);
    await at?.unsubscribe(streamId, viewerId);
    // An edge without viewers goes: the one it left, or one made ahead
    // that the audience shrank away from.
    const edges = [...this.#edges.get(streamId)?.keys() ?? []];
    const origin = this.#assigned.get(streamId);
    const ahead = origin !== undefined &&
      this.#count(streamId, origin) + 1 >= this.#prepareAt;
    await Promise.all(
      edges.filter((edge) =>
        this.#count(streamId, edge) === 0 && (edge === at || !ahead)
      ).map((edge) => endEdge(this.#cascadeContext, streamId, edge)),
    );
  }

  /** Viewers of `streamId` on each instance (a gauge, and for tests). */
  spread(streamId: string): Map<string, number> {
    const spread = new Map<string, number>();
    for (const instance of this.#viewers.get(streamId)?.values() ?? []) {
      spread.set(instance.url, (spread.get(instance.url) ?? 0) + 1);
    }
    return spread;
  }

  /** The stream ended (or moves): its handles and rooms, edges too, go. */
  async end(streamId: string): Promise<void> {
    const instance = this.#assigned.get(streamId);
    const edges = this.#forget(streamId);
    await Promise.all([
      instance?.end(streamId),
      ...edges.map((edge) => edge.end(streamId)),
    ]);
  }

  /** `handOver`: streams are left for other nodes to claim, not ended. */
  async close(handOver = false): Promise<void> {
    await Promise.all(
      this.#instances.map((instance) => instance.close(handOver)),
    );
  }

  /** Where `streamId` is, as JSON; undefined if it is on no instance. */
  describe(streamId: string): Promise<PoolRecord | undefined> {
    return describeStream(this.#context, streamId);
  }

  /**
   * Takes `streamId` over from another node: claims its session on every
   * instance it uses (pool-record.ts).
   */
  adopt(streamId: string, record: PoolRecord, publisherId?: string) {
    return adoptStream(this.#context, streamId, record, publisherId);
  }

  /** Its rooms destroyed: nobody could claim its sessions (pool-record.ts). */
  discard(record: PoolRecord): Promise<void> {
    return discardStream(this.#context, record);
  }

  /** Stops driving `streamId` here (another node claims it). */
  release(streamId: string): Promise<void> {
    return releaseStream(this.#context, streamId);
  }

  /** This node's load on each instance (streams plus subscriptions). */
  localLoads(): Map<string, number> {
    return new Map(this.#instances.map((i) => [i.url, i.load]));
  }

  /** Other nodes' load on each instance (shared through Redis). */
  setShared(loads: ReadonlyMap<string, number>): void {
    this.#shared = loads;
  }

  #leastLoaded(
    except: ReadonlySet<SfuGateway> = new Set(),
  ): SfuGateway | undefined {
    let best: SfuGateway | undefined;
    let least = Infinity;
    for (const instance of this.#instances) {
      if (!instance.up || except.has(instance)) continue;
      const load = instance.load + (this.#shared.get(instance.url) ?? 0);
      if (load < least) [best, least] = [instance, load];
    }
    return best;
  }

  /** Viewers of `streamId` placed on `instance`. */
  #count(streamId: string, instance: SfuGateway): number {
    let count = 0;
    for (const at of this.#viewers.get(streamId)?.values() ?? []) {
      if (at === instance) count++;
    }
    return count;
  }

  /** Where each viewer of `streamId` is placed (made on first use). */
  #placed(streamId: string): Map<string, SfuGateway> {
    let placed = this.#viewers.get(streamId);
    if (!placed) this.#viewers.set(streamId, placed = new Map());
    return placed;
  }

  /**
   * Where a new viewer of `streamId` goes: the origin, an edge with room, a
   * new edge. An instance that fills past PREPARE_AT of its share has the
   * next edge made already, so no viewer waits for a cascade to be set up.
   */
  #place(streamId: string, origin: SfuGateway): SfuGateway {
    const edges = this.#edges.get(streamId) ?? new Map();
    const at =
      [origin, ...edges.keys()].find((instance) =>
        instance.up && this.#count(streamId, instance) < this.#cap
      ) ?? cascade(this.#cascadeContext, streamId, origin) ?? origin;
    const spare = [origin, ...(this.#edges.get(streamId)?.keys() ?? [])]
      .some((instance) =>
        instance !== at && instance.up &&
        this.#count(streamId, instance) < this.#cap
      );
    if (!spare && this.#count(streamId, at) + 1 >= this.#prepareAt) {
      cascade(this.#cascadeContext, streamId, origin);
    }
    return at;
  }

  /** Viewers on one instance past which the next edge is made. */
  get #prepareAt(): number {
    return Math.max(1, Math.ceil(this.#cap * PREPARE_AT));
  }

  /** An edge died: the origin stops sending there; its viewers move. */
  #edgeLost(streamId: string, edge: SfuGateway): void {
    this.#edges.get(streamId)?.delete(edge);
    const placed = this.#viewers.get(streamId) ?? new Map();
    const viewers = [...placed].filter(([, at]) => at === edge)
      .map(([viewerId]) => viewerId);
    for (const viewerId of viewers) placed.delete(viewerId);
    this.#assigned.get(streamId)
      ?.unforward(streamId, remoteIdOf(streamId, edge)).catch(() => {});
    const detail: EdgeLostEvent = { url: edge.url, streamId, viewers };
    this.events.dispatchEvent(new CustomEvent("edge-lost", { detail }));
  }

  /**
   * Drops what the pool knows of `streamId` (its origin went, or it ended);
   * the edges it had, for the caller to end.
   */
  #forget(streamId: string): SfuGateway[] {
    this.#assigned.delete(streamId);
    const edges = [...this.#edges.get(streamId)?.keys() ?? []];
    this.#edges.delete(streamId);
    this.#viewers.delete(streamId);
    return edges.filter((edge) => edge.up);
  }

  #onViewer<T>(
    streamId: string,
    viewerId: string,
    step: (instance: SfuGateway) => Promise<T>,
  ): Promise<T> {
    const at = this.#viewers.get(streamId)?.get(viewerId);
    return at ? step(at) : this.#on(streamId, step);
  }

  #on<T>(
    streamId: string,
    step: (instance: SfuGateway) => Promise<T>,
  ): Promise<T> {
    const instance = this.#assigned.get(streamId);
    return instance ? step(instance) : Promise.reject(
      new JanusUnavailable(`Stream ${streamId} is on no linked Janus instance`),
    );
  }
}
