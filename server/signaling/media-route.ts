/**
 * Offers, answers and candidates between a stream's members (and the SFU's
 * publish steps' role check). Roles come from this node's record of each
 * member's place, never from the message: a viewer's answer goes only to its
 * own broadcaster, under its real id.
 */
import { encodeServerMessage } from "../../protocol/encode-server-message.ts";
import type {
  ServerMessage,
  ViewerLoss,
  ViewerPlaying,
  WebRtcAnswer,
  WebRtcIceCandidate,
  WebRtcOffer,
} from "../../protocol/messages.ts";
import type { ProtocolError } from "../../protocol/parse-client-message.ts";
import type { Peer } from "./peer.ts";
import { type Role, type Route, StoreUnavailable } from "./directory.ts";

import type { RouterCore } from "./router-core.ts";
import type { ToDriver } from "./sfu-inbound.ts";
import { followUp } from "./handler-guard.ts";

export class MediaRoute {
  #core: RouterCore;

  constructor(core: RouterCore) {
    this.#core = core;
  }

  /**
   * Whether `peer` may publish `streamId` to the SFU (this server has one,
   * and `peer` broadcasts that stream); refused with why if not.
   */
  publishing(peer: Peer, streamId: string, type: string): boolean {
    const place = this.#core.clients.place(peer.id);
    if (!this.#core.sfu) {
      this.#core.refuse(peer, {
        code: "not-in-stream",
        message: "This server sends no stream through an SFU",
        inReplyTo: type,
      });
      return false;
    }
    if (place?.streamId === streamId && place.role === "broadcaster") {
      return true;
    }
    this.#core.refuse(peer, {
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
  route(
    peer: Peer,
    message: WebRtcOffer | WebRtcAnswer | WebRtcIceCandidate,
    text: string | undefined,
  ): void {
    const { type, streamId } = message;
    const place = this.#core.clients.place(peer.id);
    if (place?.streamId !== streamId) {
      return this.#core.refuse(peer, {
        code: "not-in-stream",
        message: `Not in stream ${streamId}`,
        inReplyTo: type,
      });
    }
    const { role } = place;
    // Its stream being taken over here: the viewer's steps wait for it.
    const pending = role === "viewer" &&
      this.#core.sfu?.pendingTakeover(streamId);
    if (pending) {
      return followUp(
        this.#core,
        this.#core.logger,
        peer,
        message,
        pending,
        () => this.route(peer, message, text),
      );
    }
    if (
      role === "viewer" && type !== "webrtc-offer" &&
      this.#core.sfu?.fromViewer(
        peer.id,
        message as WebRtcAnswer | WebRtcIceCandidate,
        (reply) => peer.send(reply),
      )
    ) {
      this.#core.metrics.messagesRouted++;
      return;
    }
    if (role === "broadcaster" && type === "webrtc-answer") {
      return this.#core.refuse(peer, {
        code: "wrong-role",
        message: "Only viewers send answers",
        inReplyTo: type,
      });
    }
    if (role === "viewer" && type === "webrtc-offer") {
      return this.#core.refuse(peer, {
        code: "wrong-role",
        message: "Only the broadcaster sends offers",
        inReplyTo: type,
      });
    }
    if (role === "broadcaster" && message.viewerId === undefined) {
      return this.#core.refuse(peer, {
        code: "invalid-field",
        message: "`viewerId` is required from the broadcaster",
        inReplyTo: type,
      });
    }
    // Its viewer watches through the SFU (or is about to): a seed viewer
    // would drop the SFU's connection for this offer.
    if (
      role === "broadcaster" &&
      this.#core.sfu?.blocks(streamId, message.viewerId!)
    ) {
      this.#core.logger.debug("p2p-dropped", {
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
    const from = { clientId: peer.id, node: this.#core.node, role };
    const step = this.#core.directory.route(
      from,
      streamId,
      message.viewerId,
      frame,
    );
    // In memory (one process) the step is done already: routed at once,
    // without the two closures a store step takes (every frame comes here).
    if (!(step instanceof Promise)) {
      return this.#routed(peer, message, role, step, forwarded, frame);
    }
    this.#core.guard(
      () => step,
      (route) => this.#routed(peer, message, role, route, forwarded, frame),
    )?.catch((error) => {
      if (error instanceof StoreUnavailable) {
        this.#core.storeFailed(peer, type);
      } else {
        this.#core.logger.error("handler-failed", {
          clientId: peer.id,
          type,
          error: String(error),
        });
        this.#core.refuse(peer, {
          code: "internal-error",
          message: "The server failed on this message",
          inReplyTo: type,
        });
      }
    });
  }

  /**
   * A viewer's `viewer-playing` or `viewer-loss` for the node that drives
   * its stream's SFU state (its broadcaster's), with the viewer's id.
   */
  toDriver(peer: Peer, message: ViewerPlaying | ViewerLoss): void {
    const between: ToDriver = { ...message, viewerId: peer.id };
    const from = {
      clientId: peer.id,
      node: this.#core.node,
      role: "viewer" as const,
    };
    this.#core.guard(
      () =>
        this.#core.directory.route(
          from,
          message.streamId,
          peer.id,
          // Between nodes only: no client parses it.
          JSON.stringify(between),
        ),
      () => {},
    )?.catch(() => {});
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
        return this.#core.refuse(peer, {
          code: "not-in-stream",
          message: `Not in stream ${streamId}`,
          inReplyTo: type,
        });
      case "no-target":
        return this.#core.refuse(
          peer,
          noTarget(role, streamId, message.viewerId, type),
        );
      case "target":
        if (route.sent) this.#core.metrics.clusterSent++;
        else this.#core.sendTo(route.to, forwarded, frame);
        this.#core.metrics.messagesRouted++;
        return;
      default:
        return assertNever(route);
    }
  }
}

/** The error a frame with nobody to go to gets. */
function noTarget(
  role: Role,
  streamId: string,
  viewerId: string | undefined,
  type: string,
): ProtocolError {
  return role === "broadcaster"
    ? {
      code: "unknown-viewer",
      message: `Viewer ${viewerId} is not in stream ${streamId}`,
      inReplyTo: type,
    }
    : {
      code: "no-broadcaster",
      message: `Stream ${streamId} has no broadcaster right now`,
      inReplyTo: type,
    };
}

/**
 * The error for a routed frame (`text`, as forwarded) that turned out to
 * have no target after it left (a cached route missed, and the store has
 * none): none for `viewer-playing` or `viewer-loss` between nodes, which
 * nobody is told of.
 */
export function unroutableError(
  role: Role,
  streamId: string,
  viewerId: string | undefined,
  text: string,
): ProtocolError | undefined {
  let type: unknown;
  try {
    type = JSON.parse(text).type;
  } catch {
    return undefined;
  }
  if (
    type !== "webrtc-offer" && type !== "webrtc-answer" &&
    type !== "webrtc-ice-candidate"
  ) return undefined;
  return noTarget(role, streamId, viewerId, type);
}

function assertNever(value: never): never {
  throw new Error(`Unhandled case ${JSON.stringify(value)}`);
}
