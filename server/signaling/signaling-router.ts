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
import {
  completeViewerJoined,
  encodeServerMessage,
  viewerJoinedPrefix,
} from "../../protocol/encode-server-message.ts";
import type {
  BroadcasterReady,
  ClientMessage,
  JoinStream,
  ServerMessage,
  WebRtcAnswer,
  WebRtcIceCandidate,
  WebRtcOffer,
} from "../../protocol/messages.ts";
import type { ProtocolError } from "../../protocol/parse-client-message.ts";
import type { Admission, Admitted, Decision } from "../security/admission.ts";
import type { AuditTrail } from "../observe/audit.ts";
import type { Logger } from "../observe/logger.ts";
import type { Metrics } from "../observe/metrics.ts";
import type { Peer } from "./peer.ts";
import type { ResumeClaims, ResumeTokens } from "../security/resume-token.ts";
import {
  type Departure,
  type Directory,
  type Eventually,
  type Role,
  type Route,
  type Seat,
  StoreUnavailable,
  then,
} from "./directory.ts";
import type { Delivery, Envelope } from "./delivery.ts";
import type { SfuRelay } from "../sfu/sfu-relay.ts";
import { Departures } from "./departures.ts";
import { LocalClients, type LocalPlace } from "./local-clients.ts";
import { type Outbound, Postman } from "./postman.ts";
import { storeStep } from "./store-step.ts";

export interface RouterOptions {
  directory: Directory;
  /** How seats on other nodes are reached (`LOCAL_DELIVERY` for one process). */
  delivery: Delivery;
  metrics: Metrics;
  logger: Logger;
  admission: Admission;
  audit: AuditTrail;
  maxViewersPerStream: number;
  resumeTokens: ResumeTokens;
  /** RECONNECT_GRACE_MS: how long a dropped member keeps its place. */
  reconnectGraceMs: number;
  /** With JANUS_URL: the SFU's side of routing (it applies SFU_AFTER_VIEWERS). */
  sfu?: SfuRelay;
  /** This node's clients, shared with the postman the SFU relay posts through. */
  clients?: LocalClients;
  postman?: Postman;
}

/** Close code for a broadcaster session taken over by a newer one of the same subject. */
export const REPLACED_CLOSE_CODE = 4001;
/** Close code for a stale socket whose client came back on a new one (resume). */
export const RESUMED_CLOSE_CODE = 4002;
/** Close code for a resume claim used for another stream or role. */
export const RESUME_MISMATCH_CLOSE_CODE = 4003;

/** Counts of this node's own members, for /healthz and /metrics. */
export interface LocalCounts {
  streams: number;
  liveStreams: number;
  viewers: number;
}

export class SignalingRouter {
  #directory: Directory;
  #delivery: Delivery;
  #metrics: Metrics;
  #logger: Logger;
  #admission: Admission;
  #audit: AuditTrail;
  #maxViewers: number;
  #resumeTokens: ResumeTokens;
  #graceMs: number;
  #sfu: SfuRelay | undefined;
  /** Each local client's connection, place and grace: one state each. */
  #clients: LocalClients;
  #postman: Postman;
  #departures: Departures;
  /** The claim each connection was last given (see #resumeFor). */
  #claims = new WeakMap<
    Peer,
    { claim: string; streamId: string; role: Role; freshUntil: number }
  >();
  /** Shutting down: a closing socket is nobody leaving. */
  #draining = false;

  constructor(options: RouterOptions) {
    this.#directory = options.directory;
    this.#delivery = options.delivery;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#admission = options.admission;
    this.#audit = options.audit;
    this.#maxViewers = options.maxViewersPerStream;
    this.#resumeTokens = options.resumeTokens;
    this.#graceMs = options.reconnectGraceMs;
    this.#sfu = options.sfu;
    this.#clients = options.clients ?? new LocalClients();
    this.#postman = options.postman ??
      new Postman(this.#clients, options.delivery);
    this.#departures = new Departures({
      directory: options.directory,
      audit: options.audit,
      logger: options.logger,
      postman: this.#postman,
      departed: options.sfu &&
        ((departure) => options.sfu!.departed(departure)),
    });
  }

  get #node(): string {
    return this.#delivery.node;
  }

  /** This node's members by kind (cluster-wide counts live in the store). */
  localCounts(): LocalCounts {
    const streams = new Set<string>();
    let liveStreams = 0;
    let viewers = 0;
    for (const { streamId, role } of this.#clients.places()) {
      streams.add(streamId);
      if (role === "broadcaster") liveStreams++;
      else viewers++;
    }
    return { streams: streams.size, liveStreams, viewers };
  }

  /** A new connection for `peer.id`: it is the client's current one now. */
  connected(peer: Peer): void {
    this.#clients.apply(peer.id, { kind: "connect", peer });
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
        return this.#enter(peer, message, "broadcaster");
      case "join-stream":
        return this.#enter(peer, message, "viewer");
      case "leave-stream":
        return this.#leaveStream(peer, message.streamId);
      case "webrtc-offer":
      case "webrtc-answer":
      case "webrtc-ice-candidate":
        return this.#route(peer, message, text);
      case "sfu-offer": {
        if (!this.#publishing(peer, message.streamId, message.type)) return;
        // Held: its candidates follow once Janus has its publisher.
        const { out, published } = this.#sfu!.offer(peer, message);
        this.post(out);
        return published;
      }
      case "sfu-ice-candidate":
        if (!this.#publishing(peer, message.streamId, message.type)) return;
        return this.#sfu!.candidate(peer, message);
      case "viewer-playing":
        // Only a switch to the SFU waits for it; elsewhere nothing to do.
        if (this.#clients.place(peer.id)?.streamId === message.streamId) {
          this.post(this.#sfu?.playing(peer, message) ?? []);
        }
        return;
      case "ping": {
        // A member gets a fresh resume claim with each pong.
        const resume = this.#resumeFor(peer);
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

  /** An envelope from another node for one of this node's clients. */
  deliver(envelope: Envelope): void {
    const peer = this.#clients.peer(envelope.to);
    if (envelope.kind === "text") {
      peer?.sendRaw(envelope.text);
      return;
    }
    if (envelope.text !== undefined) peer?.sendRaw(envelope.text);
    this.#clients.apply(envelope.to, { kind: "forget" });
    peer?.close(envelope.code, envelope.reason, envelope.why);
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
    if (!this.#clients.isCurrent(peer)) return;
    if (goodbye || this.#graceMs === 0 || !this.#clients.place(peer.id)) {
      return this.leave(peer, cause);
    }
    const timer = setTimeout(() => {
      this.#clients.apply(peer.id, { kind: "end-grace" });
      this.#metrics.graceExpired++;
      this.leave(peer, `${cause}; not back within ${this.#graceMs} ms`);
    }, this.#graceMs);
    this.#clients.apply(peer.id, { kind: "drop", peer, timer });
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
    return then(
      this.#directory.resume(peer.id, claimed, this.#node),
      (previous) => {
        if (previous === undefined) return false;
        this.#clients.apply(peer.id, { kind: "end-grace" });
        this.#clients.apply(peer.id, { kind: "hold", peer, place: claimed });
        if (previous !== this.#node) {
          this.#delivery.toNode(previous, {
            kind: "evict",
            to: peer.id,
            code: RESUMED_CLOSE_CODE,
            reason: "Resumed on a new connection",
            why: "resumed",
          });
        }
        this.#metrics.sessionsResumed++;
        return true;
      },
    );
  }

  /** The server is shutting down: no leave is announced, no timer left. */
  drain(): void {
    this.#draining = true;
    for (const id of this.#clients.inGrace()) {
      this.#clients.apply(id, { kind: "end-grace" });
    }
  }

  /**
   * This node lost its place in the cluster (the store forgot it): every
   * local client is forgotten without a departure, since the store no
   * longer lists them; the caller closes their sockets.
   */
  forgetAll(): void {
    for (const id of this.#clients.ids()) {
      this.#clients.apply(id, { kind: "forget" });
    }
    this.#departures.clear();
  }

  /** Members another node's death freed (this node reaped it): tell their peers. */
  tellDepartures(departures: readonly Departure[], reason: string): void {
    for (const departure of departures) {
      this.#departures.tell(departure, reason);
    }
  }

  /** Removes `peer` from whatever it joined, for good. Safe to call more than once. */
  leave(peer: Peer, reason: string): void {
    // A client back on a new connection holds the place now, not this one.
    const before = this.#clients.apply(peer.id, { kind: "leave", peer });
    if (before?.peer !== peer) return;
    this.#vacate(peer.id, before.kind !== "connected", reason);
  }

  /** Leaves the store refused during an outage, tried again now it is back. */
  retryLeaves(): void {
    this.#departures.retry();
  }

  /** Frees `clientId`'s place in the directory and tells its peers. */
  #vacate(
    clientId: string,
    placed: boolean,
    reason: string,
  ): Promise<void> | undefined {
    // In memory the mirror is exact: no place, nothing to free.
    if (!placed && !this.#delivery.clustered) return;
    return this.#departures.vacate(clientId, this.#node, reason);
  }

  /**
   * Sends `message` to a seat, here or on its node. `text` is its frame
   * when already encoded.
   */
  sendTo(seat: Seat, message: ServerMessage, text?: string): void {
    this.#postman.sendTo(seat, message, text);
  }

  /** Sends what the SFU relay's step sends, in order. */
  post(out: readonly Outbound[]): void {
    this.#postman.post(out);
  }

  /**
   * Runs one directory step and then `next` (see storeStep): synchronously
   * in memory; a failed step is logged and rejects.
   */
  #guard<T>(
    step: () => Eventually<T>,
    next: (value: T) => void,
  ): Promise<void> | undefined {
    return storeStep(this.#logger, step, next);
  }

  /**
   * A resume claim for `peer`'s place, when it holds one. Pongs (every 2 s
   * from a broadcaster) and repeated joins reuse it until half its lifetime
   * has passed: signing is the costly part.
   */
  #resumeFor(peer: Peer): string | undefined {
    const place = this.#clients.placeOf(peer);
    if (!place) return;
    const { streamId, role } = place;
    const now = Date.now();
    const held = this.#claims.get(peer);
    if (
      held?.streamId === streamId && held.role === role &&
      now < held.freshUntil
    ) return held.claim;
    const claim = this.#resumeTokens.issue(
      { clientId: peer.id, streamId, role },
      now,
    );
    this.#claims.set(peer, {
      claim,
      streamId,
      role,
      freshUntil: now + this.#resumeTokens.ttlSeconds * 500,
    });
    return claim;
  }

  /** Sends an `error` and counts it. */
  refuse(peer: Peer, error: ProtocolError): void {
    const { code, message, inReplyTo } = error;
    this.#metrics.countError(code);
    this.#logger.debug("refused", { clientId: peer.id, code, inReplyTo });
    peer.send(
      inReplyTo === undefined
        ? { type: "error", code, message }
        : { type: "error", code, message, inReplyTo },
    );
  }

  /** A store step for `peer`'s message failed: say so, keep the connection. */
  #storeFailed(peer: Peer, inReplyTo: string): void {
    this.refuse(peer, {
      code: "cluster-unavailable",
      message:
        "The server cannot reach its cluster store right now; try again shortly",
      inReplyTo,
    });
  }

  #enter(
    peer: Peer,
    message: BroadcasterReady | JoinStream,
    role: Role,
  ): void | Promise<void> {
    const claimed = peer.resumed;
    if (claimed) {
      // A resume claim is good for its own stream and role only.
      peer.resumed = undefined;
      if (claimed.streamId !== message.streamId || claimed.role !== role) {
        this.refuse(peer, {
          code: "resume-refused",
          message: "This resume claim is for another stream or role",
          inReplyTo: message.type,
        });
        return peer.close(
          RESUME_MISMATCH_CLOSE_CODE,
          "Resume claim mismatch",
          "resume-mismatch",
        );
      }
    }
    const decision = this.#admission.decide(peer, message, role);
    if (decision instanceof Promise) {
      return decision.then((d) => this.#entered(peer, message, role, d));
    }
    return this.#entered(peer, message, role, decision);
  }

  #entered(
    peer: Peer,
    message: BroadcasterReady | JoinStream,
    role: Role,
    decision: Decision,
  ): void | Promise<void> {
    const { streamId } = message;
    // The socket may have closed while a token was being checked.
    if (!peer.isOpen) return;
    if (!decision.ok) {
      return this.#refuseEntry(peer, streamId, role, decision.error);
    }
    const entered = role === "broadcaster"
      ? this.#announce(peer, streamId, decision)
      : this.#join(peer, message as JoinStream, decision);
    return entered?.catch((error) => {
      if (!(error instanceof StoreUnavailable)) throw error;
      this.#storeFailed(peer, message.type);
    });
  }

  /** A refused announce or join: the error, and a line in the audit trail. */
  #refuseEntry(
    peer: Peer,
    streamId: string,
    role: Role,
    error: ProtocolError,
  ): void {
    this.#audit.record({
      kind: "refused",
      clientId: peer.id,
      streamId,
      role,
      reason: error.code,
      remoteAddress: peer.remoteAddress,
    });
    this.refuse(peer, error);
  }

  /** Records a place the directory gave `peer`, unless it is gone meanwhile. */
  #hold(peer: Peer, place: LocalPlace): void {
    if (peer.isOpen) {
      this.#clients.apply(peer.id, { kind: "hold", peer, place });
    }
  }

  #announce(
    peer: Peer,
    streamId: string,
    admitted: Admitted,
  ): Promise<void> | undefined {
    const entrant = {
      clientId: peer.id,
      node: this.#node,
      identity: admitted.identity,
    };
    return this.#guard(
      () => this.#directory.announce(streamId, entrant),
      (result) => {
        if (!result.ok) {
          return this.#refuseEntry(peer, streamId, "broadcaster", {
            code: "stream-taken",
            message: `Stream ${streamId} already has a broadcaster`,
            inReplyTo: "broadcaster-ready",
          });
        }
        const { replaced, switched, again, viewers } = result;
        if (replaced) {
          // The same user again, with a valid token: a stale session of theirs.
          this.#evict(
            { id: replaced.clientId, node: replaced.place.node },
            {
              code: REPLACED_CLOSE_CODE,
              reason: "Replaced",
              why: "replaced",
              text: encodeServerMessage({
                type: "error",
                code: "replaced",
                message:
                  "A newer session of this broadcaster took over the stream",
              }),
            },
          );
          this.#metrics.countError("replaced");
          this.#departures.tell(replaced, "replaced");
        }
        if (switched) this.#departures.tell(switched, "switched");
        this.#hold(peer, { streamId, role: "broadcaster" });
        if (!again) {
          this.#recordJoin(peer, streamId, "broadcaster", admitted);
          const joined: ServerMessage = {
            type: "broadcaster-joined",
            streamId,
          };
          const text = encodeServerMessage(joined);
          for (const viewer of viewers) this.sendTo(viewer, joined, text);
        }
        peer.send({
          type: "broadcaster-accepted",
          streamId,
          viewerCount: viewers.length,
          ...(admitted.iceServers ? { iceServers: admitted.iceServers } : {}),
          resume: this.#resumeFor(peer)!,
        });
        // Every waiting viewer, again on a re-announce: the broadcaster may
        // have dropped its peer connections; each viewer's session says which
        // it kept. Through the SFU, the broadcaster publishes once and is not
        // told of the viewers the SFU serves (it would connect to each).
        const viewerCount = viewers.length;
        const sfu = this.#sfu?.announced(
          streamId,
          { id: peer.id, node: this.#node },
          viewers,
          peer.sfuOnly,
        );
        if (sfu) this.post(sfu.out);
        const direct = sfu?.direct ?? viewers;
        for (const viewer of direct) {
          peer.send({
            type: "viewer-joined",
            streamId,
            viewerId: viewer.id,
            viewerCount,
            ...(viewer.session ? { session: viewer.session } : {}),
          });
        }
      },
    );
  }

  /** Closes a seat's socket wherever it is, without a departure. */
  #evict(seat: Seat, how: Omit<Envelope & { kind: "evict" }, "kind" | "to">) {
    const envelope: Envelope = { kind: "evict", to: seat.id, ...how };
    if (seat.node === this.#node) this.deliver(envelope);
    else this.#delivery.toNode(seat.node, envelope);
  }

  #join(
    peer: Peer,
    message: JoinStream,
    admitted: Admitted,
  ): Promise<void> | undefined {
    const { streamId, session, restart } = message;
    const entrant = {
      clientId: peer.id,
      node: this.#node,
      identity: admitted.identity,
      session,
    };
    // The broadcaster's `viewer-joined`, but for the count the directory
    // knows: on another node the store sends it in the same step.
    const joined = {
      type: "viewer-joined" as const,
      streamId,
      viewerId: peer.id,
      ...(session ? { session } : {}),
      ...(session && restart ? { restart } : {}),
    };
    const tell = viewerJoinedPrefix(joined);
    return this.#guard(
      () => this.#directory.join(streamId, entrant, this.#maxViewers, tell),
      (result) => {
        if (!result.ok) {
          return this.#refuseEntry(peer, streamId, "viewer", {
            code: "stream-full",
            message:
              `Stream ${streamId} has the maximum of ${result.cap} viewers`,
            inReplyTo: "join-stream",
          });
        }
        const { switched, again, broadcaster, viewerCount, told } = result;
        if (switched) this.#departures.tell(switched, "switched");
        this.#hold(peer, { streamId, role: "viewer" });
        if (!again) this.#recordJoin(peer, streamId, "viewer", admitted);
        // The broadcaster first: if the reply below drops a slow viewer, its
        // `viewer-left` then follows this `viewer-joined` instead of
        // preceding it. On a re-join too: a viewer whose connection failed
        // asks for a new offer.
        const seat = { id: peer.id, node: this.#node, session };
        if (told) this.#metrics.clusterSent++;
        else {
          const sfu = this.#sfu?.joined(
            streamId,
            seat,
            restart,
            message.overlap,
            peer.sfuOnly,
          );
          if (sfu) this.post(sfu.out);
          // Taken by the SFU: Janus's offer comes instead of the broadcaster's.
          if (!sfu?.taken && broadcaster) {
            this.sendTo(
              broadcaster,
              { ...joined, viewerCount },
              completeViewerJoined(tell, viewerCount),
            );
          }
        }
        peer.send({
          type: "join-accepted",
          streamId,
          viewerId: peer.id,
          live: broadcaster !== undefined,
          ...(admitted.iceServers ? { iceServers: admitted.iceServers } : {}),
          resume: this.#resumeFor(peer)!,
        });
      },
    );
  }

  #recordJoin(
    peer: Peer,
    streamId: string,
    role: Role,
    admitted: Admitted,
  ): void {
    this.#audit.record({
      kind: "joined",
      clientId: peer.id,
      streamId,
      role,
      subject: admitted.identity?.subject,
      name: admitted.identity?.name,
    });
  }

  #leaveStream(peer: Peer, streamId: string): void | Promise<void> {
    if (this.#clients.place(peer.id)?.streamId !== streamId) {
      return this.refuse(peer, {
        code: "not-in-stream",
        message: `Not in stream ${streamId}`,
        inReplyTo: "leave-stream",
      });
    }
    this.#clients.apply(peer.id, { kind: "release" });
    return this.#vacate(peer.id, true, "leave-stream");
  }

  /**
   * Whether `peer` may publish `streamId` to the SFU (this server has one,
   * and `peer` broadcasts that stream); refused with why if not.
   */
  #publishing(peer: Peer, streamId: string, type: string): boolean {
    const place = this.#clients.place(peer.id);
    if (!this.#sfu) {
      this.refuse(peer, {
        code: "not-in-stream",
        message: "This server sends no stream through an SFU",
        inReplyTo: type,
      });
      return false;
    }
    if (place?.streamId === streamId && place.role === "broadcaster") {
      return true;
    }
    this.refuse(peer, {
      code: place?.streamId === streamId ? "wrong-role" : "not-in-stream",
      message: `Only the broadcaster of ${streamId} publishes to the SFU`,
      inReplyTo: type,
    });
    return false;
  }

  /**
   * Offers, answers and candidates. The sender's role comes from this node's
   * own record of its place; the store then finds the target (and, across
   * nodes, sends the frame on) in one step. Never holds the connection's
   * later messages: store steps run in the order they are sent, so their
   * replies (and the frames they route) keep the sender's order anyway.
   */
  #route(
    peer: Peer,
    message: WebRtcOffer | WebRtcAnswer | WebRtcIceCandidate,
    text: string | undefined,
  ): void {
    const { type, streamId } = message;
    const place = this.#clients.place(peer.id);
    if (place?.streamId !== streamId) {
      return this.refuse(peer, {
        code: "not-in-stream",
        message: `Not in stream ${streamId}`,
        inReplyTo: type,
      });
    }
    const { role } = place;
    if (
      role === "viewer" && type !== "webrtc-offer" &&
      this.#sfu?.fromViewer(peer, message as WebRtcAnswer | WebRtcIceCandidate)
    ) {
      this.#metrics.messagesRouted++;
      return;
    }
    if (role === "broadcaster" && type === "webrtc-answer") {
      return this.refuse(peer, {
        code: "wrong-role",
        message: "Only viewers send answers",
        inReplyTo: type,
      });
    }
    if (role === "viewer" && type === "webrtc-offer") {
      return this.refuse(peer, {
        code: "wrong-role",
        message: "Only the broadcaster sends offers",
        inReplyTo: type,
      });
    }
    if (role === "broadcaster" && message.viewerId === undefined) {
      return this.refuse(peer, {
        code: "invalid-field",
        message: "`viewerId` is required from the broadcaster",
        inReplyTo: type,
      });
    }
    // Its viewer watches through the SFU (or is about to): a seed viewer
    // would drop the SFU's connection for this offer.
    if (
      role === "broadcaster" && this.#sfu?.blocks(streamId, message.viewerId!)
    ) {
      this.#logger.debug("p2p-dropped", {
        streamId,
        viewerId: message.viewerId,
        type,
      });
      return;
    }
    // A broadcaster's frame names its viewer already, so the frame as
    // received is the message. A viewer's is attributed to its real id,
    // whatever `viewerId` it claimed: as received only if that is the one.
    const asReceived = role === "broadcaster" || message.viewerId === peer.id;
    // Server-side these name their viewer: a broadcaster's is routed only
    // if it does, a viewer's is its own id.
    const forwarded =
      (asReceived
        ? message
        : { ...message, viewerId: peer.id }) as ServerMessage;
    const frame = asReceived && text !== undefined
      ? text
      : encodeServerMessage(forwarded);
    const from = { clientId: peer.id, node: this.#node, role };
    this.#guard(
      () => this.#directory.route(from, streamId, message.viewerId, frame),
      (route) => this.#routed(peer, message, role, route, forwarded, frame),
    )?.catch((error) => {
      if (error instanceof StoreUnavailable) {
        this.#storeFailed(peer, type);
      } else {
        this.#logger.error("handler-failed", {
          clientId: peer.id,
          type,
          error: String(error),
        });
        this.refuse(peer, {
          code: "internal-error",
          message: "The server failed on this message",
          inReplyTo: type,
        });
      }
    });
  }

  #routed(
    peer: Peer,
    message: WebRtcOffer | WebRtcAnswer | WebRtcIceCandidate,
    role: Role,
    route: Route,
    forwarded: ServerMessage,
    frame: string,
  ): void {
    const { type, streamId } = message;
    switch (route.found) {
      case "no-sender":
        return this.refuse(peer, {
          code: "not-in-stream",
          message: `Not in stream ${streamId}`,
          inReplyTo: type,
        });
      case "no-target":
        return this.refuse(
          peer,
          role === "broadcaster"
            ? {
              code: "unknown-viewer",
              message:
                `Viewer ${message.viewerId} is not in stream ${streamId}`,
              inReplyTo: type,
            }
            : {
              code: "no-broadcaster",
              message: `Stream ${streamId} has no broadcaster right now`,
              inReplyTo: type,
            },
        );
      case "target":
        if (route.sent) this.#metrics.clusterSent++;
        else this.sendTo(route.to, forwarded, frame);
        this.#metrics.messagesRouted++;
        return;
      default:
        return assertNever(route);
    }
  }
}

function assertNever(value: never): never {
  throw new Error(`Unhandled case ${JSON.stringify(value)}`);
}
