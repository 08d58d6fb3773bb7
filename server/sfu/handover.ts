/**
 * A stream's SFU state kept where every node can read it (Redis, with
 * REDIS_URL), so that when the node driving it goes, the node its
 * broadcaster comes back on takes it over: the same Janus sessions and
 * handles, claimed (stream-on-sfu.ts), no publish again, no viewer's
 * connection touched. One node drives a stream at a time: the store fences
 * a node that lost it (its saves are refused and it lets go).
 */
import type { Logger } from "../observe/logger.ts";
import type { PoolRecord } from "./sfu-pool.ts";
import type { StreamTopology } from "./topology.ts";

/**
 * The snapshot's format: a node only drives a snapshot of its own version
 * (during a rolling deploy another's is published anew, not guessed at).
 */
export const SNAPSHOT_VERSION = 1;

/** What another node needs to drive a stream: its topology and Janus state. */
export interface SfuSnapshot {
  readonly v: number;
  readonly topology: StreamTopology;
  readonly pool?: PoolRecord;
}

/** Where snapshots live (redis-sfu-store.ts), one per stream. */
export interface SfuStore {
  /**
   * Saves `snapshot` for `streamId` as driven by this node: false when
   * another node drives it now (this one is to let go).
   */
  save(streamId: string, snapshot: SfuSnapshot): Promise<boolean>;
  /** The stream's snapshot, now driven by this node; none if there is none. */
  take(streamId: string): Promise<SfuSnapshot | undefined>;
  /** The stream ended here: its snapshot goes (if this node drives it). */
  remove(streamId: string): Promise<void>;
}

export interface HandoverOptions {
  store: SfuStore;
  logger: Logger;
  /** The stream's state now (undefined once it ended here). */
  topology(streamId: string): StreamTopology | undefined;
  /** Its Janus state now. */
  describe(streamId: string): Promise<PoolRecord | undefined>;
  /** Another node drives the stream: stop, touching nothing in Janus. */
  fenced(streamId: string): void;
  /** The streams driven here (their snapshots are renewed). */
  streams(): Iterable<string>;
}

/** Snapshots are saved again this often, well inside their TTL. */
export const RENEW_MS = 20_000;
/** How long a stream let go is remembered (longer than any save runs). */
const RELEASED_MS = 60_000;

export class Handover {
  #options: HandoverOptions;
  /**
   * Streams let go to another node (when): not saved, nor removed, from
   * here. Forgotten after RELEASED_MS, when no save could be due any more.
   */
  #released = new Map<string, number>();
  /** Streams with a save running, and whether another is due after it. */
  #saving = new Map<string, { again: boolean; done?: Promise<void> }>();

  #renew: ReturnType<typeof setInterval>;

  constructor(options: HandoverOptions) {
    this.#options = options;
    this.#renew = setInterval(() => {
      for (const streamId of options.streams()) this.changed(streamId);
    }, RENEW_MS);
    Deno.unrefTimer(this.#renew);
  }

  /** Stops renewing (the server is closing). */
  close(): void {
    clearInterval(this.#renew);
  }

  /**
   * The stream's state changed here: it is saved (at once, or after the
   * save running, coalescing what changed meanwhile).
   */
  changed(streamId: string): void {
    if (this.#released.has(streamId)) return;
    const running = this.#saving.get(streamId);
    if (running) {
      running.again = true;
      return;
    }
    const entry: { again: boolean; done?: Promise<void> } = { again: false };
    this.#saving.set(streamId, entry);
    entry.done = this.#save(streamId, entry).finally(() =>
      this.#saving.delete(streamId)
    );
  }

  /** Settles once no save is running (for tests and a clean close). */
  async settled(): Promise<void> {
    while (this.#saving.size > 0) {
      await Promise.all([...this.#saving.values()].map(({ done }) => done));
    }
  }

  /** The snapshot another node left of `streamId`, now driven here. */
  take(streamId: string): Promise<SfuSnapshot | undefined> {
    this.#released.delete(streamId);
    return this.#options.store.take(streamId);
  }

  /**
   * Another node drives `streamId` now: a save due here is dropped (its
   * state is gone here, and removing the snapshot would lose the other
   * node's takeover).
   */
  released(streamId: string): void {
    const now = performance.now();
    for (const [id, at] of this.#released) {
      if (now - at > RELEASED_MS) this.#released.delete(id);
    }
    this.#released.set(streamId, now);
  }

  async #save(streamId: string, entry: { again: boolean }): Promise<void> {
    const { store, logger } = this.#options;
    // Each pass saves what is true now, so a change made while the store
    // was busy is in the next pass.
    do {
      entry.again = false;
      if (this.#released.has(streamId)) return;
      const topology = this.#options.topology(streamId);
      try {
        const pool = topology && await this.#options.describe(streamId);
        // Peer to peer with nothing in Janus: nothing for a node to take.
        if (!topology || (topology.phase === "p2p" && !pool)) {
          await store.remove(streamId);
          logger.debug("sfu-state-removed", { streamId });
          continue;
        }
        if (this.#released.has(streamId)) return;
        const kept = await store.save(streamId, {
          v: SNAPSHOT_VERSION,
          topology,
          ...(pool ? { pool } : {}),
        });
        if (!kept) {
          logger.info("sfu-handed-over", { streamId });
          this.#options.fenced(streamId);
          return;
        }
      } catch (error) {
        // Redis away: the next change saves the whole state again.
        logger.warn("sfu-state-not-saved", {
          streamId,
          error: String(error),
        });
        return;
      }
    } while (entry.again);
  }
}
