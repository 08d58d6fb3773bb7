/**
 * The router's side of the SFU: which streams go through Janus, and the
 * messages that go with it. A stream on the SFU: its broadcaster is asked to
 * publish one connection (`sfu-publish`, `sfu-offer`, `sfu-answer`), and each
 * viewer gets Janus's offer as an ordinary `webrtc-offer` from its
 * broadcaster, its answer and candidates going to Janus: a viewer that knows
 * only the seed protocol cannot tell.
 *
 * A stream moves to the SFU once it has more than `afterViewers` viewers
 * (0: from its start). Viewers already watching peer to peer switch make
 * before break: a viewer that said `overlap` keeps its peer-to-peer video
 * until the SFU's connection presents frames (`viewer-playing`), and only
 * then is the broadcaster told to close its connection (`viewer-moved`).
 *
 * A stream's topology is a small machine, changed only in #set:
 * `p2p -> asked -> publishing -> published`, or back to `p2p` when the
 * broadcaster does not publish in time (a seed broadcaster never will; it is
 * not asked again), Janus refuses, or Janus is lost. Once Janus is linked
 * again, streams past the threshold are asked again. A stream never goes
 * back because viewers left: a second switch costs more than it saves.
 */
import type { ServerMessage } from "../../protocol/messages.ts";
import { sdpSyntaxProblem } from "../../protocol/sdp-check.ts";
import type {
  SfuIceCandidate,
  SfuOffer,
  ViewerPlaying,
  WebRtcAnswer,
  WebRtcIceCandidate,
} from "../../protocol/messages.ts";
import { sessionIdOf } from "../../protocol/sdp-session.ts";
import type { Departure, Seat, ViewerSeat } from "../signaling/directory.ts";
import type { Logger } from "../observe/logger.ts";
import type { Metrics } from "../observe/metrics.ts";
import type { Peer } from "../signaling/peer.ts";
import { LayerPolicy, type LayerPolicyOptions } from "./layer-policy.ts";
import type { SfuGateway } from "./sfu-gateway.ts";

export type SfuPhase = "p2p" | "asked" | "publishing" | "published";

/**
 * How a viewer gets the video: from the broadcaster (`p2p`), waiting for
 * the stream to publish (`held`), from the SFU while its peer-to-peer
 * video still plays (`switching`), or from the SFU alone (`sfu`).
 */
export type ViewerRoute = "p2p" | "held" | "switching" | "sfu";

interface Watcher {
  seat: ViewerSeat;
  /** It keeps its connection until a new one plays (`join-stream.overlap`). */
  overlap: boolean;
  route: ViewerRoute;
  /** The SDP session of Janus's offer to it. */
  session?: string;
  timer?: ReturnType<typeof setTimeout>;
  /** The simulcast layer its link takes (made on its first `slowlink`). */
  layers?: LayerPolicy;
  /** It watches through the SFU only (WHEP): its stream goes there for it. */
  sfuOnly?: boolean;
}

interface Topology {
  phase: SfuPhase;
  broadcaster?: Seat;
  viewers: Map<string, Watcher>;
  /** Its broadcaster did not publish when asked: peer to peer it stays. */
  declined: boolean;
  /** Its broadcaster publishes through the SFU only (WHIP). */
  sfuOnly?: boolean;
  fallback?: ReturnType<typeof setTimeout>;
}

/** What the relay uses of the gateway (a fake stands in for it in unit tests). */
export type Gateway = Pick<
  SfuGateway,
  | "events"
  | "up"
  | "publish"
  | "subscribe"
  | "answer"
  | "trickle"
  | "isSubscribed"
  | "unsubscribe"
  | "end"
  | "setLayer"
>;

export interface SfuRelayOptions {
  gateway: Gateway;
  logger: Logger;
  metrics: Metrics;
  /** Sends a server message to a seat (the router's delivery). */
  sendTo(seat: Seat, message: ServerMessage): void;
  /** A stream with more viewers than this goes to the SFU (0: every stream). */
  afterViewers: number;
  /** How long a broadcaster has to answer `sfu-publish` with `sfu-offer`. */
  offerTimeoutMs: number;
  /**
   * How long an `overlap` viewer's SFU connection has to play; after that
   * it stays peer to peer (its video never stopped).
   */
  switchTimeoutMs: number;
  /** The per-viewer simulcast layer policy's timing (defaults in layer-policy.ts). */
  layers?: LayerPolicyOptions;
}

/** How often viewers on a lower simulcast layer are checked for a step up. */
const LAYER_TICK_MS = 1_000;

export class SfuRelay {
  #options: SfuRelayOptions;
  #streams = new Map<string, Topology>();
  #layerTimer: ReturnType<typeof setInterval> | undefined;

  constructor(options: SfuRelayOptions) {
    this.#options = options;
    options.gateway.events.addEventListener("slowlink", (event) => {
      const { streamId, viewerId } = (event as CustomEvent<
        { streamId: string; viewerId: string }
      >).detail;
      const watcher = this.#streams.get(streamId)?.viewers.get(viewerId);
      if (watcher?.route !== "sfu" && watcher?.route !== "switching") return;
      watcher.layers ??= new LayerPolicy(options.layers);
      this.#setLayer(streamId, watcher, watcher.layers.slow(Date.now()));
      this.#layerTimer ??= setInterval(
        () => this.#tickLayers(),
        LAYER_TICK_MS,
      );
    });
    options.gateway.events.addEventListener("down", () => {
      for (const [streamId, topology] of this.#streams) {
        if (topology.phase !== "p2p") {
          this.#toPeerToPeer(streamId, "janus-down");
        }
      }
    });
    options.gateway.events.addEventListener("up", () => {
      for (const [streamId, topology] of this.#streams) {
        if (this.#wanted(topology)) this.#ask(streamId, topology);
      }
    });
  }

  /** The phase of `streamId`, if this relay knows it. */
  phaseOf(streamId: string): SfuPhase | undefined {
    return this.#streams.get(streamId)?.phase;
  }

  /** How `viewerId` gets the video of `streamId`. */
  routeOf(streamId: string, viewerId: string): ViewerRoute | undefined {
    return this.#streams.get(streamId)?.viewers.get(viewerId)?.route;
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
   * A broadcaster announced. Returns the viewers it is to hear of and
   * connect to itself: every one when the stream stays peer to peer; when
   * the SFU takes it, only those that say they hold a connection (they
   * switch to the SFU make before break), and none when it resumed its place
   * on the SFU.
   */
  announced(
    streamId: string,
    broadcaster: Seat,
    viewers: readonly ViewerSeat[],
    sfuOnly = false,
  ): readonly ViewerSeat[] {
    const topology = this.#topology(streamId);
    // The same broadcaster again (it reconnected and resumed): its
    // connection to the SFU carries on, and so does every viewer's.
    if (
      topology.broadcaster?.id === broadcaster.id &&
      topology.phase === "published"
    ) {
      topology.broadcaster = broadcaster;
      return [];
    }
    this.#reset(streamId, topology);
    topology.broadcaster = broadcaster;
    topology.declined = false;
    topology.sfuOnly = sfuOnly;
    for (const seat of viewers) {
      const known = topology.viewers.get(seat.id);
      topology.viewers.set(seat.id, {
        seat,
        overlap: known?.overlap ?? false,
        sfuOnly: known?.sfuOnly,
        route: "p2p",
      });
    }
    if (this.#wanted(topology)) {
      for (const watcher of topology.viewers.values()) {
        if (!watcher.seat.session) watcher.route = "held";
      }
      if (this.#ask(streamId, topology)) {
        return viewers.filter((seat) => seat.session);
      }
      for (const watcher of topology.viewers.values()) watcher.route = "p2p";
    }
    return this.#direct(streamId, topology, viewers);
  }

  /**
   * Peer to peer after all: the viewers the broadcaster is to connect to.
   * A viewer that can only be served by the SFU (WHEP) is told it cannot
   * be, never handed to the broadcaster (it cannot answer a browser).
   */
  #direct(
    streamId: string,
    topology: Topology,
    viewers: readonly ViewerSeat[],
  ): readonly ViewerSeat[] {
    return viewers.filter((seat) => {
      const watcher = topology.viewers.get(seat.id);
      if (!watcher?.sfuOnly) return true;
      this.#cannotServe(streamId, watcher);
      return false;
    });
  }

  /** Tells an SFU-only viewer the SFU will not serve this stream now. */
  #cannotServe(streamId: string, watcher: Watcher): void {
    this.#options.sendTo(
      watcher.seat,
      {
        type: "error",
        code: "sfu-unavailable",
        message:
          `The SFU cannot serve stream ${streamId} now (its broadcaster stays peer to peer)`,
        // Its join is what is refused (not one message of it).
        inReplyTo: "join-stream",
      },
    );
  }

  /**
   * A viewer joined a stream (or joined again). Returns whether the SFU
   * takes it: it is subscribed (now, or once the broadcaster has published)
   * and the broadcaster is not asked to connect to it.
   */
  joined(
    streamId: string,
    seat: ViewerSeat,
    restart = false,
    overlap = false,
    sfuOnly = false,
  ): boolean {
    const topology = this.#topology(streamId);
    const known = topology.viewers.get(seat.id);
    const watcher: Watcher = known ?? { seat, overlap, route: "p2p" };
    watcher.seat = seat;
    watcher.overlap = overlap;
    watcher.sfuOnly = sfuOnly;
    topology.viewers.set(seat.id, watcher);
    if (topology.phase === "p2p") {
      if (!known && this.#wanted(topology)) {
        watcher.route = "held";
        if (this.#ask(streamId, topology)) return true;
        watcher.route = "p2p";
      }
      // Not live yet (the join's reply says so), or peer to peer: an
      // SFU-only viewer is told, not handed to the broadcaster.
      if (!sfuOnly || topology.broadcaster === undefined) return false;
      this.#cannotServe(streamId, watcher);
      return true;
    }
    if (!known) watcher.route = "held";
    // Watching peer to peer while the stream moves: the broadcaster
    // answers it (a restart, say) until the viewer is switched.
    if (watcher.route === "p2p") return false;
    if (topology.phase === "asked") return true;
    // It publishes, so it knows the SFU: it counts the viewer, no more.
    if (!known) this.#tellBroadcaster(streamId, topology, watcher);
    if (topology.phase !== "published") return true;
    // It holds its connection to the SFU: keep it. A frozen picture is
    // nearly always the broadcaster's upload (its own link to Janus is
    // fine), and comes back by itself; a viewer whose own connection died
    // asks for a fresh one (a join without a session), subscribed anew
    // below. (Janus's ICE restart of a subscriber, `configure` with
    // `restart`, was answered with error 469 here: not used yet.)
    if (
      seat.session &&
      this.#options.gateway.isSubscribed(streamId, seat.id)
    ) {
      if (restart) {
        this.#options.logger.debug("sfu-restart-not-needed", {
          streamId,
          viewerId: seat.id,
        });
      }
      return true;
    }
    this.#subscribe(streamId, topology, watcher);
    return true;
  }

  /** Someone left: a viewer's subscription goes; a broadcaster's stream ends. */
  departed(departure: Departure): void {
    const { streamId, role } = departure.place;
    const topology = this.#streams.get(streamId);
    if (!topology) return;
    if (role === "viewer") {
      const watcher = topology.viewers.get(departure.clientId);
      clearTimeout(watcher?.timer);
      topology.viewers.delete(departure.clientId);
      if (watcher && watcher.route !== "p2p") {
        this.#options.gateway.unsubscribe(streamId, departure.clientId)
          .catch(() => {});
      }
    } else if (topology.broadcaster?.id === departure.clientId) {
      this.#reset(streamId, topology);
      topology.broadcaster = undefined;
    }
    if (!topology.broadcaster && topology.viewers.size === 0) {
      this.#streams.delete(streamId);
    }
  }

  /** The broadcaster's offer for its connection to the SFU. */
  async offer(peer: Peer, message: SfuOffer): Promise<void> {
    const { streamId } = message;
    const topology = this.#streams.get(streamId);
    if (topology?.broadcaster?.id !== peer.id || topology.phase !== "asked") {
      return peer.send({
        type: "error",
        code: "not-in-stream",
        message: `Stream ${streamId} is not asking you to publish`,
        inReplyTo: message.type,
      });
    }
    // Janus would refuse it after a round trip, or not answer at all.
    const unparsable = sdpSyntaxProblem(message.offer.sdp);
    if (unparsable) {
      return peer.send({
        type: "error",
        code: "bad-sdp",
        message: unparsable,
        inReplyTo: message.type,
      });
    }
    clearTimeout(topology.fallback);
    this.#set(streamId, topology, "publishing");
    for (const watcher of topology.viewers.values()) {
      if (watcher.route !== "p2p") {
        this.#tellBroadcaster(streamId, topology, watcher);
      }
    }
    try {
      const answer = await this.#options.gateway.publish(
        streamId,
        message.offer,
        peer.id,
      );
      if (this.phaseOf(streamId) !== "publishing") return;
      peer.send({
        type: "sfu-answer",
        streamId,
        answer: answer as { type: "answer"; sdp: string },
      });
      this.#set(streamId, topology, "published");
      for (const watcher of topology.viewers.values()) {
        this.#subscribe(streamId, topology, watcher);
      }
    } catch (error) {
      if (this.phaseOf(streamId) !== "publishing") return;
      this.#options.logger.warn("sfu-publish-failed", {
        streamId,
        error: String(error),
      });
      this.#toPeerToPeer(streamId, "publish-failed");
    }
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
  playing(peer: Peer, message: ViewerPlaying): void {
    const topology = this.#streams.get(message.streamId);
    const watcher = topology?.viewers.get(peer.id);
    if (
      !topology || watcher?.route !== "switching" ||
      (watcher.session !== undefined && watcher.session !== message.session)
    ) return;
    this.#moved(message.streamId, topology, watcher);
  }

  /**
   * A viewer's answer or candidate: Janus's when the viewer watches through
   * the SFU. Returns whether it was taken here.
   */
  fromViewer(peer: Peer, message: WebRtcAnswer | WebRtcIceCandidate): boolean {
    const { streamId } = message;
    const { gateway, logger } = this.#options;
    if (!this.blocks(streamId, peer.id)) return false;
    if (!gateway.isSubscribed(streamId, peer.id)) return true;
    const unparsable = message.type === "webrtc-answer"
      ? sdpSyntaxProblem(message.answer.sdp)
      : undefined;
    if (unparsable) {
      peer.send({
        type: "error",
        code: "bad-sdp",
        message: unparsable,
        inReplyTo: message.type,
      });
      return true;
    }
    const step = message.type === "webrtc-answer"
      ? gateway.answer(streamId, peer.id, message.answer)
      : gateway.trickle(streamId, peer.id, message.candidate);
    step.catch((error) =>
      logger.warn("sfu-viewer-step-failed", {
        streamId,
        viewerId: peer.id,
        type: message.type,
        error: String(error),
      })
    );
    return true;
  }

  /** Stops the relay's own timer (the server is closing). */
  close(): void {
    clearInterval(this.#layerTimer);
    this.#layerTimer = undefined;
  }

  /** Viewers sent a smaller layer try one up after a quiet while. */
  #tickLayers(): void {
    let lowered = false;
    for (const [streamId, topology] of this.#streams) {
      for (const watcher of topology.viewers.values()) {
        if (!watcher.layers || watcher.route !== "sfu") continue;
        this.#setLayer(streamId, watcher, watcher.layers.tick(Date.now()));
        if (watcher.layers.layer < (this.#options.layers?.top ?? 2)) {
          lowered = true;
        }
      }
    }
    if (!lowered) this.close();
  }

  #setLayer(streamId: string, watcher: Watcher, layer: number | undefined) {
    if (layer === undefined) return;
    const viewerId = watcher.seat.id;
    this.#options.logger.info("sfu-layer", { streamId, viewerId, layer });
    this.#options.metrics.sfuLayerChanges++;
    this.#options.gateway.setLayer(streamId, viewerId, layer).catch((error) =>
      this.#options.logger.warn("sfu-layer-failed", {
        streamId,
        viewerId,
        error: String(error),
      })
    );
  }

  /** Whether the stream should be on the SFU (Janus permitting). */
  #wanted(topology: Topology): boolean {
    return topology.phase === "p2p" && topology.broadcaster !== undefined &&
      !topology.declined &&
      (topology.sfuOnly || this.#options.afterViewers === 0 ||
        [...topology.viewers.values()].some((watcher) => watcher.sfuOnly) ||
        topology.viewers.size > this.#options.afterViewers);
  }

  /** Asks the broadcaster to publish; true when it was asked. */
  #ask(streamId: string, topology: Topology): boolean {
    if (!this.#options.gateway.up) {
      this.#options.metrics.countSfuFallback("janus-down");
      this.#options.logger.warn("sfu-fallback", {
        streamId,
        why: "janus-down",
      });
      return false;
    }
    this.#set(streamId, topology, "asked");
    topology.fallback = setTimeout(
      () => this.#toPeerToPeer(streamId, "no-sfu-offer"),
      this.#options.offerTimeoutMs,
    );
    this.#options.sendTo(
      topology.broadcaster!,
      { type: "sfu-publish", streamId },
    );
    return true;
  }

  #subscribe(streamId: string, topology: Topology, watcher: Watcher): void {
    const { id } = watcher.seat;
    const { gateway, logger, switchTimeoutMs } = this.#options;
    logger.debug("sfu-subscribing", { streamId, viewerId: id });
    const fromBroadcaster = watcher.route === "p2p";
    // Janus starts a new subscription on its best layer.
    watcher.layers = undefined;
    // Watching peer to peer: its video plays on until the SFU's does.
    watcher.route = fromBroadcaster && watcher.overlap ? "switching" : "sfu";
    clearTimeout(watcher.timer);
    if (watcher.route === "switching") {
      watcher.timer = setTimeout(() => {
        if (watcher.route !== "switching") return;
        watcher.route = "p2p";
        this.#options.metrics.countSfuFallback("switch-timeout");
        logger.warn("sfu-switch-failed", { streamId, viewerId: id });
        gateway.unsubscribe(streamId, id).catch(() => {});
      }, switchTimeoutMs);
    }
    gateway.subscribe(streamId, id).then((jsep) => {
      if (topology.viewers.get(id) !== watcher || watcher.route === "p2p") {
        return;
      }
      watcher.session = sessionIdOf(jsep.sdp);
      // Janus's subscriber jsep is always an offer.
      this.#options.sendTo(watcher.seat, {
        type: "webrtc-offer",
        streamId,
        viewerId: id,
        offer: { type: "offer", sdp: jsep.sdp },
      });
      // A seed viewer drops its connection for a new offer: the
      // broadcaster's is of no use from now on.
      if (fromBroadcaster && !watcher.overlap) {
        this.#moved(streamId, topology, watcher);
      }
    }, (error) =>
      logger.warn("sfu-subscribe-failed", {
        streamId,
        viewerId: id,
        error: String(error),
      }));
  }

  /**
   * The viewer watches through the SFU now: the broadcaster closes its own
   * connection to it (no recovery) and keeps counting it.
   */
  #moved(streamId: string, topology: Topology, watcher: Watcher): void {
    clearTimeout(watcher.timer);
    watcher.route = "sfu";
    this.#options.metrics.sfuSwitches++;
    this.#options.logger.info("sfu-viewer-moved", {
      streamId,
      viewerId: watcher.seat.id,
      overlap: watcher.overlap,
    });
    if (!topology.broadcaster) return;
    this.#options.sendTo(
      topology.broadcaster,
      {
        type: "viewer-moved",
        streamId,
        viewerId: watcher.seat.id,
      },
    );
  }

  /**
   * Back to peer to peer: the broadcaster hears of every viewer it does not
   * hold a connection to, as if the SFU had never been asked.
   */
  #toPeerToPeer(streamId: string, why: string): void {
    const topology = this.#streams.get(streamId);
    if (!topology || topology.phase === "p2p") return;
    const { broadcaster } = topology;
    const orphans = [...topology.viewers.values()].filter((watcher) =>
      watcher.route === "held" || watcher.route === "sfu"
    );
    this.#reset(streamId, topology);
    // A broadcaster that never published will not: do not ask it again.
    if (why === "no-sfu-offer") topology.declined = true;
    this.#options.metrics.countSfuFallback(why);
    this.#options.logger.warn("sfu-fallback", { streamId, why });
    if (!broadcaster) return;
    // A WHIP sender cannot go peer to peer: it is told the SFU failed.
    if (topology.sfuOnly) {
      return this.#options.sendTo(
        broadcaster,
        {
          type: "error",
          code: "internal-error",
          message: `The SFU could not take the stream (${why})`,
        },
      );
    }
    const viewerCount = topology.viewers.size;
    const direct = this.#direct(
      streamId,
      topology,
      orphans.map(({ seat }) => seat),
    );
    for (const seat of direct) {
      this.#options.sendTo(
        broadcaster,
        {
          type: "viewer-joined",
          streamId,
          viewerId: seat.id,
          viewerCount,
          ...(seat.session ? { session: seat.session } : {}),
        },
      );
    }
  }

  /** The stream leaves the SFU: Janus's side ended, every viewer peer to peer. */
  #reset(streamId: string, topology: Topology): void {
    clearTimeout(topology.fallback);
    if (topology.phase !== "p2p") {
      this.#set(streamId, topology, "p2p");
      this.#options.gateway.end(streamId).catch(() => {});
    }
    for (const watcher of topology.viewers.values()) {
      clearTimeout(watcher.timer);
      watcher.route = "p2p";
      watcher.session = undefined;
    }
  }

  /** `viewer-joined` for a broadcaster on the SFU: counted, not connected to. */
  #tellBroadcaster(
    streamId: string,
    topology: Topology,
    watcher: Watcher,
  ): void {
    this.#options.sendTo(
      topology.broadcaster!,
      {
        type: "viewer-joined",
        streamId,
        viewerId: watcher.seat.id,
        viewerCount: topology.viewers.size,
        sfu: true,
      },
    );
  }

  #topology(streamId: string): Topology {
    let topology = this.#streams.get(streamId);
    if (!topology) {
      topology = { phase: "p2p", viewers: new Map(), declined: false };
      this.#streams.set(streamId, topology);
    }
    return topology;
  }

  /** The one place a stream's phase changes. */
  #set(streamId: string, topology: Topology, next: SfuPhase): void {
    this.#options.logger.debug("sfu-phase", {
      streamId,
      from: topology.phase,
      to: next,
    });
    topology.phase = next;
  }
}
