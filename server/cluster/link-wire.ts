/**
 * The bytes of a node link (node-link.ts): UTF-8 text, a sequence of
 * frames `<length>:<text>`, the length counted in characters as JavaScript
 * counts them (UTF-16 units), so that a batch of frames (every frame queued
 * while the previous write was under way) is encoded once, and what one
 * read brings is decoded once, however many frames it holds.
 *
 * A frame's text starts with its kind and a space. The side that opened the
 * connection sends:
 *
 * - `T <seq> <to> <text>`  a server message for client `to` (as pub/sub did)
 * - `L <seq> <to> <stream> <viewer> <text>`  the same, and viewer `viewer`
 *   of `stream` is on the sending node (a `viewer-joined`)
 * - `E <seq> <json>`  an eviction (see delivery.ts)
 * - `R <seq> <from> <b|v> <stream> <target> <text>`  a frame routed from a
 *   cached route: delivered only if `target` holds the other role in
 *   `stream` on the receiving node, else sent back as a miss
 * - `P <id>`  a probe: answered once every frame before it is handled
 *
 * and the side that accepted it answers `M <from> <b|v> <stream> <target>
 * <text>` (a miss) and `A <id>` (a probe answered). `seq` counts up per
 * sending node and receiving node over both transports (link and pub/sub),
 * so a frame that arrives after a later one is dropped, never reordered.
 */

/** A link's peer broke the framing or the handshake: the link is closed. */
export class LinkProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LinkProtocolError";
  }
}

/** Digits a length prefix may have (a frame is under 10^10 characters). */
const MAX_PREFIX = 10;

/**
 * Frames waiting to be written, as one string, encoded to UTF-8 once per
 * write (one encode for a batch, not one per frame).
 */
export class FrameWriter {
  #pending = "";
  #encoder = new TextEncoder();

  /** Characters queued. */
  get size(): number {
    return this.#pending.length;
  }

  /**
   * Queues `text` as one frame; returns its size in characters with its
   * prefix, or 0 (nothing queued) when it is longer than `max` characters.
   */
  append(text: string, max = Infinity): number {
    if (text.length > max) return 0;
    const frame = `${text.length}:${text}`;
    this.#pending += frame;
    return frame.length;
  }

  /** Everything queued, as UTF-8; the writer is empty after. */
  take(): Uint8Array {
    const bytes = this.#encoder.encode(this.#pending);
    this.#pending = "";
    return bytes;
  }
}

/**
 * Frames out of a byte stream: bytes are read into {@link space}, decoded
 * as UTF-8 as they come (a character split between reads is kept for the
 * next), and {@link frames} hands back each complete frame. One decode per
 * read, however many frames it holds. A frame longer than `maxFrame`
 * characters is a protocol error (the limit both sides agree on).
 */
export class FrameReader {
  #bytes = new Uint8Array(64 * 1024);
  #text = "";
  #max: number;
  #decoder = new TextDecoder("utf-8", { fatal: true });

  constructor(maxFrame: number) {
    this.#max = maxFrame;
  }

  /** Where the next read goes. */
  space(): Uint8Array {
    return this.#bytes;
  }

  /** `count` bytes were read into {@link space}. */
  filled(count: number): void {
    try {
      this.#text += this.#decoder.decode(this.#bytes.subarray(0, count), {
        stream: true,
      });
    } catch {
      throw new LinkProtocolError("Not UTF-8");
    }
  }

  /** Each complete frame read so far. */
  frames(): string[] {
    const out: string[] = [];
    const text = this.#text;
    let at = 0;
    for (;;) {
      const colon = text.indexOf(":", at);
      if (colon < 0) {
        if (text.length - at > MAX_PREFIX) {
          throw new LinkProtocolError("No frame length");
        }
        break;
      }
      const length = colon - at <= MAX_PREFIX
        ? Number(text.slice(at, colon))
        : NaN;
      if (!Number.isSafeInteger(length) || length < 0) {
        throw new LinkProtocolError("Bad frame length");
      }
      if (length > this.#max) {
        throw new LinkProtocolError(
          `Frame of ${length} characters, more than NODE_LINK_MAX_FRAME_BYTES (${this.#max})`,
        );
      }
      if (text.length < colon + 1 + length) break;
      out.push(text.slice(colon + 1, colon + 1 + length));
      at = colon + 1 + length;
    }
    if (at > 0) this.#text = text.slice(at);
    return out;
  }
}

/**
 * Splits `count` space-separated fields off the front of `text`; the rest
 * (which may hold spaces) is the last item. Undefined when there are fewer.
 */
export function fields(text: string, count: number): string[] | undefined {
  const out: string[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const space = text.indexOf(" ", at);
    if (space < 0) return undefined;
    out.push(text.slice(at, space));
    at = space + 1;
  }
  out.push(text.slice(at));
  return out;
}

/** HMAC-SHA-256 of `parts` joined by `|`, hex: the handshake's proofs. */
export async function proof(
  key: CryptoKey,
  ...parts: string[]
): Promise<string> {
  const mac = await crypto.subtle.sign(
    "HMAC",
    key,
    new TextEncoder().encode(parts.join("|")),
  );
  return hex(new Uint8Array(mac));
}

/** The HMAC key of a cluster secret (CLUSTER_SECRET, or the one in Redis). */
export function linkKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(`live-widgets node link\n${secret}`),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

/** `bytes` random bytes, hex. */
export function randomHex(bytes: number): string {
  return hex(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** Whether two hex proofs are equal, in time that does not depend on where they differ. */
export function sameProof(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Writes all of `chunk` (a write may take part of it). */
export async function writeAll(
  conn: Deno.TcpConn,
  chunk: Uint8Array,
): Promise<void> {
  let at = 0;
  while (at < chunk.length) at += await conn.write(chunk.subarray(at));
}
