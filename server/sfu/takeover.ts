/**
 * Taking a stream over from the node that drove it (its broadcaster came
 * back here, or this node reaped it): the snapshot from the store, the
 * Janus sessions claimed, the state installed. One at a time per stream,
 * and what arrives meanwhile waits for it (`pending`); a release while it
 * runs (the broadcaster moved on again) cancels it, and what it claimed is
 * let go. A session Janus no longer has: the rooms the snapshot names go,
 * and the stream is published anew (as when its instance is lost).
 */
import type { Logger } from "../observe/logger.ts";
import { type SfuSnapshot, SNAPSHOT_VERSION } from "./handover.ts";
import type { Handover } from "./handover.ts";
import type { Gateway } from "./relay-options.ts";
import type { StreamTopology, TopologyEvent } from "./topology.ts";

export interface TakeoverDeps {
  handover: Handover;
  gateway: Gateway;
  logger: Logger;
  /** Whether this node has a state for the stream. */
  has(streamId: string): boolean;
  /** Keeps `topology` as the stream's state here and starts its timers. */
  install(topology: StreamTopology): void;
  /** A step on the stream, its messages posted. */
  later(streamId: string, event: TopologyEvent): void;
}

export class Takeover {
  #deps: TakeoverDeps;
  #running = new Map<string, Promise<void>>();
  /**
   * Bumped by a release while a takeover runs: one that sees it change is
   * stale. Kept only while one runs.
   */
  #generation = new Map<string, number>();

  constructor(deps: TakeoverDeps) {
    this.#deps = deps;
  }

  /** The takeover of `streamId` under way, if one is. */
  pending(streamId: string): Promise<void> | undefined {
    return this.#running.get(streamId);
  }

  /** Takes `streamId` over (once; a second call joins the first). */
  adopt(streamId: string, publisherId: string): Promise<void> {
    const running = this.#running.get(streamId);
    if (running) return running;
    if (this.#deps.has(streamId)) return Promise.resolve();
    const adopting = this.#adopt(streamId, publisherId).finally(() => {
      this.#running.delete(streamId);
      // Only a takeover under way compares generations.
      this.#generation.delete(streamId);
    });
    this.#running.set(streamId, adopting);
    return adopting;
  }

  /**
   * Before a message for `streamId`'s broadcaster here is taken: the
   * takeover under way, or one begun now (this node holds the broadcaster
   * but no state: it came back here), or undefined to take it at once.
   */
  whenReady(
    streamId: string,
    broadcasterId: string,
  ): Promise<void> | undefined {
    const running = this.#running.get(streamId);
    if (running) return running;
    if (this.#deps.has(streamId)) return undefined;
    return this.adopt(streamId, broadcasterId);
  }

  /** Another node drives `streamId` now: a takeover under way is stale. */
  cancel(streamId: string): void {
    if (!this.#running.has(streamId)) return;
    this.#generation.set(streamId, (this.#generation.get(streamId) ?? 0) + 1);
  }

  async #adopt(streamId: string, publisherId: string): Promise<void> {
    const { handover, gateway, logger } = this.#deps;
    const generation = this.#generation.get(streamId) ?? 0;
    const stale = () =>
      (this.#generation.get(streamId) ?? 0) !== generation ||
      this.#deps.has(streamId);
    const snapshot = await handover.take(streamId);
    if (!snapshot || stale()) return;
    if (!usable(snapshot, streamId)) {
      logger.warn("sfu-snapshot-unusable", { streamId });
      return;
    }
    const { topology, pool } = snapshot;
    let lost = false;
    if (pool) {
      try {
        await gateway.adopt(streamId, pool, publisherId);
      } catch (error) {
        lost = true;
        logger.warn("sfu-not-adopted", { streamId, error: String(error) });
        // Its rooms outlive its session: they go, the stream is published
        // anew in a new one.
        await gateway.discard(pool).catch(() => {});
      }
      if (!lost && stale()) {
        // Moved on meanwhile: what was claimed is for that node to claim.
        await gateway.release(streamId).catch(() => {});
        return;
      }
    }
    if (stale()) return;
    this.#deps.install(topology);
    logger.info("sfu-taken-over", { streamId, phase: topology.phase });
    if (lost || (pool === undefined && topology.phase === "published")) {
      return this.#deps.later(streamId, {
        kind: "sfu-lost",
        sfuUp: gateway.up,
      });
    }
    // A subscription the other node had not finished: made again here.
    for (const [viewerId, viewer] of Object.entries(topology.viewers)) {
      if (viewer.route !== "sfu" && viewer.route !== "switching") continue;
      if (gateway.isSubscribed(streamId, viewerId)) continue;
      this.#deps.later(streamId, { kind: "resubscribe", viewerId });
    }
  }
}

/** A snapshot this version can drive (another version's is not guessed at). */
function usable(snapshot: SfuSnapshot, streamId: string): boolean {
  const { topology } = snapshot;
  return snapshot.v === SNAPSHOT_VERSION &&
    typeof topology === "object" && topology !== null &&
    topology.streamId === streamId && typeof topology.phase === "string" &&
    typeof topology.viewers === "object" && topology.viewers !== null;
}
