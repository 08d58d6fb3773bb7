/**
 * Turns one untrusted WebSocket frame into a typed {@link ClientMessage} or a
 * typed error. The result is rebuilt from known fields only, so nothing the
 * sender smuggled in extra fields is ever forwarded to another client.
 *
 * Browser-safe: no Deno or Node APIs.
 */
import type { ErrorCode } from "./error-codes.ts";
import {
  type ClientMessage,
  type IceCandidate,
  type SessionDescription,
  STREAM_ID_PATTERN,
} from "./messages.ts";

/** Why a frame was refused, ready to send back as an `error` message. */
export interface ProtocolError {
  code: ErrorCode;
  message: string;
  inReplyTo?: string;
}

export type ParseResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; error: ProtocolError };

/** Longest client id, viewer id or nonce accepted; ids we issue are far shorter. */
export const MAX_ID_LENGTH = 128;
/** Longest token accepted: a stream JWT is a few hundred characters. */
export const MAX_TOKEN_LENGTH = 4096;

/** Parses a text frame: JSON first, then {@link validateClientMessage}. */
export function parseClientMessage(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return refuse("bad-json", "Message is not valid JSON");
  }
  return validateClientMessage(value);
}

/** Checks an already-parsed JSON value against the client message union. */
export function validateClientMessage(value: unknown): ParseResult {
  if (!isRecord(value)) {
    return refuse("bad-message", "Message must be a JSON object");
  }
  const type = value.type;
  if (typeof type !== "string") {
    return refuse("bad-message", "Message needs a string field `type`");
  }
  const fields = new FieldReader(value, type);
  let message: ClientMessage;
  switch (type) {
    case "broadcaster-ready":
    case "join-stream":
      message = { type, streamId: fields.streamId(), token: fields.token() };
      break;
    case "leave-stream":
      message = { type, streamId: fields.streamId() };
      break;
    case "webrtc-offer":
      message = {
        type,
        streamId: fields.streamId(),
        viewerId: fields.optionalId("viewerId"),
        offer: fields.description("offer", "offer"),
      };
      break;
    case "webrtc-answer":
      message = {
        type,
        streamId: fields.streamId(),
        viewerId: fields.optionalId("viewerId"),
        answer: fields.description("answer", "answer"),
      };
      break;
    case "webrtc-ice-candidate":
      message = {
        type,
        streamId: fields.streamId(),
        viewerId: fields.optionalId("viewerId"),
        candidate: fields.candidate("candidate"),
      };
      break;
    case "ping":
      message = { type, nonce: fields.nonce("nonce") };
      break;
    default:
      return refuse(
        "unknown-type",
        `Unknown message type ${JSON.stringify(type.slice(0, 64))}`,
      );
  }
  if (fields.error) return { ok: false, error: fields.error };
  return { ok: true, message: dropUndefined(message) };
}

/** Reads typed fields, keeping the first problem; later reads return dummies. */
class FieldReader {
  error: ProtocolError | undefined;
  #record: Record<string, unknown>;
  #type: string;

  constructor(record: Record<string, unknown>, type: string) {
    this.#record = record;
    this.#type = type;
  }

  streamId(): string {
    const value = this.#record.streamId;
    if (typeof value !== "string") {
      return this.#fail("invalid-field", "`streamId` must be a string", "");
    }
    if (!STREAM_ID_PATTERN.test(value)) {
      return this.#fail(
        "invalid-stream-id",
        "`streamId` must be 1-128 characters of A-Z a-z 0-9 . _ : -",
        "",
      );
    }
    return value;
  }

  optionalId(name: string): string | undefined {
    const value = this.#record[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string" || value.length > MAX_ID_LENGTH) {
      return this.#fail(
        "invalid-field",
        `\`${name}\` must be a string of at most ${MAX_ID_LENGTH} characters`,
        undefined,
      );
    }
    return value;
  }

  description<T extends "offer" | "answer">(
    name: string,
    kind: T,
  ): SessionDescription<T> {
    const value = this.#record[name];
    const dummy = { type: kind, sdp: "" };
    if (!isRecord(value)) {
      return this.#fail(
        "invalid-field",
        `\`${name}\` must be an object`,
        dummy,
      );
    }
    if (value.type !== kind) {
      return this.#fail(
        "invalid-field",
        `\`${name}.type\` must be "${kind}"`,
        dummy,
      );
    }
    if (typeof value.sdp !== "string") {
      return this.#fail(
        "invalid-field",
        `\`${name}.sdp\` must be a string`,
        dummy,
      );
    }
    return { type: kind, sdp: value.sdp };
  }

  candidate(name: string): IceCandidate {
    const value = this.#record[name];
    const dummy = { candidate: "" };
    if (!isRecord(value)) {
      return this.#fail(
        "invalid-field",
        `\`${name}\` must be an object`,
        dummy,
      );
    }
    const { candidate, sdpMid, sdpMLineIndex, usernameFragment } = value;
    if (typeof candidate !== "string") {
      return this.#fail(
        "invalid-field",
        `\`${name}.candidate\` must be a string`,
        dummy,
      );
    }
    if (!isOptional(sdpMid, isString)) {
      return this.#fail(
        "invalid-field",
        `\`${name}.sdpMid\` must be a string or null`,
        dummy,
      );
    }
    if (!isOptional(sdpMLineIndex, isIndex)) {
      return this.#fail(
        "invalid-field",
        `\`${name}.sdpMLineIndex\` must be a non-negative integer or null`,
        dummy,
      );
    }
    if (!isOptional(usernameFragment, isString)) {
      return this.#fail(
        "invalid-field",
        `\`${name}.usernameFragment\` must be a string or null`,
        dummy,
      );
    }
    return dropUndefined({
      candidate,
      sdpMid: sdpMid as string | null | undefined,
      sdpMLineIndex: sdpMLineIndex as number | null | undefined,
      usernameFragment: usernameFragment as string | null | undefined,
    });
  }

  token(): string | undefined {
    const value = this.#record.token;
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string" || value.length > MAX_TOKEN_LENGTH) {
      return this.#fail(
        "invalid-field",
        `\`token\` must be a string of at most ${MAX_TOKEN_LENGTH} characters`,
        undefined,
      );
    }
    return value;
  }

  nonce(name: string): string | number | undefined {
    const value = this.#record[name];
    if (value === undefined) return undefined;
    if (
      (typeof value === "string" && value.length <= MAX_ID_LENGTH) ||
      (typeof value === "number" && Number.isFinite(value))
    ) {
      return value;
    }
    return this.#fail(
      "invalid-field",
      `\`${name}\` must be a finite number or a string of at most ${MAX_ID_LENGTH} characters`,
      undefined,
    );
  }

  #fail<T>(code: ErrorCode, message: string, dummy: T): T {
    this.error ??= { code, message, inReplyTo: this.#type };
    return dummy;
  }
}

function refuse(code: ErrorCode, message: string): ParseResult {
  return { ok: false, error: { code, message } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}

function isIndex(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isOptional(value: unknown, check: (v: unknown) => boolean): boolean {
  return value === undefined || value === null || check(value);
}

/** Optional fields that were absent stay absent on the way out. */
function dropUndefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (value[key] === undefined) delete value[key];
  }
  return value;
}
