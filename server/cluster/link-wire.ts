/**
 * The bytes of a node link (node-link.ts): length-prefixed frames, each a
 * 4-byte big-endian length and that many bytes of UTF-8 text, written in
 * batches (every frame queued while the previous write was under way goes
 * in the next one) and read back from whatever chunks TCP delivers.
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

/** Bytes of one frame's length prefix. */
const PREFIX = 4;

/** A link's peer broke the framing or the handshake: the link is closed. */
export class LinkProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LinkProtocolError";
  }
}

/**
 * Frames waiting to be written, encoded as they are queued into one
 * growing buffer, taken out whole for one write.
 */
export class FrameWriter {
  #buffer = new Uint8Array(16 * 1024);
  #length = 0;
  #encoder = new TextEncoder();

  /** Bytes queued. */
  get size(): number {
    return this.#length;
  }

  /**
   * Queues `text` as one frame; returns its size on the wire, or 0 (nothing
   * queued) when its UTF-8 is longer than `max` bytes.
   */
  append(text: string, max = Infinity): number {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    this.#reserve(PREFIX + text.length * 3);
    const start = this.#length;
    const { written } = this.#encoder.encodeInto(
      text,
      this.#buffer.subarray(start + PREFIX),
    );
    if (written > max) return 0;
    new DataView(this.#buffer.buffer).setUint32(start, written);
    this.#length = start + PREFIX + written;
    return PREFIX + written;
  }

  /** Everything queued, as one chunk (a copy); the writer is empty after. */
  take(): Uint8Array {
    const chunk = this.#buffer.slice(0, this.#length);
    this.#length = 0;
    // A burst's large buffer is not kept for ever.
    if (this.#buffer.length > 1024 * 1024) {
      this.#buffer = new Uint8Array(16 * 1024);
    }
    return chunk;
  }

  #reserve(bytes: number): void {
    if (this.#length + bytes <= this.#buffer.length) return;
    let size = this.#buffer.length * 2;
    while (size < this.#length + bytes) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
  }
}

/**
 * Frames out of a byte stream: bytes are read into {@link space}, then
 * {@link frames} hands back each complete one. A frame longer than
 * `maxFrameBytes` is a protocol error (the limit both sides agree on).
 */
export class FrameReader {
  #buffer: Uint8Array;
  #start = 0;
  #end = 0;
  #max: number;
  #decoder = new TextDecoder("utf-8", { fatal: true });

  constructor(maxFrameBytes: number) {
    this.#max = maxFrameBytes;
    this.#buffer = new Uint8Array(64 * 1024);
  }

  /** Where the next read goes (at least 16 KiB, or what one frame needs). */
  space(): Uint8Array {
    const wanted = Math.max(16 * 1024, this.#needed());
    if (this.#buffer.length - this.#end < wanted) {
      const kept = this.#end - this.#start;
      const size = Math.max(this.#buffer.length, kept + wanted);
      if (size === this.#buffer.length) {
        this.#buffer.copyWithin(0, this.#start, this.#end);
      } else {
        const next = new Uint8Array(size);
        next.set(this.#buffer.subarray(this.#start, this.#end));
        this.#buffer = next;
      }
      this.#start = 0;
      this.#end = kept;
    }
    return this.#buffer.subarray(this.#end);
  }

  /** `count` bytes were read into the last {@link space}. */
  filled(count: number): void {
    this.#end += count;
  }

  /** Each complete frame read so far, decoded. */
  frames(): string[] {
    const out: string[] = [];
    const view = new DataView(this.#buffer.buffer);
    while (this.#end - this.#start >= PREFIX) {
      const length = view.getUint32(this.#start);
      if (length > this.#max) {
        throw new LinkProtocolError(
          `Frame of ${length} bytes, more than NODE_LINK_MAX_FRAME_BYTES (${this.#max})`,
        );
      }
      if (this.#end - this.#start < PREFIX + length) break;
      const from = this.#start + PREFIX;
      try {
        out.push(
          this.#decoder.decode(this.#buffer.subarray(from, from + length)),
        );
      } catch {
        throw new LinkProtocolError("Frame is not UTF-8");
      }
      this.#start = from + length;
    }
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return out;
  }

  /** Bytes still missing of the frame under way (0: none known). */
  #needed(): number {
    if (this.#end - this.#start < PREFIX) return PREFIX;
    const length = new DataView(this.#buffer.buffer).getUint32(this.#start);
    return Math.min(length, this.#max) + PREFIX - (this.#end - this.#start);
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
