/**
 * Runs the effects of the SFU relay's steps (topology.ts decides them):
 * Janus calls, timers, layers, metrics and log lines; the messages a step
 * sends are collected in its `Done`. What Janus answers later comes back
 * as a new step (`later`).
 */
import type { KeyedTimers } from "./keyed-timers.ts";
import type { Outbound, SfuRelayOptions } from "./relay-options.ts";
import type {
  Effect,
  SfuPhase,
  StreamTopology,
  TopologyEvent,
} from "./topology.ts";
import { keyOf, type ViewerLayers } from "./viewer-layers.ts";
import { simulcastRids } from "./stream-layers.ts";

/** What a step left to do: its messages, and Janus's publish if it began one. */
export interface Done {
  out: Outbound[];
  publishing?: Promise<void>;
}

export interface EffectDeps {
  options: SfuRelayOptions;
  timers: KeyedTimers;
  layers: ViewerLayers;
  /** A step started by Janus or a timer. */
  later(streamId: string, event: TopologyEvent): void;
  phaseOf(streamId: string): SfuPhase | undefined;
}

export class EffectRunner {
  #deps: EffectDeps;

  constructor(deps: EffectDeps) {
    this.#deps = deps;
  }

  /** The timers `topology` runs (it was taken over from another node). */
  restartTimers(topology: StreamTopology): void {
    const { streamId } = topology;
    const done: Done = { out: [] };
    if (topology.phase === "asked") {
      this.run(streamId, { kind: "start-timer", timer: "offer" }, done);
    }
    for (const [viewerId, viewer] of Object.entries(topology.viewers)) {
      if (viewer.route !== "switching") continue;
      this.run(
        streamId,
        { kind: "start-timer", timer: "switch", viewerId },
        done,
      );
    }
  }

  run(streamId: string, effect: Effect, done: Done): void {
    const { gateway, logger, metrics } = this.#deps.options;
    switch (effect.kind) {
      case "send":
        done.out.push({ to: effect.to, message: effect.message });
        return;
      case "publish":
        done.publishing = this.#publish(streamId, effect);
        return;
      case "subscribe":
        return this.#subscribe(streamId, effect.viewerId, effect.attempt);
      case "unsubscribe":
        // Off the SFU (a switch given up, a subscription failed): its
        // layer no longer counts as wanted nor its steps against the cap.
        this.#deps.layers.forget(streamId, effect.viewerId);
        gateway.unsubscribe(streamId, effect.viewerId).catch(() => {});
        return;
      case "end":
        this.#deps.layers.end(streamId);
        gateway.end(streamId).catch(() => {});
        return;
      case "start-timer": {
        const offer = effect.timer === "offer";
        return this.#deps.timers.start(
          offer ? streamId : keyOf(streamId, effect.viewerId),
          offer
            ? this.#deps.options.offerTimeoutMs
            : this.#deps.options.switchTimeoutMs,
          () =>
            this.#deps.later(
              streamId,
              offer
                ? { kind: "offer-timeout" }
                : { kind: "switch-timeout", viewerId: effect.viewerId },
            ),
        );
      }
      case "stop-timer":
        return this.#deps.timers.stop(
          effect.timer === "offer"
            ? streamId
            : keyOf(streamId, effect.viewerId),
        );
      case "forget-layers":
        this.#deps.layers.forget(streamId, effect.viewerId);
        return;
      case "layers":
        this.#deps.layers.published(streamId, effect.rids);
        return;
      case "fallback":
        metrics.countSfuFallback(effect.why);
        if (effect.viewerId) {
          logger.warn(
            effect.why === "switch-timeout"
              ? "sfu-switch-failed"
              : "sfu-viewer-fallback",
            { streamId, viewerId: effect.viewerId, why: effect.why },
          );
        } else logger.warn("sfu-fallback", { streamId, why: effect.why });
        return;
      case "moved":
        metrics.sfuSwitches++;
        logger.info("sfu-viewer-moved", {
          streamId,
          viewerId: effect.viewerId,
          overlap: effect.overlap,
        });
        return;
      case "republish":
        metrics.sfuRepublishes++;
        logger.warn("sfu-republish", { streamId });
        return;
      case "restart-not-needed":
        logger.debug("sfu-restart-not-needed", {
          streamId,
          viewerId: effect.viewerId,
        });
        return;
    }
  }

  #publish(
    streamId: string,
    { from, sdp, publication, e2ee }: Effect & { kind: "publish" },
  ): Promise<void> {
    return this.#deps.options.gateway.publish(
      streamId,
      { type: "offer", sdp },
      from,
      e2ee === true,
    ).then(
      (answer) => {
        // Its layers start over, all asked for (after the answer it
        // sent), if the step is taken (not a stale or refused publish).
        this.#deps.later(streamId, {
          kind: "published",
          from,
          publication,
          sdp: answer.sdp,
          rids: simulcastRids(sdp),
        });
      },
      (error) => {
        if (this.#deps.phaseOf(streamId) !== "publishing") return;
        this.#deps.options.logger.warn("sfu-publish-failed", {
          streamId,
          error: String(error),
        });
        this.#deps.later(streamId, {
          kind: "publish-failed",
          from,
          publication,
        });
      },
    );
  }

  #subscribe(streamId: string, viewerId: string, attempt: number): void {
    const { gateway, logger } = this.#deps.options;
    logger.debug("sfu-subscribing", { streamId, viewerId });
    gateway.subscribe(streamId, viewerId).then(
      (jsep) =>
        this.#deps.later(streamId, {
          kind: "subscribed",
          viewerId,
          attempt,
          sdp: jsep.sdp,
        }),
      (error) => {
        logger.warn("sfu-subscribe-failed", {
          streamId,
          viewerId,
          error: String(error),
        });
        this.#deps.later(streamId, {
          kind: "subscribe-failed",
          viewerId,
          attempt,
        });
      },
    );
  }
}
