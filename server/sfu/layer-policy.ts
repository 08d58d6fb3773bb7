/**
 * The limits of the SFU's simulcast layer choice (stream-layers.ts), and
 * one viewer's timing: when Janus says the viewer's link loses what it
 * sends (`slowlink`, from its NACKs and receiver reports) the viewer may go
 * one layer down at most once per {@link LayerLimits.settleMs} (Janus
 * repeats the report while it lasts); after {@link LayerLimits.upAfterMs}
 * without a step or a report it may try one up; a layer that fails again
 * soon after going up waits twice as long next time (up to
 * {@link LayerLimits.maxUpAfterMs}), so a link that only carries the middle
 * layer does not flap between two.
 */
export interface LayerLimits {
  /** The least time between two steps down of one viewer. */
  settleMs: number;
  /**
   * After the broadcaster's video was lost on its way to Janus (a lossy
   * uplink, its path broken and back), its viewers' loss reports move
   * nobody down for this long: they count the same gap (measured: Janus's
   * `slowlink` for a viewer came up to 2.5 s after the broadcaster's media
   * was back from an address change).
   */
  upstreamQuietMs: number;
  /** Quiet time before a viewer tries a layer up. */
  upAfterMs: number;
  /** The longest quiet time asked before a layer up. */
  maxUpAfterMs: number;
  /**
   * A viewer's step down waits a random 0 to this long: viewers hit by one
   * burst of loss do not all switch (and ask the broadcaster for a
   * keyframe) in the same instant.
   */
  jitterMs: number;
  /** A step up waits a random 0 to this long past its quiet time. */
  upJitterMs: number;
  /**
   * Switches Janus is asked for per stream per second, at most (each one
   * costs the broadcaster a keyframe); the rest wait their turn.
   */
  switchesPerSecond: number;
  /**
   * A switch Janus has not confirmed (`substream` event) this long after
   * it was asked: a keyframe is asked of the broadcaster; again after as
   * long; a third time, and the layer is taken not to arrive.
   */
  confirmMs: number;
  /**
   * A layer taken not to arrive is not used for this long (doubling each
   * time again, up to 16 times), unless Janus sends it to a viewer.
   */
  missingForMs: number;
  /**
   * A layer no viewer gets or moves to is paused (dynacast) once it has
   * not been needed for this long: the broadcaster stops encoding it.
   */
  pauseAfterMs: number;
  /**
   * A viewer's own report (`viewer-loss`) of at least this share of its
   * video packets lost in the last second, in percent, counts as a slow
   * link (as Janus's `slowlink` does).
   */
  lossPercent: number;
}

export const DEFAULT_LAYER_LIMITS: Readonly<LayerLimits> = {
  settleMs: 2_000,
  upstreamQuietMs: 5_000,
  upAfterMs: 15_000,
  maxUpAfterMs: 120_000,
  jitterMs: 250,
  upJitterMs: 5_000,
  switchesPerSecond: 10,
  confirmMs: 1_000,
  missingForMs: 30_000,
  pauseAfterMs: 5_000,
  lossPercent: 10,
};

/** One viewer's step timing (the layers themselves: stream-layers.ts). */
export class LayerPolicy {
  #limits: LayerLimits;
  #changedAt = Number.NEGATIVE_INFINITY;
  #downAt = Number.NEGATIVE_INFINITY;
  #lossAt = Number.NEGATIVE_INFINITY;
  #upAfterMs: number;
  /** The last step was up: a loss right after it is that layer's fault. */
  #wentUp = false;

  constructor(limits: LayerLimits) {
    this.#limits = limits;
    this.#upAfterMs = limits.upAfterMs;
  }

  /** Whether a step down may be taken at `now` (one per settle time). */
  canStepDown(now: number): boolean {
    return now - this.#downAt >= this.#limits.settleMs;
  }

  /** When a step up may be tried (before its jitter): a quiet while after the last step or loss. */
  get upAt(): number {
    return Math.max(this.#changedAt, this.#lossAt) + this.#upAfterMs;
  }

  /** Janus said the link lost packets at `now`: it is not quiet. */
  lost(now: number): void {
    this.#lossAt = now;
  }

  /** A step was taken at `now`, down or `up`. */
  stepped(now: number, up: boolean): void {
    if (!up && this.#wentUp && now - this.#changedAt < this.#upAfterMs) {
      this.#upAfterMs = Math.min(
        this.#upAfterMs * 2,
        this.#limits.maxUpAfterMs,
      );
    }
    if (!up) this.#downAt = now;
    this.#changedAt = now;
    this.#wentUp = up;
  }
}
