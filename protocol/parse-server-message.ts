/**
 * Reads a frame from the signaling server in the browser. Checks the fields
 * each message type needs, so the elements can trust the shapes they use.
 * Unknown types yield `undefined` and are ignored: a newer server may add
 * messages that an older element does not know.
 *
 * Browser-safe: no Deno or Node APIs.
 */
import type { ServerMessage, ServerMessageType } from "./messages.ts";

type Kind = "string" | "number" | "boolean" | "object";

/** The fields each message type needs, for the types a reader accepts. */
export type MessageShapes = Partial<
  Record<ServerMessageType, Record<string, Kind>>
>;

const EITHER_ROLE = {
  "welcome": { clientId: "string", protocolVersion: "number" },
  "webrtc-ice-candidate": { viewerId: "string", candidate: "object" },
  "pong": {},
  "error": { code: "string", message: "string" },
} as const satisfies MessageShapes;

/**
 * What the server sends a viewer: each element's bundle holds its own
 * role's shapes only; another role's message is of an unknown type to it.
 */
export const VIEWER_MESSAGES = {
  ...EITHER_ROLE,
  // Only what the viewer uses is required (not `viewerId`: its own id
  // comes in `welcome`).
  "join-accepted": { streamId: "string", live: "boolean" },
  "broadcaster-joined": { streamId: "string" },
  "broadcaster-left": { streamId: "string" },
  // The seed server sent these without `streamId`.
  "webrtc-offer": { offer: "object" },
} as const satisfies MessageShapes;

/** What the server sends a broadcaster. */
export const BROADCASTER_MESSAGES = {
  ...EITHER_ROLE,
  "broadcaster-accepted": { streamId: "string", viewerCount: "number" },
  "viewer-joined": { viewerId: "string" },
  "viewer-left": { viewerId: "string" },
  "viewer-moved": { viewerId: "string" },
  "webrtc-answer": { viewerId: "string", answer: "object" },
  "sfu-publish": { streamId: "string" },
  "sfu-answer": { streamId: "string", answer: "object" },
  "sfu-layers": { rids: "object" },
} as const satisfies MessageShapes;

/** Every type, each in a role's table (the compiler asks where a new one goes). */
export const SERVER_MESSAGES = {
  ...VIEWER_MESSAGES,
  ...BROADCASTER_MESSAGES,
} satisfies Record<ServerMessageType, Record<string, Kind>>;

/** The message, or `undefined` for anything malformed or of an unknown type. */
export function parseServerMessage(text: string): ServerMessage | undefined {
  return parseMessageOf(text, SERVER_MESSAGES);
}

/** {@link parseServerMessage} for the types `shapes` names only. */
export function parseMessageOf(
  text: string,
  shapes: MessageShapes,
): ServerMessage | undefined {
  let record: Record<string, unknown> | null | undefined;
  try {
    record = JSON.parse(text);
  } catch {
    // Not JSON: no type below.
  }
  // Neither is there one on null, a number, a string or a boolean.
  const type = record?.type;
  if (typeof type !== "string" || !Object.hasOwn(shapes, type)) {
    return undefined;
  }
  for (
    const [field, kind] of Object.entries(shapes[type as ServerMessageType]!)
  ) {
    const actual = record![field];
    if (typeof actual !== kind || actual === null) return undefined;
  }
  return record as unknown as ServerMessage;
}
