/**
 * The router's side of the SFU. A stream on the SFU: its broadcaster is
 * asked to publish one connection (`sfu-publish`, `sfu-offer`,
 * `sfu-answer`), and each viewer gets Janus's offer as an ordinary
 * `webrtc-offer` from its broadcaster, its answer and candidates going to
 * Janus: a seed viewer cannot tell. When and how (past `afterViewers`, make
 * before break, back to peer to peer) is decided in topology.ts, one pure
 * transition table; this class keeps each stream's state, runs the effects
 * (Janus calls, timers, metrics) and hands back the messages a step sends:
 * the router sends them, the relay never calls into it. Messages that arise
 * later (Janus answered, a timer fired) go to `post`.
 */
import { sdpSyntaxProblem } from "../../protocol/sdp-check.ts";
import type {
  SfuIceCandidate,
  SfuOffer,
  ViewerLoss,
  ViewerPlaying,
  WebRtcAnswer,
  WebRtcIceCandidate,
} from "../../protocol/messages.ts";
import type { Departure, Seat, ViewerSeat } from "../signaling/directory.ts";
import type { Peer } from "../signaling/peer.ts";
import type { ServerMessage } from "../../protocol/messages.ts";
import { Handover } from "./handover.ts";
import { Takeover } from "./takeover.ts";
import type { Outbound, SfuRelayOptions } from "./relay-options.ts";
import { keyOf, ViewerLayers } from "./viewer-layers.ts";
import { KeyedTimers } from "./keyed-timers.ts";
import { type Done, EffectRunner } from "./relay-effects.ts";
import type { EdgeLostEvent, LostEvent } from "./sfu-pool.ts";
import type { MediaEvent } from "./handle-events.ts";
import {
  emptyTopology,
  isEmpty,
  type SfuPhase,
  type Step,
  type StreamTopology,
  type TopologyConfig,
  type TopologyEvent,
  transition,
  type ViewerRoute,
} from "./topology.ts";

export type { SfuPhase, ViewerRoute } from "./topology.ts";
export type { Gateway, Outbound, SfuRelayOptions } from "./relay-options.ts";

/**
 * After a publisher's ICE restart: key frames asked for this long after
 * each other (ms), the first reaching it once its new path connects
 * (Chromium sees a new address only ~2 s after it appears).
 */
const KEY_FRAMES_AFTER_RESTART_MS = [500, 1_000, 1_000] as const;

/**
 * The publisher's media back at Janus: a key frame at once, and another
 * this much later (ms). The first one's picture often stops after a few
 * frames (its viewers' next frames do not decode until a key frame: seen
 * in 4 of 6 address changes, 0.3-0.8 s); a browser sends no key frame
 * within ~300 ms of its last.
 */
const SECOND_KEY_FRAME_MS = 350;

export class SfuRelay {
  #options: SfuRelayOptions;
  #config: TopologyConfig;
  #streams = new Map<string, StreamTopology>();
  /** Offer timers by stream, switch timers by stream and viewer. */
  #timers = new KeyedTimers();
  /** Each stream's simulcast layers: its viewers', and what is sent. */
  #layers: ViewerLayers;
  /** With a cluster: each stream's state saved for another node to take. */
  #handover: Handover | undefined;
  #takeover: Takeover | undefined;
  #effects: EffectRunner;

  constructor(options: SfuRelayOptions) {
    this.#options = options;
    this.#config = {
      afterViewers: options.afterViewers,
      directMax: options.directMax,
    };
    this.#layers = new ViewerLayers({
      ...options,
      limits: options.layers,
      onSfu: (streamId, viewerId) => this.blocks(streamId, viewerId),
      tellBroadcaster: (streamId, message) => {
        const to = this.#streams.get(streamId)?.broadcaster;
        if (to) options.post([{ to, message }]);
      },
    });
    this.#effects = new EffectRunner({
      options,
      timers: this.#timers,
      layers: this.#layers,
      later: (streamId, event) => this.#later(streamId, event),
      phaseOf: (streamId) => this.phaseOf(streamId),
    });
    const { store, gateway, logger } = options;
    this.#handover = store && new Handover({
      store,
      logger,
      topology: (streamId) => this.#streams.get(streamId),
      describe: (streamId) => gateway.describe(streamId),
      fenced: (streamId) => this.release(streamId),
      streams: () => this.#streams.keys(),
    });
    this.#takeover = this.#handover && new Takeover({
      handover: this.#handover,
      gateway,
      logger,
      has: (streamId) => this.#streams.has(streamId),
      install: (topology) => {
        this.#streams.set(topology.streamId, topology);
        // Its timers stayed with the node that went: they start again here.
        this.#effects.restartTimers(topology);
      },
      later: (streamId, event) => this.#later(streamId, event),
    });
    gateway.events.addEventListener("changed", (event) => {
      const streamId = (event as CustomEvent<string>).detail;
      if (this.#streams.has(streamId)) this.#handover?.changed(streamId);
    });
    options.gateway.events.addEventListener("lost", (event) => {
      const { streams, up } = (event as CustomEvent<LostEvent>).detail;
      for (const streamId of streams) {
        this.#later(streamId, { kind: "sfu-lost", sfuUp: up });
      }
    });
    options.gateway.events.addEventListener("edge-lost", (event) => {
      const { streamId, viewers } = (event as CustomEvent<EdgeLostEvent>)
        .detail;
      for (const viewerId of viewers) {
        this.#later(streamId, { kind: "resubscribe", viewerId });
      }
    });
    // The broadcaster's media back at Janus after a silence (its address
    // changed, its ICE restarted): a key frame now. Its viewers asked for
    // one while its path was dead, and Janus's request went down with it.
    options.gateway.events.addEventListener("media", (event) => {
      const { streamId, viewerId, flowing } =
        (event as CustomEvent<MediaEvent>).detail;
      if (viewerId === undefined && flowing && this.#streams.has(streamId)) {
        options.gateway.requestKeyframe(streamId).catch(() => {});
        this.#layers.upstreamLoss(streamId);
        this.#timers.start(
          `${streamId}\nkey-frame`,
          SECOND_KEY_FRAME_MS,
          () => {
            if (!this.#streams.has(streamId)) return;
            options.gateway.requestKeyframe(streamId).catch(() => {});
          },
        );
      }
    });
    options.gateway.events.addEventListener("up", () => {
      for (const streamId of [...this.#streams.keys()]) {
        this.#later(streamId, { kind: "sfu-up" });
      }
    });
  }

  /** The phase of `streamId`, if this relay knows it. */
  phaseOf(streamId: string): SfuPhase | undefined {
    return this.#streams.get(streamId)?.phase;
  }

  /** How `viewerId` gets the video of `streamId`. */
  routeOf(streamId: string, viewerId: string): ViewerRoute | undefined {
    return this.#streams.get(streamId)?.viewers[viewerId]?.route;
  }

  /**
   * Whether the broadcaster's own offers and candidates to `viewerId` are
   * dropped: the viewer gets (or is about to get) its video from the SFU,
   * and a seed viewer would give up the SFU's connection for a new offer.
   */
  blocks(streamId: string, viewerId: string): boolean {
    const route = this.routeOf(streamId, viewerId);
    return route !== undefined && route !== "p2p";
  }

  /**
   * A broadcaster announced. `direct`: the viewers it is to hear of and
   * connect to itself: every one when the stream stays peer to peer; when
   * the SFU takes it, only those that say they hold a connection (they
   * switch to the SFU make before break), and none when it resumed its place
   * on the SFU. `out`: what to send first. `e2ee`: it encrypts end to end
   * (`viewers` are then only those that decrypt): its Janus room requires it.
   */
  announced(
    streamId: string,
    broadcaster: Seat,
    viewers: readonly ViewerSeat[],
    sfuOnly = false,
    e2ee = false,
  ): { direct: readonly ViewerSeat[]; out: Outbound[] } {
    const step = this.#step(streamId, {
      kind: "announce",
      broadcaster,
      viewers,
      sfuOnly,
      sfuUp: this.#options.gateway.up,
      ...(e2ee ? { e2ee } : {}),
    });
    if (!step.ok) return { direct: viewers, out: [] };
    const { out } = this.#commit(step);
    // Taken over from another node (its broadcaster resumed here): the
    // layer choice stayed there. Here it starts with every layer asked for
    // again (that node may have paused some), none paused, since which
    // layer each viewer gets is not known here (stream-layers.ts).
    // Announced again on its published stream (its socket came back): a
    // pause asked for meanwhile may have gone down with the old socket, and
    // it would send every layer for good.
    const { phase, rids } = step.state;
    if (phase === "published" && rids?.length) {
      if (!this.#layers.has(streamId)) {
        this.#layers.published(streamId, rids, true);
      }
      // One rid is no simulcast: nothing chosen, nothing to pause.
      const wanted = this.#layers.wanted(streamId);
      out.push({
        to: broadcaster,
        message: {
          type: "sfu-layers",
          streamId,
          rids: wanted?.length ? wanted : [...rids],
        },
      });
    }
    return { direct: step.direct ?? viewers, out };
  }

  /**
   * A viewer joined a stream (or joined again). `taken`: the SFU takes it,
   * so the broadcaster is not asked to connect to it (it is subscribed now,
   * or once the broadcaster has published, or told the SFU cannot serve).
   */
  joined(
    streamId: string,
    seat: ViewerSeat,
    restart = false,
    overlap = false,
    sfuOnly = false,
  ): { taken: boolean; out: Outbound[] } {
    const step = this.#step(streamId, {
      kind: "join",
      viewer: seat,
      restart,
      overlap,
      sfuOnly,
      sfuUp: this.#options.gateway.up,
      subscribed: this.#options.gateway.isSubscribed(streamId, seat.id),
    });
    if (!step.ok) return { taken: false, out: [] };
    return { taken: step.taken ?? false, out: this.#commit(step).out };
  }

  /** Where `viewerId` of `streamId` is, as this relay knows it. */
  seatOf(streamId: string, viewerId: string): ViewerSeat | undefined {
    return this.#streams.get(streamId)?.viewers[viewerId]?.seat;
  }

  /** A viewer on another node left (its node told the broadcaster's). */
  viewerLeft(streamId: string, viewerId: string): void {
    if (!this.#streams.get(streamId)?.viewers[viewerId]) return;
    this.#later(streamId, {
      kind: "depart",
      clientId: viewerId,
      role: "viewer",
    });
  }

  /** Someone left: a viewer's subscription goes; a broadcaster's stream ends. */
  departed(departure: Departure): void {
    const { streamId, role } = departure.place;
    if (!this.#streams.has(streamId)) {
      // Its node died and it never came back: the node that reaped it
      // takes the stream's Janus state over to end it (nothing left behind).
      if (role === "broadcaster" && this.#takeover) {
        this.adopt(streamId, departure.clientId).then(() =>
          this.#later(streamId, {
            kind: "depart",
            clientId: departure.clientId,
            role,
          })
        ).catch((error) =>
          this.#options.logger.warn("sfu-take-over-failed", {
            streamId,
            error: String(error),
          })
        );
      }
      return;
    }
    this.#later(streamId, {
      kind: "depart",
      clientId: departure.clientId,
      role,
    });
  }

  /**
   * The broadcaster's offer for its connection to the SFU. `published`
   * settles once Janus answered (or refused): its candidates wait for it.
   */
  offer(
    peer: Peer,
    message: SfuOffer,
  ): { out: Outbound[]; published: Promise<void> } {
    const { streamId, offer } = message;
    const unparsable = sdpSyntaxProblem(offer.sdp);
    const refuse = (code: "bad-sdp" | "not-in-stream", text: string) => {
      peer.send({
        type: "error",
        code,
        message: text,
        inReplyTo: message.type,
      });
      return { out: [], published: Promise.resolve() };
    };
    const topology = this.#streams.get(streamId);
    // Published already, by this broadcaster: an ICE restart of its
    // connection (its address changed). Janus answers on the same
    // publisher; the viewers keep their subscriptions.
    if (
      topology?.phase === "published" && topology.broadcaster?.id === peer.id
    ) {
      if (unparsable) return refuse("bad-sdp", unparsable);
      return { out: [], published: this.#restartPublisher(peer, message) };
    }
    const step = this.#step(streamId, {
      kind: "offer",
      from: peer.id,
      sdp: offer.sdp,
    });
    if (!step.ok) {
      return refuse(
        "not-in-stream",
        `Stream ${streamId} is not asking you to publish`,
      );
    }
    // Janus would refuse it after a round trip, or not answer at all. The
    // step is not taken: the stream stays asked.
    if (unparsable) return refuse("bad-sdp", unparsable);
    const { out, publishing } = this.#commit(step);
    return { out, published: publishing ?? Promise.resolve() };
  }

  /**
   * The broadcaster's ICE restart of its connection to Janus: Janus's answer
   * goes back as `sfu-answer`. Refused, the broadcaster publishes anew (its
   * connection is down, and the viewers' pictures with it).
   */
  async #restartPublisher(peer: Peer, message: SfuOffer): Promise<void> {
    const { streamId, offer } = message;
    const { gateway, logger, metrics } = this.#options;
    const { publication } = this.#streams.get(streamId)!;
    // Still the publication this restart was of (not gone, replaced, nor
    // published anew meanwhile): its answer or refusal is for it.
    const current = () => {
      const topology = this.#streams.get(streamId);
      return topology?.phase === "published" &&
        topology.broadcaster?.id === peer.id &&
        topology.publication === publication;
    };
    try {
      const answer = await gateway.restartPublisher(streamId, offer);
      metrics.sfuPublisherRestarts++;
      logger.info("sfu-publisher-restarted", { streamId });
      if (!current()) return;
      // What its viewers lose until its media is back is its outage, and
      // they need a key frame once it is: asked for a few times, as its
      // media comes back only when ICE connects on its new path (Janus's
      // media events do not always say when).
      this.#layers.upstreamLoss(streamId);
      this.#keyFramesAfterRestart(streamId, [...KEY_FRAMES_AFTER_RESTART_MS]);
      peer.send({
        type: "sfu-answer",
        streamId,
        answer: { type: "answer", sdp: answer.sdp },
      });
    } catch (error) {
      logger.warn("sfu-publisher-restart-failed", {
        streamId,
        error: String(error),
      });
      if (current()) this.#later(streamId, { kind: "publisher-lost" });
    }
  }

  /** Asks Janus for a key frame of `streamId` after each of `delays` (ms). */
  #keyFramesAfterRestart(streamId: string, delays: number[]): void {
    const ms = delays.shift();
    if (ms === undefined) return;
    this.#timers.start(`${streamId}\nkey-frames`, ms, () => {
      if (!this.#streams.has(streamId)) return;
      this.#options.gateway.requestKeyframe(streamId).catch(() => {});
      this.#keyFramesAfterRestart(streamId, delays);
    });
  }

  /** A candidate of the broadcaster's connection to the SFU. */
  candidate(peer: Peer, message: SfuIceCandidate): void {
    const topology = this.#streams.get(message.streamId);
    if (topology?.broadcaster?.id !== peer.id) return;
    this.#options.gateway.trickle(
      message.streamId,
      undefined,
      message.candidate,
    ).catch(() => {});
  }

  /**
   * The viewer plays the connection of `session`: when that is the SFU's,
   * its switch is done and the broadcaster closes its own connection to it.
   */
  playing(viewerId: string, message: ViewerPlaying): Outbound[] {
    const step = this.#step(message.streamId, {
      kind: "playing",
      viewerId,
      session: message.session,
    });
    return step.ok ? this.#commit(step).out : [];
  }

  /** A viewer's own loss report (`viewer-loss`): see ViewerLayers.reported. */
  viewerLoss(viewerId: string, message: ViewerLoss): void {
    const { streamId, lost, received } = message;
    this.#layers.reported(streamId, viewerId, lost, received);
  }

  /**
   * A viewer's answer or candidate: Janus's when the viewer watches through
   * the SFU. Returns whether it was taken here.
   */
  fromViewer(
    viewerId: string,
    message: WebRtcAnswer | WebRtcIceCandidate,
    reply: (message: ServerMessage) => void,
  ): boolean {
    const { streamId } = message;
    const { gateway, logger } = this.#options;
    if (!this.blocks(streamId, viewerId)) return false;
    if (!gateway.isSubscribed(streamId, viewerId)) return true;
    const unparsable = message.type === "webrtc-answer"
      ? sdpSyntaxProblem(message.answer.sdp)
      : undefined;
    if (unparsable) {
      reply({
        type: "error",
        code: "bad-sdp",
        message: unparsable,
        inReplyTo: message.type,
      });
      return true;
    }
    const step = message.type === "webrtc-answer"
      ? gateway.answer(streamId, viewerId, message.answer)
      : gateway.trickle(streamId, viewerId, message.candidate);
    step.catch((error) =>
      logger.warn("sfu-viewer-step-failed", {
        streamId,
        viewerId,
        type: message.type,
        error: String(error),
      })
    );
    return true;
  }

  /**
   * Takes `streamId` over from the node that drove it (its broadcaster
   * came back here): its state and Janus sessions, so nothing is published
   * again (takeover.ts). Nothing to take, or known here already: nothing
   * happens.
   */
  adopt(streamId: string, publisherId: string): Promise<void> {
    return this.#takeover?.adopt(streamId, publisherId) ?? Promise.resolve();
  }

  /** The takeover of `streamId` under way here, if one is. */
  pendingTakeover(streamId: string): Promise<void> | undefined {
    return this.#takeover?.pending(streamId);
  }

  /**
   * With a cluster, before a message for `streamId`'s broadcaster here is
   * taken: a takeover to wait for (takeover.ts), or undefined.
   */
  whenReady(streamId: string, broadcasterId: string) {
    return this.#takeover?.whenReady(streamId, broadcasterId);
  }

  /** Another node drives `streamId` now: forget it, leave Janus alone. */
  release(streamId: string): void {
    this.#takeover?.cancel(streamId);
    this.#handover?.released(streamId);
    const topology = this.#streams.get(streamId);
    if (!topology) return;
    this.#streams.delete(streamId);
    this.#timers.stop(streamId);
    this.#timers.stop(`${streamId}\nkey-frames`);
    this.#timers.stop(`${streamId}\nkey-frame`);
    this.#layers.end(streamId);
    for (const viewerId of Object.keys(topology.viewers)) {
      this.#timers.stop(keyOf(streamId, viewerId));
    }
    this.#options.gateway.release(streamId).catch(() => {});
  }

  /** Settles once every snapshot it began saving is saved. */
  settled(): Promise<void> {
    return this.#handover?.settled() ?? Promise.resolve();
  }

  /** Stops the relay's own timers (the server is closing). */
  close(): void {
    this.#handover?.close();
    this.#layers.close();
    this.#timers.stopAll();
  }

  /** The step `event` makes on its stream (not yet taken). */
  #step(streamId: string, event: TopologyEvent): Step {
    let state = this.#streams.get(streamId);
    if (!state) {
      // Only an arrival starts a stream's record.
      if (event.kind !== "announce" && event.kind !== "join") {
        return { ok: false, why: "an unknown stream" };
      }
      state = emptyTopology(streamId);
    }
    const step = transition(state, event, this.#config);
    if (!step.ok) {
      this.#options.logger.debug("sfu-step-refused", {
        streamId,
        // Not `event`: that is the line's own name.
        step: event.kind,
        why: step.why,
      });
    }
    return step;
  }

  /** Takes a step: keeps its state and runs its effects. */
  #commit(step: Step & { ok: true }): Done {
    const { state } = step;
    const before = this.#streams.get(state.streamId)?.phase ?? "p2p";
    if (before !== state.phase) {
      this.#options.logger.debug("sfu-phase", {
        streamId: state.streamId,
        from: before,
        to: state.phase,
      });
    }
    if (isEmpty(state)) this.#streams.delete(state.streamId);
    else this.#streams.set(state.streamId, state);
    this.#handover?.changed(state.streamId);
    const done: Done = { out: [] };
    for (const effect of step.effects) {
      this.#effects.run(state.streamId, effect, done);
    }
    return done;
  }

  /** A step started by Janus, a timer or a departure: its messages are posted. */
  #later(streamId: string, event: TopologyEvent): void {
    const step = this.#step(streamId, event);
    if (!step.ok) return;
    const { out } = this.#commit(step);
    if (out.length > 0) this.#options.post(out);
  }
}
