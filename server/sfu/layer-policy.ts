/**
 * Which simulcast layer the SFU sends one viewer (VideoRoom `substream`:
 * 0 the smallest, 2 the full picture). Janus says when a viewer's link
 * loses what it sends (`slowlink`, from the viewer's NACKs and receiver
 * reports): one layer down, at most once per {@link LayerPolicyOptions.settleMs}
 * (Janus repeats the report while it lasts). After a quiet
 * {@link LayerPolicyOptions.upAfterMs}, one layer up again; a layer that
 * fails again soon after going up waits twice as long next time (up to
 * {@link LayerPolicyOptions.maxUpAfterMs}), so a link that only carries the
 * middle layer does not flap between two.
 */
export interface LayerPolicyOptions {
  /** The top layer (2 for three layers). */
  top: number;
  /** The least time between two changes down. */
  settleMs: number;
  /** Quiet time before trying a layer up. */
  upAfterMs: number;
  /** The longest quiet time asked before a layer up. */
  maxUpAfterMs: number;
}

export const DEFAULT_LAYER_POLICY: LayerPolicyOptions = {
  top: 2,
  settleMs: 2_000,
  upAfterMs: 15_000,
  maxUpAfterMs: 120_000,
};

export class LayerPolicy {
  #options: LayerPolicyOptions;
  #layer: number;
  #changedAt = Number.NEGATIVE_INFINITY;
  #upAfterMs: number;
  /** The last change was up: a loss right after it is that layer's fault. */
  #wentUp = false;

  constructor(options: LayerPolicyOptions = DEFAULT_LAYER_POLICY) {
    this.#options = options;
    this.#layer = options.top;
    this.#upAfterMs = options.upAfterMs;
  }

  get layer(): number {
    return this.#layer;
  }

  /** The viewer's link lost packets at `now`: the new layer, if it changes. */
  slow(now: number): number | undefined {
    const since = now - this.#changedAt;
    if (since < this.#options.settleMs || this.#layer === 0) return undefined;
    if (this.#wentUp && since < this.#upAfterMs) {
      this.#upAfterMs = Math.min(
        this.#upAfterMs * 2,
        this.#options.maxUpAfterMs,
      );
    }
    return this.#change(this.#layer - 1, now, false);
  }

  /** Called now and then: the new layer, if it is time to try one up. */
  tick(now: number): number | undefined {
    if (
      this.#layer === this.#options.top ||
      now - this.#changedAt < this.#upAfterMs
    ) return undefined;
    return this.#change(this.#layer + 1, now, true);
  }

  #change(layer: number, now: number, up: boolean): number {
    this.#layer = layer;
    this.#changedAt = now;
    this.#wentUp = up;
    return layer;
  }
}
