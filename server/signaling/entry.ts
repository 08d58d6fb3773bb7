/**
 * Entering a stream: a broadcaster's announce and a viewer's join. Admission
 * first (token, origin, limits), then one directory step that checks and
 * takes the place atomically, then the messages: to the entrant, to its
 * peers, and through the SFU's side when it takes the stream.
 */
import {
  completeViewerJoined,
  encodeServerMessage,
  viewerJoinedPrefix,
} from "../../protocol/encode-server-message.ts";
import type {
  BroadcasterReady,
  JoinStream,
  ServerMessage,
} from "../../protocol/messages.ts";
import type { ProtocolError } from "../../protocol/parse-client-message.ts";
import type { Admitted, Decision } from "../security/admission.ts";
import type { Peer } from "./peer.ts";
import { type Role, type Seat, StoreUnavailable } from "./directory.ts";

import type { RouterCore } from "./router-core.ts";
import type { JoinedVia } from "./sfu-inbound.ts";
import { followUp } from "./handler-guard.ts";
import {
  REPLACED_CLOSE_CODE,
  RESUME_MISMATCH_CLOSE_CODE,
} from "./router-core.ts";

export class Entry {
  #core: RouterCore;

  constructor(core: RouterCore) {
    this.#core = core;
  }

  enter(
    peer: Peer,
    message: BroadcasterReady | JoinStream,
    role: Role,
  ): void | Promise<void> {
    const claimed = peer.resumed;
    if (claimed) {
      // A resume claim is good for its own stream and role only.
      peer.resumed = undefined;
      if (claimed.streamId !== message.streamId || claimed.role !== role) {
        this.#core.refuse(peer, {
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
    const decision = this.#core.admission.decide(peer, message, role);
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
    // A leave of this client still to be tried again would undo this step.
    const unplaced = this.#core.departures.placing(peer.id);
    const entered = role === "broadcaster"
      ? this.#announce(peer, message as BroadcasterReady, decision, unplaced)
      : this.#join(peer, message as JoinStream, decision, unplaced);
    return entered?.catch((error) => {
      if (!(error instanceof StoreUnavailable)) throw error;
      unplaced?.();
      this.#core.storeFailed(peer, message.type, streamId);
    });
  }

  /** A refused announce or join: the error, and a line in the audit trail. */
  #refuseEntry(
    peer: Peer,
    streamId: string,
    role: Role,
    error: ProtocolError,
  ): void {
    this.#core.audit.record({
      kind: "refused",
      clientId: peer.id,
      streamId,
      role,
      reason: error.code,
      remoteAddress: peer.remoteAddress,
    });
    // Named, so a client that moved to another stream meanwhile ignores it.
    this.#core.refuse(peer, { ...error, streamId });
  }

  #announce(
    peer: Peer,
    message: BroadcasterReady,
    admitted: Admitted,
    /** Called if it is refused (see Departures.placing). */
    unplaced?: () => void,
  ): Promise<void> | undefined {
    const { streamId, e2ee } = message;
    const entrant = {
      clientId: peer.id,
      node: this.#core.node,
      identity: admitted.identity,
      ...(e2ee ? { e2ee } : {}),
    };
    return this.#core.guard(
      () => this.#announceAndAdopt(peer, streamId, entrant),
      (result) => {
        if (!result.ok) {
          unplaced?.();
          return this.#refuseEntry(peer, streamId, "broadcaster", {
            code: "stream-taken",
            message: `Stream ${streamId} already has a broadcaster`,
            inReplyTo: "broadcaster-ready",
          });
        }
        const { replaced, switched, again, viewers, e2eeBefore } = result;
        if (replaced) {
          // The same user again, with a valid token: a stale session of theirs.
          this.#core.evict(
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
          this.#core.metrics.countError("replaced");
          this.#core.departures.tell(replaced, "replaced");
        }
        if (switched) this.#core.departures.tell(switched, "switched");
        this.#core.hold(peer, { streamId, role: "broadcaster" });
        if (!again) this.#recordJoin(peer, streamId, "broadcaster", admitted);
        // An encrypting broadcaster is paired only with viewers that
        // decrypt: the others hear why, and wait.
        const paired = e2ee ? viewers.filter((viewer) => viewer.e2ee) : viewers;
        const joined: ServerMessage = { type: "broadcaster-joined", streamId };
        // Announced again: only those whose pairing changed hear of it.
        const told = again
          ? (e2ee === true) === e2eeBefore
            ? []
            : viewers.filter((viewer) => !viewer.e2ee)
          : viewers;
        const text = encodeServerMessage(joined);
        for (const viewer of told) {
          if (e2ee && !viewer.e2ee) this.#encrypted(viewer, streamId);
          else this.#core.sendTo(viewer, joined, text);
        }
        peer.send({
          type: "broadcaster-accepted",
          streamId,
          viewerCount: viewers.length,
          ...(admitted.iceServers ? { iceServers: admitted.iceServers } : {}),
          resume: this.#core.resumeFor(peer)!,
        });
        // Every waiting viewer, again on a re-announce: the broadcaster may
        // have dropped its peer connections; each viewer's session says which
        // it kept. Through the SFU, the broadcaster publishes once and is not
        // told of the viewers the SFU serves (it would connect to each).
        const viewerCount = viewers.length;
        // Gone meanwhile (another node has it now): its SFU state is not
        // this node's to start.
        const gone = this.#core.delivery.clustered && !peer.isOpen;
        const sfu = gone ? undefined : this.#core.sfu?.announced(
          streamId,
          { id: peer.id, node: this.#core.node },
          paired,
          peer.sfuOnly,
          e2ee === true,
        );
        if (sfu) this.#core.post(sfu.out);
        const direct = sfu?.direct ?? paired;
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

  /**
   * The directory's step, then (SFU with a cluster) the stream's SFU state
   * taken over if another node drove it: its broadcaster came back here.
   */
  #announceAndAdopt(
    peer: Peer,
    streamId: string,
    entrant: Parameters<RouterCore["directory"]["announce"]>[1],
  ): ReturnType<RouterCore["directory"]["announce"]> {
    const sfu = this.#core.sfu;
    const step = this.#core.directory.announce(streamId, entrant);
    // Alone, the step stays as it is (synchronous, in order with the rest).
    if (!sfu || !this.#core.delivery.clustered) return step;
    return Promise.resolve(step).then(async (result) => {
      if (!result.ok || !peer.isOpen) return result;
      // Held first: viewers' frames for it that come meanwhile are the
      // SFU's, and wait for the takeover (sfu-inbound.ts).
      this.#core.hold(peer, { streamId, role: "broadcaster" });
      await sfu.adopt(streamId, peer.id).catch((error) =>
        this.#core.logger.warn("sfu-take-over-failed", {
          streamId,
          error: String(error),
        })
      );
      return result;
    });
  }

  #join(
    peer: Peer,
    message: JoinStream,
    admitted: Admitted,
    /** Called if it is refused (see Departures.placing). */
    unplaced?: () => void,
  ): Promise<void> | undefined {
    const { streamId, session, restart, keyFrame, e2ee } = message;
    const entrant = {
      clientId: peer.id,
      node: this.#core.node,
      identity: admitted.identity,
      session,
      ...(e2ee ? { e2ee } : {}),
    };
    // The broadcaster's `viewer-joined`, but for the count the directory
    // knows: on another node the store sends it in the same step.
    const joined = {
      type: "viewer-joined" as const,
      streamId,
      viewerId: peer.id,
      ...(session ? { session } : {}),
      ...(session && restart ? { restart } : {}),
      ...(session && keyFrame ? { keyFrame } : {}),
    };
    // Through another node, where it is: the broadcaster's node drives the
    // SFU and takes it there (sfu-inbound.ts).
    const via: JoinedVia | undefined = this.#core.sfu &&
        this.#core.delivery.clustered
      ? {
        node: this.#core.node,
        ...(message.overlap ? { overlap: true } : {}),
        ...(peer.sfuOnly ? { sfuOnly: true } : {}),
        ...(e2ee ? { e2ee } : {}),
      }
      : undefined;
    const prefix = viewerJoinedPrefix(via ? { ...joined, via } : joined);
    return this.#core.guard(
      () =>
        this.#core.directory.join(
          streamId,
          entrant,
          this.#core.maxViewers,
          prefix,
        ),
      (result) => {
        if (!result.ok) {
          unplaced?.();
          return this.#refuseEntry(peer, streamId, "viewer", {
            code: "stream-full",
            message:
              `Stream ${streamId} has the maximum of ${result.cap} viewers`,
            inReplyTo: "join-stream",
          });
        }
        const { switched, again, broadcaster, viewerCount, told } = result;
        if (switched) this.#core.departures.tell(switched, "switched");
        this.#core.hold(peer, { streamId, role: "viewer" });
        if (!again) this.#recordJoin(peer, streamId, "viewer", admitted);
        // Its broadcaster encrypts and it cannot decrypt: it stays, waiting
        // (a broadcaster that does not encrypt may come), never paired: no
        // `viewer-joined`, no SFU subscription (the store sent none either).
        const refused = broadcaster !== undefined && result.e2ee && !e2ee;
        // The broadcaster first: if the reply below drops a slow viewer, its
        // `viewer-left` then follows this `viewer-joined` instead of
        // preceding it. On a re-join too: a viewer whose connection failed
        // asks for a new offer.
        const seat = {
          id: peer.id,
          node: this.#core.node,
          session,
          ...(e2ee ? { e2ee } : {}),
        };
        if (told) this.#core.metrics.clusterSent++;
        else if (!refused) {
          // In a cluster the SFU state is its broadcaster's node's: with
          // none yet, the broadcaster's announce lists this viewer there.
          const drives = !this.#core.delivery.clustered ||
            broadcaster?.node === this.#core.node;
          const tell = () => {
            const sfu = drives
              ? this.#core.sfu?.joined(
                streamId,
                seat,
                restart,
                message.overlap,
                peer.sfuOnly,
              )
              : undefined;
            if (sfu) this.#core.post(sfu.out);
            // Taken by the SFU: Janus's offer comes instead of the
            // broadcaster's.
            if (!sfu?.taken && broadcaster) {
              this.#core.sendTo(
                broadcaster,
                { ...joined, viewerCount },
                via ? undefined : completeViewerJoined(prefix, viewerCount),
              );
            }
          };
          // Its stream being taken over here: the join waits for it.
          const ready = drives && broadcaster &&
            this.#core.sfu?.whenReady(streamId, broadcaster.id);
          if (ready) {
            followUp(
              this.#core,
              this.#core.logger,
              peer,
              message,
              ready,
              tell,
            );
          } else tell();
        }
        peer.send({
          type: "join-accepted",
          streamId,
          viewerId: peer.id,
          live: broadcaster !== undefined,
          ...(admitted.iceServers ? { iceServers: admitted.iceServers } : {}),
          resume: this.#core.resumeFor(peer)!,
        });
        if (refused) this.#encrypted(seat, streamId);
      },
    );
  }

  /** `stream-encrypted` to a viewer an encrypting broadcaster is not paired with. */
  #encrypted(viewer: Seat, streamId: string): void {
    this.#core.metrics.countError("stream-encrypted");
    this.#core.sendTo(viewer, {
      type: "error",
      code: "stream-encrypted",
      message:
        `Stream ${streamId} is end-to-end encrypted, and this viewer did not say it decrypts (join-stream.e2ee)`,
      streamId,
      // No inReplyTo: the join stands (the viewer stays in the stream, and
      // a client reads a join's refusal as leaving it).
    });
  }

  #recordJoin(
    peer: Peer,
    streamId: string,
    role: Role,
    admitted: Admitted,
  ): void {
    this.#core.audit.record({
      kind: "joined",
      clientId: peer.id,
      streamId,
      role,
      subject: admitted.identity?.subject,
      name: admitted.identity?.name,
    });
  }
}
