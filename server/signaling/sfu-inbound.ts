/**
 * With several nodes, a stream's SFU state is driven on its broadcaster's
 * node (sfu/handover.ts). Its viewers may be on any node: what they send
 * about their media travels to the broadcaster anyway (the store routes it
 * there), so that node's relay takes it on the way in, before the
 * broadcaster would see it: a viewer's joining (with where it is, `via`),
 * its answer and candidates for Janus, its `viewer-playing`, its leaving.
 */
import { encodeServerMessage } from "../../protocol/encode-server-message.ts";
import type {
  ServerMessage,
  ViewerPlaying,
  WebRtcAnswer,
  WebRtcIceCandidate,
} from "../../protocol/messages.ts";
import type { SfuRelay } from "../sfu/sfu-relay.ts";
import type { Peer } from "./peer.ts";
import type { Postman } from "./postman.ts";

/**
 * Where a viewer joined, added to the `viewer-joined` frame another node
 * sends a broadcaster: the broadcaster's node strips it.
 */
export interface JoinedVia {
  node: string;
  overlap?: boolean;
  sfuOnly?: boolean;
}

/** `viewer-playing` between nodes: the viewer's own id added. */
export type PlayingBetweenNodes = ViewerPlaying & { viewerId: string };

/**
 * A frame from another node for a local broadcaster of `streamId` (its
 * connection, unless it is in its grace): true when the SFU took it (or it
 * was delivered here already).
 */
export function takeInbound(
  sfu: SfuRelay,
  postman: Postman,
  broadcaster: Peer | undefined,
  streamId: string,
  text: string,
): boolean {
  let message: Record<string, unknown>;
  try {
    message = JSON.parse(text);
  } catch {
    return false;
  }
  if (message.streamId !== streamId || typeof message.viewerId !== "string") {
    return false;
  }
  const viewerId = message.viewerId;
  switch (message.type) {
    case "viewer-joined": {
      const via = message.via as JoinedVia | undefined;
      if (!via || typeof via.node !== "string") return false;
      const session = typeof message.session === "string"
        ? message.session
        : undefined;
      const { taken, out } = sfu.joined(
        streamId,
        { id: viewerId, node: via.node, ...(session ? { session } : {}) },
        message.restart === true,
        via.overlap === true,
        via.sfuOnly === true,
      );
      postman.post(out);
      if (!taken) {
        delete message.via;
        const joined = message as unknown as ServerMessage;
        broadcaster?.sendRaw(encodeServerMessage(joined), joined);
      }
      return true;
    }
    case "webrtc-answer":
    case "webrtc-ice-candidate": {
      const seat = sfu.seatOf(streamId, viewerId);
      return seat !== undefined && sfu.fromViewer(
        viewerId,
        message as unknown as WebRtcAnswer | WebRtcIceCandidate,
        (reply) => postman.sendTo(seat, reply),
      );
    }
    case "viewer-playing":
      if (typeof message.session !== "string") return true;
      postman.post(
        sfu.playing(viewerId, message as unknown as PlayingBetweenNodes),
      );
      return true;
    case "viewer-left":
      sfu.viewerLeft(streamId, viewerId);
      return false;
    default:
      return false;
  }
}
