/**
 * The wire format of server → client messages, in one place: the server
 * builds no frame by hand. Every frame is the JSON of a {@link ServerMessage};
 * the one exception is `viewer-joined` across nodes, whose count only the
 * cluster store knows when it sends it: the store completes a prefix made
 * here (the Redis script in server/cluster/redis-scripts.ts appends the count and
 * `}`, as {@link completeViewerJoined} does); and an offer that carries its
 * viewer's `join-accepted` ({@link offerWithAccepted}), made from the two
 * frames as sent.
 *
 * Browser-safe: no Deno or Node APIs.
 */
import type { ServerMessage, ViewerJoined } from "./messages.ts";

/** The frame for `message`. */
export function encodeServerMessage(message: ServerMessage): string {
  return JSON.stringify(message);
}

/**
 * A `viewer-joined` frame up to its count: `…,"viewerCount":`. `via`
 * travels between servers only (the receiving server strips it).
 */
export function viewerJoinedPrefix(
  message: Omit<ViewerJoined, "viewerCount" | "sfu"> & { via?: object },
): string {
  return `${JSON.stringify(message).slice(0, -1)},"viewerCount":`;
}

/** The frame of a {@link viewerJoinedPrefix} with its count. */
export function completeViewerJoined(prefix: string, count: number): string {
  return `${prefix}${count}}`;
}

const OFFER_FRAME = '{"type":"webrtc-offer",';

/**
 * The offer frame `offer` with `accepted` (a `join-accepted` frame) as its
 * `joinAccepted`; undefined if `offer` is no offer frame this can extend (a
 * broadcaster's, forwarded as sent, may order its fields otherwise: then
 * the two go as two frames).
 */
export function offerWithAccepted(
  offer: string,
  accepted: string,
): string | undefined {
  return offer.startsWith(OFFER_FRAME) && offer.endsWith("}")
    ? `${offer.slice(0, -1)},"joinAccepted":${accepted}}`
    : undefined;
}
