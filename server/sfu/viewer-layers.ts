/**
 * Runs the simulcast layers of each stream this node drives through the
 * SFU (stream-layers.ts decides): in, the publisher's rids, Janus's
 * `slowlink` and `substream` events for its viewers and `upstream-loss`
 * for its publisher, the viewers' own loss reports (`viewer-loss`); out,
 * Janus's `configure` (a viewer's layer) and keyframe requests,
 * `sfu-layers` to the broadcaster, log lines and counters; one timer per
 * stream for what is due next. The node that drives a stream gets its Janus
 * events and reaches its broadcaster.
 */
import type { ServerMessage } from "../../protocol/messages.ts";
import type { SubstreamEvent } from "./handle-events.ts";
import type { Logger } from "../observe/logger.ts";
import type { Metrics } from "../observe/metrics.ts";
import { KeyedTimers } from "./keyed-timers.ts";
import { DEFAULT_LAYER_LIMITS, type LayerLimits } from "./layer-policy.ts";
import type { SfuPool } from "./sfu-pool.ts";
import { type LayerEffect, StreamLayers } from "./stream-layers.ts";

export interface ViewerLayersOptions {
  gateway: Pick<SfuPool, "setLayer" | "requestKeyframe" | "events">;
  /** Whether the viewer watches (or is moving to watch) through the SFU. */
  onSfu(streamId: string, viewerId: string): boolean;
  logger: Logger;
  metrics: Metrics;
  /** Sends the stream's broadcaster `message` (if it has one here). */
  tellBroadcaster(streamId: string, message: ServerMessage): void;
  limits?: LayerLimits;
  random?: () => number;
}

export class ViewerLayers {
  #options: ViewerLayersOptions;
  #limits: LayerLimits;
  #streams = new Map<string, StreamLayers>();
  #timers = new KeyedTimers();

  constructor(options: ViewerLayersOptions) {
    this.#options = options;
    this.#limits = options.limits ?? DEFAULT_LAYER_LIMITS;
    const { events } = options.gateway;
    events.addEventListener("slowlink", (event) => {
      const { streamId, viewerId } = (event as CustomEvent<
        { streamId: string; viewerId: string }
      >).detail;
      if (options.onSfu(streamId, viewerId)) this.slow(streamId, viewerId);
    });
    events.addEventListener("upstream-loss", (event) => {
      const { streamId } = (event as CustomEvent<{ streamId: string }>)
        .detail;
      this.upstreamLoss(streamId);
    });
    events.addEventListener("substream", (event) => {
      const { streamId, viewerId, substream } =
        (event as CustomEvent<SubstreamEvent>).detail;
      if (!options.onSfu(streamId, viewerId)) return;
      this.confirmed(streamId, viewerId, substream);
    });
  }

  /**
   * The broadcaster published (again) with simulcast `rids`, smallest
   * first; `adopted`: it did so on another node, which this one took the
   * stream over from (StreamLayers.published).
   */
  published(streamId: string, rids: readonly string[], adopted = false): void {
    const layers = new StreamLayers(this.#limits, this.#options.random);
    layers.published(rids, adopted);
    this.#streams.set(streamId, layers);
    this.#arm(streamId);
  }

  /**
   * What the viewers of `streamId` lose for a while now is the broadcaster's
   * (its path to Janus broke and came back), not their links': nobody is
   * moved down for it (StreamLayers.upstreamLoss).
   */
  upstreamLoss(streamId: string): void {
    this.#run(streamId, this.#streams.get(streamId)?.upstreamLoss(Date.now()));
  }

  /** Janus says the viewer's link loses what it sends. */
  slow(streamId: string, viewerId: string): void {
    this.#run(
      streamId,
      this.#streams.get(streamId)?.slow(viewerId, Date.now()),
    );
  }

  /**
   * The viewer says it lost `lost` video packets and received `received`
   * in the last second (`viewer-loss`): at {@link LayerLimits.lossPercent}
   * or more, a slow link, sooner than Janus would say (and also when
   * janus.jcfg has no `slowlink_threshold`).
   */
  reported(
    streamId: string,
    viewerId: string,
    lost: number,
    received: number,
  ): void {
    if (!this.#options.onSfu(streamId, viewerId)) return;
    const slow = lost > 0 &&
      lost * 100 >= this.#limits.lossPercent * (lost + received);
    this.#options.logger.debug("sfu-viewer-loss", {
      streamId,
      viewerId,
      lost,
      received,
      slow,
    });
    this.#options.metrics.sfuViewerLossReports++;
    if (slow) this.slow(streamId, viewerId);
  }

  /** Janus sends the viewer `layer` now. */
  confirmed(streamId: string, viewerId: string, layer: number): void {
    this.#run(
      streamId,
      this.#streams.get(streamId)?.confirmed(viewerId, layer, Date.now()),
    );
  }

  /** Whether the layers of `streamId` are chosen here. */
  has(streamId: string): boolean {
    return this.#streams.has(streamId);
  }

  /** The rids the broadcaster of `streamId` was last asked to send. */
  wanted(streamId: string): string[] | undefined {
    return this.#streams.get(streamId)?.wanted;
  }

  /** The layer Janus says it sends the viewer, if known. */
  layerOf(streamId: string, viewerId: string): number | undefined {
    return this.#streams.get(streamId)?.layerOf(viewerId);
  }

  /** A subscription ended (or starts over: Janus starts on its best layer). */
  forget(streamId: string, viewerId: string): void {
    this.#run(
      streamId,
      this.#streams.get(streamId)?.leave(viewerId, Date.now()),
    );
  }

  /** The stream left the SFU (ended, or driven elsewhere now). */
  end(streamId: string): void {
    this.#streams.delete(streamId);
    this.#timers.stop(streamId);
  }

  /** Stops every timer (the server is closing). */
  close(): void {
    this.#timers.stopAll();
  }

  #run(streamId: string, effects: LayerEffect[] | undefined): void {
    if (!effects) return;
    const { gateway, logger, metrics } = this.#options;
    for (const effect of effects) {
      switch (effect.kind) {
        case "set":
          logger.info("sfu-layer", {
            streamId,
            viewerId: effect.viewerId,
            layer: effect.layer,
            cause: effect.cause,
          });
          metrics.sfuLayerChanges++;
          gateway.setLayer(streamId, effect.viewerId, effect.layer).catch((
            error,
          ) =>
            logger.warn("sfu-layer-failed", {
              streamId,
              viewerId: effect.viewerId,
              error: String(error),
            })
          );
          break;
        case "confirmed":
          logger.debug("sfu-layer-confirmed", {
            streamId,
            viewerId: effect.viewerId,
            layer: effect.layer,
            ...(effect.afterMs === undefined ? {} : { ms: effect.afterMs }),
          });
          break;
        case "want":
          logger.info("sfu-layers-wanted", { streamId, rids: effect.rids });
          metrics.sfuLayerRequests++;
          this.#options.tellBroadcaster(streamId, {
            type: "sfu-layers",
            streamId,
            rids: effect.rids,
          });
          break;
        case "keyframe":
          logger.debug("sfu-keyframe", { streamId, layer: effect.layer });
          gateway.requestKeyframe(streamId).catch(() => {});
          break;
        case "missing":
          logger.warn("sfu-layer-missing", { streamId, layer: effect.layer });
          metrics.sfuLayersMissing++;
          break;
      }
    }
    this.#arm(streamId);
  }

  /** The stream's timer, at its next due time. */
  #arm(streamId: string): void {
    const layers = this.#streams.get(streamId);
    const now = Date.now();
    const due = layers?.nextDue(now);
    if (due === undefined) return this.#timers.stop(streamId);
    this.#timers.start(
      streamId,
      due - now,
      () => this.#run(streamId, this.#streams.get(streamId)?.tick(Date.now())),
    );
  }
}

/** A viewer's key (stream ids hold no newline: STREAM_ID_PATTERN). */
export function keyOf(streamId: string, viewerId: string): string {
  return `${streamId}\n${viewerId}`;
}
