/**
 * What a decrypting worker decides about frames, as pure state with the
 * time passed in (tests/unit/e2ee-policy.test.ts): when to ask the page for
 * an epoch's key, how long frames wait for it, how long an old epoch is
 * still accepted, and when failures mean "cannot decrypt".
 *
 * @module
 */

/** Frames wait for their epoch's key at most this long... */
export const HOLD_MS = 1_000;
/** ...and at most this many wait per receiver (3 s of video at 30 fps). */
export const HOLD_FRAMES = 90;
/** An old epoch is accepted this long after a newer one first decrypted. */
export const OLD_EPOCH_MS = 10_000;
/** "Cannot decrypt" after this many failed frames in a row... */
export const FAILED_AFTER_FRAMES = 30;
/** ...or failures for this long with no success between. */
export const FAILED_AFTER_MS = 2_000;
/** The page is asked for the same epoch's key at most this often. */
export const ASK_AGAIN_MS = 2_000;
/** An unanswered request stops blocking others after this long. */
export const ANSWER_WITHIN_MS = 5_000;

/**
 * Frames in arrival order behind one that waits for its key, bounded by
 * {@link HOLD_MS} and {@link HOLD_FRAMES}: they leave in order, or are
 * dropped (a decoder is never given a frame out of order).
 */
export class HoldQueue<T> {
  #items: { value: T; at: number }[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** The oldest frame, still held. */
  peek(): T | undefined {
    return this.#items[0]?.value;
  }

  shift(): T | undefined {
    return this.#items.shift()?.value;
  }

  /** Adds `value`; returns the oldest ones that no longer fit (dropped). */
  push(value: T, now: number): T[] {
    this.#items.push({ value, at: now });
    const over = this.#items.length - HOLD_FRAMES;
    return over > 0 ? this.#items.splice(0, over).map((i) => i.value) : [];
  }

  /** Removes and returns the frames at the head held longer than {@link HOLD_MS}. */
  expired(now: number): T[] {
    let n = 0;
    while (n < this.#items.length && now - this.#items[n].at > HOLD_MS) n++;
    return this.#items.splice(0, n).map((i) => i.value);
  }
}

/**
 * Which epochs' keys are asked for: one request at a time (a frame that is
 * no SFrame at all, a clear stream's, names a random epoch: the page's
 * provider is asked about one of them at a time, not one per frame), each
 * epoch at most every {@link ASK_AGAIN_MS}.
 */
export class KeyRequests {
  #asked = new Map<number, number>();
  #pending: { epoch: number; at: number } | undefined;

  /** Whether the page is being asked for `epoch` now. */
  waiting(epoch: number, now: number): boolean {
    const pending = this.#pending;
    if (pending && now - pending.at > ANSWER_WITHIN_MS) {
      this.#pending = undefined;
    }
    return this.#pending?.epoch === epoch;
  }

  /** Whether to ask the page for `epoch` now; if so, it counts as asked. */
  ask(epoch: number, now: number): boolean {
    if (this.waiting(epoch, now) || this.#pending) return false;
    const last = this.#asked.get(epoch);
    if (last !== undefined && now - last < ASK_AGAIN_MS) return false;
    this.#asked.set(epoch, now);
    this.#pending = { epoch, at: now };
    return true;
  }

  /** The page answered for `epoch`, with a key or without. */
  answered(epoch: number): void {
    if (this.#pending?.epoch === epoch) this.#pending = undefined;
  }
}

/**
 * Old epochs after a rotation: once a frame of a newer epoch decrypts,
 * older ones stay accepted for {@link OLD_EPOCH_MS} (frames in flight, a
 * path that switches later), then their keys are dropped. Epochs only go
 * up: one below the floor is never asked for again.
 */
export class EpochWindow {
  #newest = -1;
  #floor = 0;
  #raiseAt: number | undefined;

  /** A frame of `epoch` decrypted at `now`. */
  decrypted(epoch: number, now: number): void {
    if (epoch <= this.#newest) return;
    if (this.#newest >= 0) this.#raiseAt = now + OLD_EPOCH_MS;
    this.#newest = epoch;
  }

  /** Epochs below this are no longer accepted at `now`. */
  floor(now: number): number {
    if (this.#raiseAt !== undefined && now >= this.#raiseAt) {
      this.#floor = this.#newest;
      this.#raiseAt = undefined;
    }
    return this.#floor;
  }
}

/**
 * Consecutive failures of one receiver kind: "cannot decrypt" after
 * {@link FAILED_AFTER_FRAMES} failed frames, or failures for
 * {@link FAILED_AFTER_MS}, with no success between; one success ends it.
 */
export class FailureWatch {
  #count = 0;
  #since: number | undefined;
  failed = false;

  /** A frame failed at `now`; true when this made it fail. */
  fail(now: number): boolean {
    this.#count++;
    this.#since ??= now;
    if (
      this.failed ||
      (this.#count < FAILED_AFTER_FRAMES && now - this.#since < FAILED_AFTER_MS)
    ) return false;
    return this.failed = true;
  }

  /** A frame decrypted; true when this ended a failure. */
  ok(): boolean {
    this.#count = 0;
    this.#since = undefined;
    const was = this.failed;
    this.failed = false;
    return was;
  }
}
