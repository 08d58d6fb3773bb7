/**
 * The wire format of server → client messages, in one place: the server
 * builds no frame by hand. Every frame is the JSON of a {@link ServerMessage};
 * the one exception is `viewer-joined` across nodes, whose count only the
 * cluster store knows when it sends it: the store completes a prefix made
 * here (the Redis script in server/cluster/redis-scripts.ts appends the count and
 * `}`, as {@link completeViewerJoined} does).
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
