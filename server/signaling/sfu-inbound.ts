/**
 * With several nodes, a stream's SFU state is driven on its broadcaster's
 * node (sfu/handover.ts). Its viewers may be on any node: what they send
 * about their media travels to the broadcaster anyway (the store routes it
 * there), so that node's relay takes it on the way in, before the
 * broadcaster would see it: a viewer's joining (with where it is, `via`),
 * its answer and candidates for Janus, its `viewer-playing` and
 * `viewer-loss`, its leaving.
 * While the stream is being taken over here, they wait for it.
 */
import { encodeServerMessage } from "../../protocol/encode-server-message.ts";
import { validateClientMessage } from "../../protocol/parse-client-message.ts";
import type {
  ServerMessage,
  ViewerLoss,
  ViewerPlaying,
  WebRtcAnswer,
  WebRtcIceCandidate,
} from "../../protocol/messages.ts";
import type { Logger } from "../observe/logger.ts";
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
  /** Its `join-stream.e2ee` (the store paired it: the broadcaster's own check). */
  e2ee?: boolean;
}

/** A frame with its `via` (if any) taken out. */
export function withoutVia(text: string): string {
  try {
    const message = JSON.parse(text);
    delete message.via;
    return encodeServerMessage(message as ServerMessage);
  } catch {
    return text;
  }
}

/** `viewer-playing` or `viewer-loss` between nodes: the viewer's own id added. */
export type ToDriver = (ViewerPlaying | ViewerLoss) & { viewerId: string };

export interface Inbound {
  sfu: SfuRelay;
  postman: Postman;
  logger: Logger;
  /** The broadcaster's connection here (none while in its grace). */
  broadcaster: Peer | undefined;
  broadcasterId: string;
  streamId: string;
}

/**
 * A frame from another node for a local broadcaster: true when the SFU
 * takes it (now, or once a takeover under way is done), false when it is
 * the broadcaster's as it is.
 */
export function takeInbound(inbound: Inbound, text: string): boolean {
  // Only a viewer's frames name a viewer: the rest go by unparsed.
  if (!text.includes('"viewerId"')) return false;
  let message: Record<string, unknown>;
  try {
    message = JSON.parse(text);
  } catch {
    return false;
  }
  const { streamId, broadcasterId, sfu } = inbound;
  if (message.streamId !== streamId || typeof message.viewerId !== "string") {
    return false;
  }
  const kind = message.type;
  if (
    kind !== "viewer-joined" && kind !== "webrtc-answer" &&
    kind !== "webrtc-ice-candidate" && kind !== "viewer-playing" &&
    kind !== "viewer-loss" && kind !== "viewer-left"
  ) return false;
  const take = () => {
    try {
      taken(inbound, message, text);
    } catch (error) {
      // Another node's frame must never take this one down.
      inbound.logger.warn("sfu-inbound-failed", {
        streamId,
        type: String(kind),
        error: String(error),
      });
    }
  };
  const ready = sfu.whenReady(streamId, broadcasterId);
  if (ready) {
    ready.catch(() => {}).then(take);
  } else take();
  return true;
}

/** Takes one viewer frame, or hands it to the broadcaster as it is. */
function taken(
  inbound: Inbound,
  message: Record<string, unknown>,
  text: string,
): void {
  const { sfu, postman, broadcaster, streamId } = inbound;
  const viewerId = message.viewerId as string;
  const pass = (frame = text) => broadcaster?.sendRaw(frame);
  switch (message.type) {
    case "viewer-joined": {
      const via = message.via as JoinedVia | undefined;
      delete message.via;
      const plain = message as unknown as ServerMessage;
      if (!via || typeof via !== "object" || typeof via.node !== "string") {
        return pass(encodeServerMessage(plain));
      }
      const session = typeof message.session === "string"
        ? message.session
        : undefined;
      const { taken, out } = sfu.joined(
        streamId,
        {
          id: viewerId,
          node: via.node,
          ...(session ? { session } : {}),
          ...(via.e2ee === true ? { e2ee: true as const } : {}),
        },
        message.restart === true,
        via.overlap === true,
        via.sfuOnly === true,
      );
      postman.post(out);
      if (!taken) broadcaster?.sendRaw(encodeServerMessage(plain), plain);
      return;
    }
    case "webrtc-answer":
    case "webrtc-ice-candidate": {
      const seat = sfu.seatOf(streamId, viewerId);
      const valid = message.type === "webrtc-answer"
        ? typeof (message.answer as { sdp?: unknown })?.sdp === "string"
        : typeof message.candidate === "object" && message.candidate !== null;
      const used = valid && seat !== undefined && sfu.fromViewer(
        viewerId,
        message as unknown as WebRtcAnswer | WebRtcIceCandidate,
        (reply) => postman.sendTo(seat, reply),
      );
      if (!used) pass();
      return;
    }
    case "viewer-playing":
      if (typeof message.session !== "string") return;
      postman.post(
        sfu.playing(viewerId, message as unknown as ViewerPlaying),
      );
      return;
    case "viewer-loss": {
      // From another node, which parsed it: checked again all the same.
      const parsed = validateClientMessage(message);
      if (parsed.ok && parsed.message.type === "viewer-loss") {
        sfu.viewerLoss(viewerId, parsed.message);
      }
      return;
    }
    case "viewer-left":
      sfu.viewerLeft(streamId, viewerId);
      return pass();
  }
}
