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
  MAX_LOSS_PACKETS,
  MAX_NEGOTIATION_REASON_LENGTH,
  NEGOTIATION_STAGES,
  type NegotiationStage,
  type SessionDescription,
} from "./messages.ts";
import {
  DEFAULT_SDP_LIMITS,
  sdpLimitProblem,
  type SdpLimits,
} from "./sdp-check.ts";

/** Why a frame was refused, ready to send back as an `error` message. */
export interface ProtocolError {
  code: ErrorCode;
  message: string;
  inReplyTo?: string;
  /** The stream a refused announce or join named (see ErrorMessage). */
  streamId?: string;
}

export type ParseResult =
  | {
    ok: true;
    message: ClientMessage;
    /**
     * True when the frame held exactly the fields of `message`, at every
     * level: then the frame's own text is the same JSON value as `message`,
     * and a relay may forward it instead of serializing `message` again.
     */
    exact: boolean;
  }
  | { ok: false; error: ProtocolError };

/** Longest client id, viewer id or nonce accepted; ids we issue are far shorter. */
export const MAX_ID_LENGTH = 128;
/** Longest token accepted: a stream JWT is a few hundred characters. */
export const MAX_TOKEN_LENGTH = 4096;

/**
 * Parses a text frame: JSON first, then {@link validateClientMessage}
 * (offers and answers within `sdpLimits`).
 */
export function parseClientMessage(
  text: string,
  sdpLimits: SdpLimits = DEFAULT_SDP_LIMITS,
): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return refuse("bad-json", "Message is not valid JSON");
  }
  return validateClientMessage(value, sdpLimits);
}

/** Checks an already-parsed JSON value against the client message union. */
export function validateClientMessage(
  value: unknown,
  sdpLimits: SdpLimits = DEFAULT_SDP_LIMITS,
): ParseResult {
  if (!isRecord(value)) {
    return refuse("bad-message", "Message must be a JSON object");
  }
  const type = value.type;
  if (typeof type !== "string") {
    return refuse("bad-message", "Message needs a string field `type`");
  }
  const fields = new FieldReader(value, type, sdpLimits);
  let message: ClientMessage;
  switch (type) {
    case "broadcaster-ready":
      message = withOptional(
        withOptional(
          { type, streamId: fields.streamId() },
          "token",
          fields.token(),
        ),
        "e2ee",
        fields.onlyTrue("e2ee"),
      );
      break;
    case "join-stream":
      message = withOptional(
        withOptional(
          withOptional(
            { type, streamId: fields.streamId() },
            "token",
            fields.token(),
          ),
          "session",
          fields.session(),
        ),
        "restart",
        fields.flag("restart"),
      );
      message = withOptional(message, "keyFrame", fields.flag("keyFrame"));
      message = withOptional(message, "overlap", fields.flag("overlap"));
      message = withOptional(message, "e2ee", fields.onlyTrue("e2ee"));
      break;
    case "leave-stream":
      message = { type, streamId: fields.streamId() };
      break;
    case "webrtc-offer": {
      const streamId = fields.streamId();
      const viewerId = fields.optionalId("viewerId");
      const offer = fields.description("offer", "offer");
      message = viewerId === undefined
        ? { type, streamId, offer }
        : { type, streamId, viewerId, offer };
      break;
    }
    case "webrtc-answer": {
      const streamId = fields.streamId();
      const viewerId = fields.optionalId("viewerId");
      const answer = fields.description("answer", "answer");
      message = viewerId === undefined
        ? { type, streamId, answer }
        : { type, streamId, viewerId, answer };
      break;
    }
    case "webrtc-ice-candidate": {
      const streamId = fields.streamId();
      const viewerId = fields.optionalId("viewerId");
      const candidate = fields.candidate("candidate");
      message = viewerId === undefined
        ? { type, streamId, candidate }
        : { type, streamId, viewerId, candidate };
      break;
    }
    case "sfu-offer":
      message = {
        type,
        streamId: fields.streamId(),
        offer: fields.description("offer", "offer"),
      };
      break;
    case "sfu-ice-candidate":
      message = {
        type,
        streamId: fields.streamId(),
        candidate: fields.candidate("candidate"),
      };
      break;
    case "viewer-playing":
      message = {
        type,
        streamId: fields.streamId(),
        session: fields.session() ?? fields.missing("session", ""),
      };
      break;
    case "viewer-loss":
      message = {
        type,
        streamId: fields.streamId(),
        lost: fields.packets("lost"),
        received: fields.packets("received"),
      };
      break;
    case "negotiation-failed":
      message = withOptional(
        {
          type,
          streamId: fields.streamId(),
          stage: fields.stage(),
          reason: fields.reason(),
        },
        "viewerId",
        fields.optionalId("viewerId"),
      );
      break;
    case "ping":
      message = withOptional({ type }, "nonce", fields.nonce("nonce"));
      break;
    default:
      return refuse(
        "unknown-type",
        `Unknown message type ${JSON.stringify(type.slice(0, 64))}`,
      );
  }
  if (fields.error) return { ok: false, error: fields.error };
  return { ok: true, message, exact: sameShape(value, message) };
}

/** Reads typed fields, keeping the first problem; later reads return dummies. */
class FieldReader {
  error: ProtocolError | undefined;
  #record: Record<string, unknown>;
  #type: string;
  #sdpLimits: SdpLimits;

  constructor(
    record: Record<string, unknown>,
    type: string,
    sdpLimits: SdpLimits,
  ) {
    this.#sdpLimits = sdpLimits;
    this.#record = record;
    this.#type = type;
  }

  streamId(): string {
    const value = this.#record.streamId;
    if (typeof value !== "string") {
      return this.#fail("invalid-field", "`streamId` must be a string", "");
    }
    if (!isStreamId(value)) {
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
    const tooLarge = sdpLimitProblem(value.sdp, this.#sdpLimits);
    if (tooLarge) return this.#fail("bad-sdp", tooLarge, dummy);
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
    const result: IceCandidate = { candidate };
    if (sdpMid !== undefined) result.sdpMid = sdpMid as string | null;
    if (sdpMLineIndex !== undefined) {
      result.sdpMLineIndex = sdpMLineIndex as number | null;
    }
    if (usernameFragment !== undefined) {
      result.usernameFragment = usernameFragment as string | null;
    }
    return result;
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

  /** An SDP `o=` session id: 1-64 letters and digits (browsers use digits). */
  session(): string | undefined {
    const value = this.#record.session;
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string" || !/^[0-9A-Za-z]{1,64}$/.test(value)) {
      return this.#fail(
        "invalid-field",
        "`session` must be 1-64 letters and digits (an SDP session id)",
        undefined,
      );
    }
    return value;
  }

  /** One of {@link NEGOTIATION_STAGES}. */
  stage(): NegotiationStage {
    const value = this.#record.stage;
    if (!(NEGOTIATION_STAGES as readonly unknown[]).includes(value)) {
      return this.#fail(
        "invalid-field",
        `\`stage\` must be one of ${NEGOTIATION_STAGES.join(", ")}`,
        NEGOTIATION_STAGES[0],
      );
    }
    return value as NegotiationStage;
  }

  /** A browser's error text: a string of at most MAX_NEGOTIATION_REASON_LENGTH characters. */
  reason(): string {
    const value = this.#record.reason;
    if (
      typeof value !== "string" ||
      value.length > MAX_NEGOTIATION_REASON_LENGTH
    ) {
      return this.#fail(
        "invalid-field",
        `\`reason\` must be a string of at most ${MAX_NEGOTIATION_REASON_LENGTH} characters`,
        "",
      );
    }
    return value;
  }

  /** A required field that is absent. */
  missing<T>(name: string, dummy: T): T {
    return this.#fail("invalid-field", `\`${name}\` is required`, dummy);
  }

  /** An optional boolean; only `true` is kept (absent means false). */
  flag(name: string): true | undefined {
    const value = this.#record[name];
    if (value === undefined || value === null || value === false) {
      return undefined;
    }
    if (value !== true) {
      return this.#fail(
        "invalid-field",
        `\`${name}\` must be a boolean`,
        undefined,
      );
    }
    return true;
  }

  /**
   * A field that is `true` or absent. Unlike {@link flag}, `false` and
   * `null` are refused: a client that means "not encrypted" leaves `e2ee`
   * out, and one that sends something else has a bug worth hearing about
   * rather than a stream silently treated as clear.
   */
  onlyTrue(name: string): true | undefined {
    const value = this.#record[name];
    if (value === undefined) return undefined;
    if (value !== true) {
      return this.#fail(
        "invalid-field",
        `\`${name}\` must be true or absent`,
        undefined,
      );
    }
    return true;
  }

  /** A packet count: an integer from 0 to {@link MAX_LOSS_PACKETS}. */
  packets(name: string): number {
    const value = this.#record[name];
    if (isIndex(value) && value <= MAX_LOSS_PACKETS) return value;
    return this.#fail(
      "invalid-field",
      `\`${name}\` must be an integer from 0 to ${MAX_LOSS_PACKETS}`,
      0,
    );
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

/**
 * Whether `raw` has no field that `message` dropped, one level deep. Runs on
 * every routed frame, so it counts keys without building arrays.
 */
function sameShape(raw: Record<string, unknown>, message: object): boolean {
  const built = message as Record<string, unknown>;
  if (keyCount(raw) !== keyCount(built)) return false;
  for (const key in built) {
    const value = built[key];
    if (
      typeof value === "object" && value !== null &&
      keyCount(raw[key] as Record<string, unknown>) !== keyCount(value)
    ) return false;
  }
  return true;
}

/** Own keys of an object from JSON.parse or a literal (no inherited enumerables). */
function keyCount(value: object): number {
  let count = 0;
  for (const _ in value) count++;
  return count;
}

/**
 * `STREAM_ID_PATTERN` (messages.ts) as a loop: it runs on every frame, and
 * calling into the regexp engine costs more than the check itself. A property
 * test holds the two equal.
 */
export function isStreamId(value: string): boolean {
  if (value.length === 0 || value.length > 128) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const ok = (c >= 97 && c <= 122) || // a-z
      (c >= 65 && c <= 90) || // A-Z
      (c >= 48 && c <= 58) || // 0-9 and ":"
      c === 46 || c === 95 || c === 45; // . _ -
    if (!ok) return false;
  }
  return true;
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

/**
 * Adds `key` only when there is a value: absent fields stay absent on the way
 * out, without `delete`, which would slow every later use of the object.
 */
function withOptional<T extends object, K extends string, V>(
  base: T,
  key: K,
  value: V | undefined,
): T {
  if (value !== undefined) (base as Record<string, unknown>)[key] = value;
  return base;
}
