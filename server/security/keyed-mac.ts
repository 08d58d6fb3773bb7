/**
 * HMAC-SHA256 (RFC 2104) for many short messages under one key, as resume
 * claims are signed: the key's inner and outer states are computed once,
 * and each MAC runs the message's blocks and one outer block from them in
 * buffers kept for the purpose, allocating nothing but the result. The
 * compression is @noble/hashes' own (audited); only HMAC's padding and the
 * reuse are done here. Tests hold it equal to node:crypto's `createHmac`.
 *
 * Cloning noble's keyed HMAC per message, as before, cost ~7 µs a claim in
 * the signaling benchmark (two hash objects, their buffers and views, a
 * BigInt per digest, a Buffer for base64url): ~10% of the server's own work
 * in a burst of joins (bench/RESULTS.md, issue 24).
 */
import { _SHA256 } from "@noble/hashes/sha2.js";

/** Longest message accepted, in bytes: resume claims are far shorter. */
export const MAX_MAC_MESSAGE_BYTES = 512;

const BLOCK = 64;
const encoder = new TextEncoder();
const BASE64URL =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

type State = [number, number, number, number, number, number, number, number];

/** noble's SHA-256 compression, run from a given state over whole blocks. */
class Compression extends _SHA256 {
  /** The state after `length` bytes of `view` (whole blocks) from `from`. */
  run(from: State, view: DataView, length: number): State {
    this.set(...from);
    for (let offset = 0; offset < length; offset += BLOCK) {
      this.process(view, offset);
    }
    this.roundClean();
    return this.get();
  }

  initial(): State {
    return this.get();
  }
}

export class KeyedMac {
  #compression = new Compression();
  /** States after the key's inner and outer pad blocks. */
  #inner: State;
  #outer: State;
  /** The message and its padding; the inner hash and its padding. */
  #message = new Uint8Array(
    Math.ceil((MAX_MAC_MESSAGE_BYTES + 9) / BLOCK) * BLOCK,
  );
  #messageView = new DataView(this.#message.buffer);
  #outerBlock = new Uint8Array(BLOCK);
  #outerView = new DataView(this.#outerBlock.buffer);
  #chars = new Array<number>(43);

  constructor(key: Uint8Array) {
    const compression = this.#compression;
    const pad = new Uint8Array(BLOCK);
    pad.set(
      key.length > BLOCK ? new Compression().update(key).digest() : key,
    );
    const iv = compression.initial();
    const view = new DataView(pad.buffer);
    for (let i = 0; i < BLOCK; i++) pad[i] ^= 0x36;
    this.#inner = compression.run(iv, view, BLOCK);
    for (let i = 0; i < BLOCK; i++) pad[i] ^= 0x36 ^ 0x5c;
    this.#outer = compression.run(iv, view, BLOCK);
    pad.fill(0);
    // The outer message is always the 32-byte inner hash: its padding and
    // length (the pad block and 32 bytes, in bits) never change.
    this.#outerBlock[32] = 0x80;
    this.#outerView.setUint32(BLOCK - 4, (BLOCK + 32) * 8);
  }

  /** HMAC-SHA256 of `message` (UTF-8), base64url without padding (43 characters). */
  sign(message: string): string {
    const bytes = this.#message;
    let length = message.length;
    let ascii = length <= MAX_MAC_MESSAGE_BYTES;
    for (let i = 0; ascii && i < length; i++) {
      const unit = message.charCodeAt(i);
      if (unit > 0x7f) ascii = false;
      else bytes[i] = unit;
    }
    if (!ascii) length = this.#encode(message);
    // Padding: 0x80, zeros, the length in bits of the pad block and message.
    const end = Math.ceil((length + 9) / BLOCK) * BLOCK;
    bytes[length] = 0x80;
    bytes.fill(0, length + 1, end - 4);
    this.#messageView.setUint32(end - 4, (BLOCK + length) * 8);
    const inner = this.#compression.run(this.#inner, this.#messageView, end);
    const outerView = this.#outerView;
    for (let i = 0; i < 8; i++) outerView.setUint32(i * 4, inner[i]);
    return this.#base64url(
      this.#compression.run(this.#outer, outerView, BLOCK),
    );
  }

  /** `message` as UTF-8 into the buffer; its length in bytes. */
  #encode(message: string): number {
    const { read, written } = encoder.encodeInto(
      message,
      this.#message.subarray(0, MAX_MAC_MESSAGE_BYTES),
    );
    if (read !== message.length) {
      throw new RangeError(
        `A MAC's message has at most ${MAX_MAC_MESSAGE_BYTES} bytes`,
      );
    }
    return written;
  }

  /** The 32 bytes of `words` (big-endian), base64url without padding. */
  #base64url(words: State): string {
    const chars = this.#chars;
    let c = 0;
    // 32 bytes: ten groups of three, then two bytes (three characters).
    let carry = 0;
    let bits = 0;
    for (let i = 0; i < 8; i++) {
      const word = words[i];
      for (let shift = 24; shift >= 0; shift -= 8) {
        carry = (carry << 8) | ((word >>> shift) & 0xff);
        bits += 8;
        while (bits >= 6) {
          bits -= 6;
          chars[c++] = BASE64URL.charCodeAt((carry >>> bits) & 0x3f);
        }
        carry &= (1 << bits) - 1;
      }
    }
    chars[c] = BASE64URL.charCodeAt((carry << (6 - bits)) & 0x3f);
    return String.fromCharCode.apply(null, chars);
  }
}
