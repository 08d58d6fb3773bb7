/**
 * The routing rules of the seed protocol plus our additions, and the role
 * checks around them. Roles come from the registry, never from the message:
 * a viewer's answer goes only to its own broadcaster, under its real id.
 */
import type {
  BroadcasterReady,
  ClientMessage,
  JoinStream,
  WebRtcAnswer,
  WebRtcIceCandidate,
  WebRtcOffer,
} from "../protocol/messages.ts";
import type { ProtocolError } from "../protocol/parse-client-message.ts";
import type { Admission, Admitted, Decision } from "./admission.ts";
import type { AuditTrail } from "./audit.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import type { Peer } from "./peer.ts";
import type { ResumeClaims, ResumeTokens } from "./resume-token.ts";
import type {
  Membership,
  Role,
  Room,
  StreamRegistry,
} from "./stream-registry.ts";

export interface RouterOptions {
  registry: StreamRegistry;
  metrics: Metrics;
  logger: Logger;
  admission: Admission;
  audit: AuditTrail;
  maxViewersPerStream: number;
  resumeTokens: ResumeTokens;
  /** RECONNECT_GRACE_MS: how long a dropped member keeps its place. */
  reconnectGraceMs: number;
}

/** Close code for a broadcaster session taken over by a newer one of the same subject. */
export const REPLACED_CLOSE_CODE = 4001;
/** Close code for a stale socket whose client came back on a new one (resume). */
export const RESUMED_CLOSE_CODE = 4002;
/** Close code for a resume claim used for another stream or role. */
export const RESUME_MISMATCH_CLOSE_CODE = 4003;

export class SignalingRouter {
  #registry: StreamRegistry;
  #metrics: Metrics;
  #logger: Logger;
  #admission: Admission;
  #audit: AuditTrail;
  #maxViewers: number;
  #resumeTokens: ResumeTokens;
  #graceMs: number;
  /** Members whose socket dropped, by client id, until they are back or gone. */
  #grace = new Map<
    string,
    { peer: Peer; timer: ReturnType<typeof setTimeout> }
  >();
  /** The claim each connection was last given (see #resumeFor). */
  #claims = new WeakMap<
    Peer,
    { claim: string; streamId: string; role: Role; freshUntil: number }
  >();
  /** Shutting down: a closing socket is nobody leaving. */
  #draining = false;

  constructor(options: RouterOptions) {
    this.#registry = options.registry;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#admission = options.admission;
    this.#audit = options.audit;
    this.#maxViewers = options.maxViewersPerStream;
    this.#resumeTokens = options.resumeTokens;
    this.#graceMs = options.reconnectGraceMs;
  }

  /**
   * Handles one validated message from `peer`. Returns a promise only while
   * an admission is being checked; the connection holds back the peer's
   * later messages until it settles, so order is kept.
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

  /**
   * `peer`'s socket closed. After a goodbye (a clean close, or one the
   * server made) its peers are told at once; after a drop it keeps its place
   * for RECONNECT_GRACE_MS, so a client that comes back with its resume claim
   * finds everything as it was. While shutting down nobody is told anything:
   * the clients reconnect to the next process.
   */
  disconnected(peer: Peer, cause: string, goodbye: boolean): void {
    if (this.#draining) return;
    if (goodbye || this.#graceMs === 0) return this.leave(peer, cause);
    if (this.#registry.peerOf(peer.id) !== peer) return;
    const timer = setTimeout(() => {
      this.#grace.delete(peer.id);
      this.#metrics.graceExpired++;
      this.leave(peer, `${cause}; not back within ${this.#graceMs} ms`);
    }, this.#graceMs);
    this.#grace.set(peer.id, { peer, timer });
  }

  /**
   * A new connection of a client that held `claims`' place: it takes the
   * place (its stale socket, if any, is closed by the caller). Returns
   * whether there was a place to take; after a restart there is none, and
   * the client's next announce or join makes it anew under the same id.
   */
  resume(peer: Peer, claims: ResumeClaims): boolean {
    const membership = this.#registry.membershipOf(peer.id);
    if (
      membership?.role !== claims.role ||
      membership.room.streamId !== claims.streamId
    ) return false;
    this.#endGrace(peer.id);
    this.#registry.replacePeer(peer);
    this.#metrics.sessionsResumed++;
    return true;
  }

  /** The server is shutting down: no leave is announced, no timer left. */
  drain(): void {
    this.#draining = true;
    for (const id of [...this.#grace.keys()]) this.#endGrace(id);
  }

  /** Removes `peer` from whatever it joined. Safe to call more than once. */
  leave(peer: Peer, reason: string): void {
    if (this.#grace.get(peer.id)?.peer === peer) this.#endGrace(peer.id);
    // A client back on a new connection holds the place now, not this one.
    if (this.#registry.peerOf(peer.id) !== peer) return;
    const membership = this.#registry.remove(peer.id);
    if (!membership) return;
    const { room, role, identity } = membership;
    this.#audit.record({
      kind: "left",
      clientId: peer.id,
      streamId: room.streamId,
      role,
      subject: identity?.subject,
      name: identity?.name,
      reason,
    });
    if (role === "broadcaster") {
      for (const viewer of room.viewers.values()) {
        viewer.send({ type: "broadcaster-left", streamId: room.streamId });
      }
    } else if (room.broadcaster) {
      room.broadcaster.send({
        type: "viewer-left",
        streamId: room.streamId,
        viewerId: peer.id,
        viewerCount: room.viewers.size,
      });
    }
  }

  #endGrace(clientId: string): void {
    clearTimeout(this.#grace.get(clientId)?.timer);
    this.#grace.delete(clientId);
  }

  /**
   * A resume claim for `peer`'s place, when it holds one. Pongs (every 2 s
   * from a broadcaster) and repeated joins reuse it until half its lifetime
   * has passed: signing is the costly part.
   */
  #resumeFor(peer: Peer): string | undefined {
    const membership = this.#registry.membershipOf(peer.id);
    if (!membership || this.#registry.peerOf(peer.id) !== peer) return;
    const { streamId } = membership.room;
    const now = Date.now();
    const held = this.#claims.get(peer);
    if (
      held?.streamId === streamId && held.role === membership.role &&
      now < held.freshUntil
    ) return held.claim;
    const claim = this.#resumeTokens.issue(
      { clientId: peer.id, streamId, role: membership.role },
      now,
    );
    this.#claims.set(peer, {
      claim,
      streamId,
      role: membership.role,
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
    this.#entered(peer, message, role, decision);
  }

  #entered(
    peer: Peer,
    message: BroadcasterReady | JoinStream,
    role: Role,
    decision: Decision,
  ): void {
    const { streamId } = message;
    // The socket may have closed while a token was being checked.
    if (!peer.isOpen) return;
    if (!decision.ok) {
      return this.#refuseEntry(peer, streamId, role, decision.error);
    }
    if (role === "broadcaster") this.#announce(peer, streamId, decision);
    else this.#join(peer, message as JoinStream, decision);
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

  #announce(peer: Peer, streamId: string, admitted: Admitted): void {
    const existing = this.#registry.room(streamId)?.broadcaster;
    if (existing && existing !== peer) {
      const holder = this.#registry.membershipOf(existing.id)?.identity;
      const sameSubject = holder !== undefined &&
        holder.subject === admitted.identity?.subject;
      if (!sameSubject) {
        return this.#refuseEntry(peer, streamId, "broadcaster", {
          code: "stream-taken",
          message: `Stream ${streamId} already has a broadcaster`,
          inReplyTo: "broadcaster-ready",
        });
      }
      // The same user again, with a valid token: a stale session of theirs.
      this.refuse(existing, {
        code: "replaced",
        message: "A newer session of this broadcaster took over the stream",
      });
      existing.close(REPLACED_CLOSE_CODE, "Replaced", "replaced");
      // Closed already (in its grace period), its place is still to free.
      this.leave(existing, "replaced");
    }
    const current = this.#registry.membershipOf(peer.id);
    const again = current?.role === "broadcaster" &&
      current.room.streamId === streamId;
    // A connection holds one role in one stream: switching leaves the old one.
    if (current && !again) this.leave(peer, "switched");
    const room = this.#registry.setBroadcaster(
      streamId,
      peer,
      admitted.identity,
    );
    if (!again) {
      this.#recordJoin(peer, streamId, "broadcaster", admitted);
      for (const viewer of room.viewers.values()) {
        viewer.send({ type: "broadcaster-joined", streamId });
      }
    }
    peer.send({
      type: "broadcaster-accepted",
      streamId,
      viewerCount: room.viewers.size,
      ...(admitted.iceServers ? { iceServers: admitted.iceServers } : {}),
      resume: this.#resumeFor(peer)!,
    });
    // Every waiting viewer, again on a re-announce: the broadcaster may have
    // dropped its peer connections; each viewer's session says which it kept.
    const viewerCount = room.viewers.size;
    for (const viewerId of room.viewers.keys()) {
      const session = this.#registry.membershipOf(viewerId)?.session;
      peer.send({
        type: "viewer-joined",
        streamId,
        viewerId,
        viewerCount,
        ...(session ? { session } : {}),
      });
    }
  }

  #join(peer: Peer, message: JoinStream, admitted: Admitted): void {
    const { streamId, session, restart } = message;
    const current = this.#registry.membershipOf(peer.id);
    const again = current?.role === "viewer" &&
      current.room.streamId === streamId;
    const room = this.#registry.room(streamId);
    const cap = Math.min(this.#maxViewers, room?.viewerCap ?? Infinity);
    if (!again && room && room.viewers.size >= cap) {
      return this.#refuseEntry(peer, streamId, "viewer", {
        code: "stream-full",
        message: `Stream ${streamId} has the maximum of ${cap} viewers`,
        inReplyTo: "join-stream",
      });
    }
    if (current && !again) this.leave(peer, "switched");
    const joined = this.#registry.addViewer(
      streamId,
      peer,
      admitted.identity,
      session,
    );
    if (!again) this.#recordJoin(peer, streamId, "viewer", admitted);
    // The broadcaster first: if the reply below drops a slow viewer, its
    // `viewer-left` then follows this `viewer-joined` instead of preceding it.
    // On a re-join too: a viewer whose connection failed asks for a new offer.
    if (joined.broadcaster) {
      joined.broadcaster.send({
        type: "viewer-joined",
        streamId,
        viewerId: peer.id,
        viewerCount: joined.viewers.size,
        ...(session ? { session } : {}),
        ...(session && restart ? { restart } : {}),
      });
    }
    peer.send({
      type: "join-accepted",
      streamId,
      viewerId: peer.id,
      live: joined.broadcaster !== undefined,
      ...(admitted.iceServers ? { iceServers: admitted.iceServers } : {}),
      resume: this.#resumeFor(peer)!,
    });
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

  #leaveStream(peer: Peer, streamId: string): void {
    if (this.#registry.membershipOf(peer.id)?.room.streamId !== streamId) {
      return this.refuse(peer, {
        code: "not-in-stream",
        message: `Not in stream ${streamId}`,
        inReplyTo: "leave-stream",
      });
    }
    this.leave(peer, "leave-stream");
  }

  #route(
    peer: Peer,
    message: WebRtcOffer | WebRtcAnswer | WebRtcIceCandidate,
    text: string | undefined,
  ): void {
    const membership = this.#registry.membershipOf(peer.id);
    if (membership?.room.streamId !== message.streamId) {
      return this.refuse(peer, {
        code: "not-in-stream",
        message: `Not in stream ${message.streamId}`,
        inReplyTo: message.type,
      });
    }
    if (membership.role === "broadcaster") {
      this.#toViewer(peer, membership.room, message, text);
    } else {
      this.#toBroadcaster(peer, membership, message, text);
    }
  }

  #toViewer(
    peer: Peer,
    room: Room,
    message: WebRtcOffer | WebRtcAnswer | WebRtcIceCandidate,
    text: string | undefined,
  ): void {
    if (message.type === "webrtc-answer") {
      return this.refuse(peer, {
        code: "wrong-role",
        message: "Only viewers send answers",
        inReplyTo: message.type,
      });
    }
    if (message.viewerId === undefined) {
      return this.refuse(peer, {
        code: "invalid-field",
        message: "`viewerId` is required from the broadcaster",
        inReplyTo: message.type,
      });
    }
    const viewer = room.viewers.get(message.viewerId);
    if (!viewer) {
      return this.refuse(peer, {
        code: "unknown-viewer",
        message: `Viewer ${message.viewerId} is not in stream ${room.streamId}`,
        inReplyTo: message.type,
      });
    }
    // It named this viewer already, so the frame as received is the message.
    if (text !== undefined) viewer.sendRaw(text);
    else viewer.send({ ...message, viewerId: viewer.id });
    this.#metrics.messagesRouted++;
  }

  #toBroadcaster(
    peer: Peer,
    membership: Membership,
    message: WebRtcOffer | WebRtcAnswer | WebRtcIceCandidate,
    text: string | undefined,
  ): void {
    if (message.type === "webrtc-offer") {
      return this.refuse(peer, {
        code: "wrong-role",
        message: "Only the broadcaster sends offers",
        inReplyTo: message.type,
      });
    }
    const { broadcaster } = membership.room;
    if (!broadcaster) {
      return this.refuse(peer, {
        code: "no-broadcaster",
        message: `Stream ${message.streamId} has no broadcaster right now`,
        inReplyTo: message.type,
      });
    }
    // Attributed to the sender's real id, whatever `viewerId` it claimed.
    // The frame as received only if it already carries the sender's real id.
    if (text !== undefined && message.viewerId === peer.id) {
      broadcaster.sendRaw(text);
    } else broadcaster.send({ ...message, viewerId: peer.id });
    this.#metrics.messagesRouted++;
  }
}

function assertNever(value: never): never {
  throw new Error(`Unhandled message ${JSON.stringify(value)}`);
}
