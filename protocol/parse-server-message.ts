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

const REQUIRED: Record<ServerMessageType, Record<string, Kind>> = {
  "welcome": { clientId: "string", protocolVersion: "number" },
  "broadcaster-accepted": { streamId: "string", viewerCount: "number" },
  "join-accepted": { streamId: "string", viewerId: "string", live: "boolean" },
  "viewer-joined": { viewerId: "string" },
  "viewer-left": { viewerId: "string" },
  "viewer-moved": { viewerId: "string" },
  "broadcaster-joined": { streamId: "string" },
  "broadcaster-left": { streamId: "string" },
  // The seed server sent these without `streamId`; only what is used is required.
  "webrtc-offer": { viewerId: "string", offer: "object" },
  "webrtc-answer": { viewerId: "string", answer: "object" },
  "webrtc-ice-candidate": { viewerId: "string", candidate: "object" },
  "sfu-publish": { streamId: "string" },
  "sfu-answer": { streamId: "string", answer: "object" },
  "sfu-layers": { rids: "object" },
  "pong": {},
  "error": { code: "string", message: "string" },
};

/** The message, or `undefined` for anything malformed or of an unknown type. */
export function parseServerMessage(text: string): ServerMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const type = record.type;
  if (typeof type !== "string" || !Object.hasOwn(REQUIRED, type)) {
    return undefined;
  }
  for (
    const [field, kind] of Object.entries(REQUIRED[type as ServerMessageType])
  ) {
    const actual = record[field];
    if (typeof actual !== kind || actual === null) return undefined;
  }
  return value as ServerMessage;
}
