/**
 * The routing rules of the seed protocol plus our additions, and the role
 * checks around them. Roles come from the directory, never from the message:
 * a viewer's answer goes only to its own broadcaster, under its real id.
 *
 * The router keeps no room state: the {@link Directory} (in memory, or in
 * Redis for a cluster) does, and answers each step atomically. The router
 * keeps only what is about this node's own sockets: which connection is each
 * local client's current one, the places they hold (for resume claims and
 * gauges), and the grace timers of dropped ones.
 */
import type {
  ClientMessage,
  ServerMessage,
  ViewerLoss,
  ViewerPlaying,
} from "../../protocol/messages.ts";
import type { ProtocolError } from "../../protocol/parse-client-message.ts";
import type { Peer } from "./peer.ts";
import type { ResumeClaims } from "../security/resume-token.ts";
import {
  type Departure,
  type Eventually,
  type Seat,
  then,
} from "./directory.ts";
import type { Envelope } from "./delivery.ts";
import { type Outbound } from "./postman.ts";
import {
  RESUMED_CLOSE_CODE,
  RouterCore,
  type RouterOptions,
} from "./router-core.ts";
import { Entry } from "./entry.ts";
import { MediaRoute } from "./media-route.ts";
import { NegotiationReports } from "./negotiation-reports.ts";
import { followUp } from "./handler-guard.ts";

export {
  REPLACED_CLOSE_CODE,
  RESUME_MISMATCH_CLOSE_CODE,
  RESUMED_CLOSE_CODE,
  type RouterOptions,
} from "./router-core.ts";

/** Counts of this node's own members, for /healthz and /metrics. */
export interface LocalCounts {
  streams: number;
  liveStreams: number;
  viewers: number;
}

export class SignalingRouter {
  #core: RouterCore;
  #entry: Entry;
  #media: MediaRoute;
  #negotiations: NegotiationReports;
  #graceMs: number;
  /** Shutting down: a closing socket is nobody leaving. */
  #draining = false;

  constructor(options: RouterOptions) {
    this.#core = new RouterCore(options);
    this.#entry = new Entry(this.#core);
    this.#media = new MediaRoute(this.#core);
    this.#negotiations = new NegotiationReports(this.#core);
    this.#graceMs = options.reconnectGraceMs;
  }

  /** An envelope from another node for one of this node's clients. */
  deliver(envelope: Envelope): void {
    this.#core.deliver(envelope);
  }

  /** Sends `message` to a seat, here or on its node. */
  sendTo(seat: Seat, message: ServerMessage, text?: string): void {
    this.#core.sendTo(seat, message, text);
  }

  /** Sends what the SFU relay's step sends, in order. */
  post(out: readonly Outbound[]): void {
    this.#core.post(out);
  }

  /** Sends an `error` and counts it. */
  refuse(peer: Peer, error: ProtocolError): void {
    this.#core.refuse(peer, error);
  }

  /** This node's members by kind (cluster-wide counts live in the store). */
  localCounts(): LocalCounts {
    const streams = new Set<string>();
    let liveStreams = 0;
    let viewers = 0;
    for (const { streamId, role } of this.#core.clients.places()) {
      streams.add(streamId);
      if (role === "broadcaster") liveStreams++;
      else viewers++;
    }
    return { streams: streams.size, liveStreams, viewers };
  }

  /** A new connection for `peer.id`: it is the client's current one now. */
  connected(peer: Peer): void {
    this.#core.clients.apply(peer.id, { kind: "connect", peer });
  }

  /**
   * Handles one validated message from `peer`. Returns a promise while an
   * admission or a store step is under way; the connection holds back the
   * peer's later messages until it settles, so order is kept.
   */
  handle(
    peer: Peer,
    message: ClientMessage,
    /** The frame's text, when it is exactly `message` (see ParseResult). */
    text?: string,
  ): void | Promise<void> {
    switch (message.type) {
      case "broadcaster-ready":
        return this.#entry.enter(peer, message, "broadcaster");
      case "join-stream":
        return this.#entry.enter(peer, message, "viewer");
      case "leave-stream":
        return this.#leaveStream(peer, message.streamId);
      case "webrtc-offer":
      case "webrtc-answer":
      case "webrtc-ice-candidate":
        return this.#media.route(peer, message, text);
      case "sfu-offer": {
        if (!this.#media.publishing(peer, message.streamId, message.type)) {
          return;
        }
        // Held: its candidates follow once Janus has its publisher.
        const { out, published } = this.#core.sfu!.offer(peer, message);
        this.#core.post(out);
        return published;
      }
      case "sfu-ice-candidate":
        if (!this.#media.publishing(peer, message.streamId, message.type)) {
          return;
        }
        return this.#core.sfu!.candidate(peer, message);
      case "viewer-playing":
      case "viewer-loss":
        // Only a switch to the SFU waits for the one, only a viewer on the
        // SFU is heard in the other (viewer-layers.ts); elsewhere nothing.
        if (this.#core.clients.place(peer.id)?.streamId !== message.streamId) {
          return;
        }
        return this.#toSfu(peer, message);
      case "negotiation-failed":
        return this.#negotiations.failed(peer, message);
      case "ping": {
        // A member gets a fresh resume claim with each pong.
        const resume = this.#core.resumeFor(peer);
        return peer.send({
          type: "pong",
          ...(message.nonce === undefined ? {} : { nonce: message.nonce }),
          ...(resume ? { resume } : {}),
        });
      }
      default:
        return assertNever(message);
    }
  }

  /**
   * `peer`'s socket closed. After a goodbye (a clean close, or one the
   * server made) its peers are told at once; after a drop it keeps its place
   * for RECONNECT_GRACE_MS, so a client that comes back with its resume claim
   * finds everything as it was. While shutting down nobody is told anything:
   * the clients reconnect to the next process.
   */
  disconnected(peer: Peer, cause: string, goodbye: boolean): void {
    if (this.#draining) return;
    if (!this.#core.clients.isCurrent(peer)) return;
    if (goodbye || this.#graceMs === 0 || !this.#core.clients.place(peer.id)) {
      return this.leave(peer, cause);
    }
    const timer = setTimeout(() => {
      this.#core.clients.apply(peer.id, { kind: "end-grace" });
      this.#core.metrics.graceExpired++;
      this.leave(peer, `${cause}; not back within ${this.#graceMs} ms`);
    }, this.#graceMs);
    this.#core.clients.apply(peer.id, { kind: "drop", peer, timer });
  }

  /**
   * A new connection of a client that held `claims`' place, here or on
   * another node: it takes the place (its stale socket is closed, here by
   * the caller, elsewhere by that node). Resolves to whether there was a
   * place to take; after a restart there is none, and the client's next
   * announce or join makes it anew under the same id.
   */
  resume(peer: Peer, claims: ResumeClaims): Eventually<boolean> {
    const claimed = { streamId: claims.streamId, role: claims.role };
    // A leave of this client still to be tried again would undo this step.
    const unplaced = this.#core.departures.placing(peer.id);
    const found = this.#core.directory.resume(
      peer.id,
      claimed,
      this.#core.node,
    );
    // Failed: nothing was taken (the caller hears of the failure itself).
    if (unplaced && found instanceof Promise) found.catch(unplaced);
    return then(
      found,
      (previous) => {
        if (previous === undefined) {
          unplaced?.();
          return false;
        }
        // An earlier socket's grace ends here. If this one dropped too while
        // the store answered, its own grace (and timer) stands: ending it
        // would leave the place held by a closed socket, for good.
        const state = this.#core.clients.get(peer.id);
        if (state?.kind !== "in-grace" || state.dropped !== peer) {
          this.#core.clients.apply(peer.id, { kind: "end-grace" });
        }
        this.#core.clients.apply(peer.id, {
          kind: "hold",
          peer,
          place: claimed,
        });
        if (previous !== this.#core.node) {
          this.#core.delivery.toNode(previous, {
            kind: "evict",
            to: peer.id,
            code: RESUMED_CLOSE_CODE,
            reason: "Resumed on a new connection",
            why: "resumed",
          });
        }
        this.#core.metrics.sessionsResumed++;
        // A broadcaster back here from another node: its stream's SFU state
        // is taken over now, so what its viewers send meanwhile waits for
        // it rather than starting the stream anew.
        if (
          claims.role === "broadcaster" && this.#core.delivery.clustered &&
          this.#core.sfu
        ) {
          this.#core.sfu.adopt(claims.streamId, peer.id).catch((error) =>
            this.#core.logger.warn("sfu-take-over-failed", {
              streamId: claims.streamId,
              error: String(error),
            })
          );
        }
        return true;
      },
    );
  }

  /**
   * A viewer's `viewer-playing` or `viewer-loss`: its stream's SFU state
   * takes it, wherever it is driven.
   */
  #toSfu(peer: Peer, message: ViewerPlaying | ViewerLoss): void {
    const { sfu, delivery } = this.#core;
    // No SFU here, so none on the broadcaster's node either (one
    // configuration per cluster): nothing to tell, nor a store lookup to pay.
    if (!sfu) return;
    const pending = sfu.pendingTakeover(message.streamId);
    if (pending) {
      return followUp(
        this.#core,
        this.#core.logger,
        peer,
        message,
        pending,
        () => this.#toSfu(peer, message),
      );
    }
    // Driven on its broadcaster's node: it goes there (sfu-inbound.ts).
    if (sfu.phaseOf(message.streamId) === undefined && delivery.clustered) {
      return this.#media.toDriver(peer, message);
    }
    if (message.type === "viewer-loss") sfu.viewerLoss(peer.id, message);
    else this.#core.post(sfu.playing(peer.id, message));
  }

  /** The server is shutting down: no leave is announced, no timer left. */
  drain(): void {
    this.#draining = true;
    for (const id of this.#core.clients.inGrace()) {
      this.#core.clients.apply(id, { kind: "end-grace" });
    }
  }

  /**
   * This node lost its place in the cluster (the store forgot it): every
   * local client is forgotten without a departure, since the store no
   * longer lists them; the caller closes their sockets.
   */
  forgetAll(): void {
    for (const id of this.#core.clients.ids()) {
      this.#core.clients.apply(id, { kind: "forget" });
    }
    this.#core.departures.clear();
  }

  /** Members another node's death freed (this node reaped it): tell their peers. */
  tellDepartures(departures: readonly Departure[], reason: string): void {
    for (const departure of departures) {
      this.#core.departures.tell(departure, reason);
    }
  }

  /** Removes `peer` from whatever it joined, for good. Safe to call more than once. */
  leave(peer: Peer, reason: string): void {
    // A client back on a new connection holds the place now, not this one.
    const before = this.#core.clients.apply(peer.id, { kind: "leave", peer });
    if (before?.peer !== peer) return;
    this.#vacate(peer.id, before.kind !== "connected", reason);
  }

  /** Leaves the store refused during an outage, tried again now it is back. */
  retryLeaves(): void {
    this.#core.departures.retry();
  }

  /** Frees `clientId`'s place in the directory and tells its peers. */
  #vacate(
    clientId: string,
    placed: boolean,
    reason: string,
  ): Promise<void> | undefined {
    // In memory the mirror is exact: no place, nothing to free.
    if (!placed && !this.#core.delivery.clustered) return;
    return this.#core.departures.vacate(clientId, this.#core.node, reason);
  }

  #leaveStream(peer: Peer, streamId: string): void | Promise<void> {
    if (this.#core.clients.place(peer.id)?.streamId !== streamId) {
      return this.#core.refuse(peer, {
        code: "not-in-stream",
        message: `Not in stream ${streamId}`,
        inReplyTo: "leave-stream",
      });
    }
    this.#core.clients.apply(peer.id, { kind: "release" });
    return this.#vacate(peer.id, true, "leave-stream");
  }
}

function assertNever(value: never): never {
  throw new Error(`Unhandled case ${JSON.stringify(value)}`);
}
