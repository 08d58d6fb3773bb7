/**
 * The router's side of the SFU: which streams go through Janus, and the
 * messages that go with it. A stream on the SFU: its broadcaster is asked to
 * publish one connection (`sfu-publish`, `sfu-offer`, `sfu-answer`), and each
 * viewer gets Janus's offer as an ordinary `webrtc-offer` from its
 * broadcaster, its answer and candidates going to Janus: a viewer that knows
 * only the seed protocol cannot tell.
 *
 * Janus not linked when a broadcaster announces: the stream stays peer to
 * peer (counted, logged). A stream's topology is a small machine, changed
 * only in #set:
 * `asked -> publishing -> published`, or back to peer to peer (the entry
 * gone, the broadcaster told of every viewer) when the broadcaster does not
 * publish in time (a seed broadcaster never will) or Janus fails.
 */
import type {
  SfuIceCandidate,
  SfuOffer,
  WebRtcAnswer,
  WebRtcIceCandidate,
} from "../../protocol/messages.ts";
import type { Departure, Seat, ViewerSeat } from "../directory.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import type { Peer } from "../peer.ts";
import type { SfuGateway } from "./sfu-gateway.ts";

export type SfuPhase = "asked" | "publishing" | "published";

interface Topology {
  phase: SfuPhase;
  /** Its seat (the node may change when it resumes elsewhere). */
  broadcaster: Seat;
  viewers: Map<string, ViewerSeat>;
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
>;

export interface SfuRelayOptions {
  gateway: Gateway;
  logger: Logger;
  metrics: Metrics;
  /** Sends a server message's JSON to a seat (the router's delivery). */
  sendTo(seat: Seat, text: string): void;
  /** How long a broadcaster has to answer `sfu-publish` with `sfu-offer`. */
  offerTimeoutMs: number;
}

export class SfuRelay {
  #options: SfuRelayOptions;
  #streams = new Map<string, Topology>();

  constructor(options: SfuRelayOptions) {
    this.#options = options;
    options.gateway.events.addEventListener("down", (event) => {
      for (const streamId of (event as CustomEvent<string[]>).detail) {
        this.#toPeerToPeer(streamId, "janus-down");
      }
    });
  }

  /** The phase of `streamId` on the SFU, if it is on it. */
  phaseOf(streamId: string): SfuPhase | undefined {
    return this.#streams.get(streamId)?.phase;
  }

  /**
   * A broadcaster announced: the stream goes to the SFU. Returns true when
   * the broadcaster was asked to publish; the router then does not tell it
   * of each viewer (it would connect to each).
   */
  announced(
    streamId: string,
    broadcaster: Seat,
    viewers: readonly ViewerSeat[],
  ): boolean {
    const previous = this.#streams.get(streamId);
    // The same broadcaster again (it reconnected and resumed): its
    // connection to the SFU carries on, and so does every viewer's.
    if (
      previous?.broadcaster.id === broadcaster.id &&
      previous.phase === "published"
    ) {
      previous.broadcaster = broadcaster;
      return true;
    }
    clearTimeout(previous?.fallback);
    if (!this.#options.gateway.up) {
      this.#streams.delete(streamId);
      this.#options.metrics.countSfuFallback("janus-down");
      this.#options.logger.warn("sfu-fallback", {
        streamId,
        why: "janus-down",
      });
      return false;
    }
    const topology: Topology = {
      phase: "asked",
      broadcaster,
      viewers: new Map(viewers.map((viewer) => [viewer.id, viewer])),
    };
    topology.fallback = setTimeout(
      () => this.#toPeerToPeer(streamId, "no-sfu-offer"),
      this.#options.offerTimeoutMs,
    );
    this.#streams.set(streamId, topology);
    this.#options.sendTo(
      broadcaster,
      JSON.stringify({ type: "sfu-publish", streamId }),
    );
    return true;
  }

  /**
   * A viewer joined a stream (or joined again): on the SFU it is subscribed
   * (now, or once the broadcaster has published). Returns whether the SFU
   * takes it.
   */
  joined(streamId: string, viewer: ViewerSeat, restart = false): boolean {
    const topology = this.#streams.get(streamId);
    if (!topology) return false;
    const known = topology.viewers.has(viewer.id);
    topology.viewers.set(viewer.id, viewer);
    if (topology.phase === "asked") return true;
    // It publishes, so it knows the SFU: it counts the viewer, no more.
    if (!known) this.#tellBroadcaster(streamId, topology, viewer);
    if (topology.phase !== "published") return true;
    const { gateway } = this.#options;
    // It holds its connection to the SFU: keep it. A frozen picture is
    // nearly always the broadcaster's upload (its own link to Janus is
    // fine), and comes back by itself; a viewer whose own connection died
    // asks for a fresh one (a join without a session), subscribed anew
    // below. (Janus's ICE restart of a subscriber, `configure` with
    // `restart`, was answered with error 469 here: not used yet.)
    if (viewer.session && gateway.isSubscribed(streamId, viewer.id)) {
      if (restart) {
        this.#options.logger.debug("sfu-restart-not-needed", {
          streamId,
          viewerId: viewer.id,
        });
      }
      return true;
    }
    this.#subscribe(streamId, viewer);
    return true;
  }

  /** Someone left: a viewer's subscription goes; a broadcaster's stream ends. */
  departed(departure: Departure): void {
    const { streamId, role } = departure.place;
    const topology = this.#streams.get(streamId);
    if (!topology) return;
    const { gateway } = this.#options;
    if (role === "viewer") {
      topology.viewers.delete(departure.clientId);
      gateway.unsubscribe(streamId, departure.clientId).catch(() => {});
      return;
    }
    if (topology.broadcaster.id !== departure.clientId) return;
    clearTimeout(topology.fallback);
    this.#streams.delete(streamId);
    gateway.end(streamId).catch(() => {});
  }

  /** The broadcaster's offer for its connection to the SFU. */
  async offer(peer: Peer, message: SfuOffer): Promise<void> {
    const { streamId } = message;
    const topology = this.#streams.get(streamId);
    if (!topology || topology.broadcaster.id !== peer.id) {
      return peer.send({
        type: "error",
        code: "not-in-stream",
        message: `Stream ${streamId} is not asking you to publish`,
        inReplyTo: message.type,
      });
    }
    clearTimeout(topology.fallback);
    this.#set(streamId, topology, "publishing");
    for (const viewer of topology.viewers.values()) {
      this.#tellBroadcaster(streamId, topology, viewer);
    }
    try {
      const answer = await this.#options.gateway.publish(
        streamId,
        message.offer,
      );
      if (this.#streams.get(streamId) !== topology) return;
      peer.send({
        type: "sfu-answer",
        streamId,
        answer: answer as { type: "answer"; sdp: string },
      });
      this.#set(streamId, topology, "published");
      for (const viewer of topology.viewers.values()) {
        this.#subscribe(streamId, viewer);
      }
    } catch (error) {
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
    if (topology?.broadcaster.id !== peer.id) return;
    this.#options.gateway.trickle(
      message.streamId,
      undefined,
      message.candidate,
    ).catch(() => {});
  }

  /**
   * A viewer's answer or candidate: Janus's when the viewer watches through
   * the SFU. Returns whether it was taken here.
   */
  fromViewer(peer: Peer, message: WebRtcAnswer | WebRtcIceCandidate): boolean {
    const { streamId } = message;
    const { gateway, logger } = this.#options;
    if (!gateway.isSubscribed(streamId, peer.id)) return false;
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

  #subscribe(streamId: string, viewer: ViewerSeat): void {
    this.#options.logger.debug("sfu-subscribing", {
      streamId,
      viewerId: viewer.id,
    });
    this.#offer(
      streamId,
      viewer,
      this.#options.gateway.subscribe(streamId, viewer.id),
    );
  }

  /** Sends Janus's offer to the viewer as its broadcaster's would come. */
  #offer(streamId: string, viewer: ViewerSeat, offer: Promise<unknown>): void {
    const { sendTo, logger } = this.#options;
    offer.then((jsep) => {
      if (!this.#streams.get(streamId)?.viewers.has(viewer.id)) return;
      sendTo(
        viewer,
        JSON.stringify({
          type: "webrtc-offer",
          streamId,
          viewerId: viewer.id,
          offer: jsep,
        }),
      );
    }, (error) =>
      logger.warn("sfu-subscribe-failed", {
        streamId,
        viewerId: viewer.id,
        error: String(error),
      }));
  }

  /**
   * Back to peer to peer: the broadcaster hears of every viewer, as if the
   * SFU had never been asked.
   */
  #toPeerToPeer(streamId: string, why: string): void {
    const topology = this.#streams.get(streamId);
    if (!topology) return;
    clearTimeout(topology.fallback);
    this.#streams.delete(streamId);
    this.#options.metrics.countSfuFallback(why);
    this.#options.logger.warn("sfu-fallback", { streamId, why });
    this.#options.gateway.end(streamId).catch(() => {});
    const viewerCount = topology.viewers.size;
    for (const viewer of topology.viewers.values()) {
      this.#options.sendTo(
        topology.broadcaster,
        JSON.stringify({
          type: "viewer-joined",
          streamId,
          viewerId: viewer.id,
          viewerCount,
          ...(viewer.session ? { session: viewer.session } : {}),
        }),
      );
    }
  }

  /** `viewer-joined` for a broadcaster on the SFU: counted, not connected to. */
  #tellBroadcaster(
    streamId: string,
    topology: Topology,
    viewer: ViewerSeat,
  ): void {
    this.#options.sendTo(
      topology.broadcaster,
      JSON.stringify({
        type: "viewer-joined",
        streamId,
        viewerId: viewer.id,
        viewerCount: topology.viewers.size,
        sfu: true,
      }),
    );
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
