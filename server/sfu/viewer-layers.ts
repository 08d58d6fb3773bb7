/**
 * Each SFU viewer's simulcast layer: Janus reports a viewer's link as slow
 * (`slowlink`), the viewer's LayerPolicy steps it down, and a tick steps
 * viewers on a lower layer back up after a quiet while. Per link, so per
 * node: not part of the stream's topology.
 */
import type { Logger } from "../observe/logger.ts";
import type { Metrics } from "../observe/metrics.ts";
import { LayerPolicy, type LayerPolicyOptions } from "./layer-policy.ts";
import type { SfuGateway } from "./sfu-gateway.ts";

/** How often viewers on a lower simulcast layer are checked for a step up. */
const LAYER_TICK_MS = 1_000;

export interface ViewerLayersOptions {
  gateway: Pick<SfuGateway, "setLayer">;
  logger: Logger;
  metrics: Metrics;
  /** Whether the viewer watches through the SFU alone (ticks only those). */
  onSfu(streamId: string, viewerId: string): boolean;
  layers?: LayerPolicyOptions;
}

export class ViewerLayers {
  #options: ViewerLayersOptions;
  #policies = new Map<string, LayerPolicy>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: ViewerLayersOptions) {
    this.#options = options;
  }

  /** Janus says the viewer's link loses packets: a lower layer, maybe. */
  slow(streamId: string, viewerId: string): void {
    const key = keyOf(streamId, viewerId);
    let policy = this.#policies.get(key);
    if (!policy) {
      this.#policies.set(key, policy = new LayerPolicy(this.#options.layers));
    }
    this.#set(streamId, viewerId, policy.slow(Date.now()));
    this.#timer ??= setInterval(() => this.#tick(), LAYER_TICK_MS);
  }

  /** A new subscription (Janus starts on its best layer) or a viewer gone. */
  forget(streamId: string, viewerId: string): void {
    this.#policies.delete(keyOf(streamId, viewerId));
  }

  /** Stops the tick (the server is closing, or nobody is lowered). */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    let lowered = false;
    for (const [key, policy] of this.#policies) {
      const [streamId, viewerId] = key.split("\n");
      if (!this.#options.onSfu(streamId, viewerId)) continue;
      this.#set(streamId, viewerId, policy.tick(Date.now()));
      if (policy.layer < (this.#options.layers?.top ?? 2)) lowered = true;
    }
    if (!lowered) this.close();
  }

  #set(streamId: string, viewerId: string, layer: number | undefined): void {
    if (layer === undefined) return;
    const { gateway, logger, metrics } = this.#options;
    logger.info("sfu-layer", { streamId, viewerId, layer });
    metrics.sfuLayerChanges++;
    gateway.setLayer(streamId, viewerId, layer).catch((error) =>
      logger.warn("sfu-layer-failed", {
        streamId,
        viewerId,
        error: String(error),
      })
    );
  }
}

/** A viewer's key (stream ids hold no newline: STREAM_ID_PATTERN). */
export function keyOf(streamId: string, viewerId: string): string {
  return `${streamId}\n${viewerId}`;
}
