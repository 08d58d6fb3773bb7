/**
 * SFrame (RFC 9605): per-frame authenticated encryption with a key id (KID)
 * and a counter (CTR), for end-to-end encrypted media through the SFU.
 *
 * Browser-safe and dependency-free (only `crypto.subtle`), so it can run in
 * the `RTCRtpScriptTransform` worker (frame-crypto.ts).
 *
 * Wire format of one protected frame:
 *
 *     clear prefix (metadata) || SFrame header || AEAD ciphertext || tag
 *
 * - Header (RFC 9605 §4.3): config byte `X|KKK|Y|CCC`; a KID or CTR of 0-7
 *   sits in K or C with its flag 0, larger values follow the config byte
 *   big-endian in the fewest bytes (KID first), the 3-bit field then holding
 *   length - 1. Values are at most 64 bits.
 * - Key schedule (§4.4.2): HKDF-SHA256 with an empty salt over `base_key`,
 *   info "SFrame 1.0 Secret key " / "SFrame 1.0 Secret salt " + KID as 8
 *   bytes big-endian + cipher suite as 2 bytes big-endian.
 * - Nonce (§4.4.3): `sframe_salt` XOR CTR as a 12-byte big-endian integer.
 * - AAD: the SFrame header followed by the application metadata, which here
 *   is the frame's clear prefix (the bytes the SFU and the RTP packetizer
 *   must read, see clear-prefix.ts). The prefix travels in front of the
 *   header, so a forwarder finds the codec bytes where it expects them.
 *
 * Cipher suites: only AES_128_GCM_SHA256_128 (0x0004). AES-GCM is native in
 * WebCrypto in every browser and in Deno, one call encrypts and
 * authenticates. The AES_128_CTR_HMAC_SHA256_* suites would need two
 * primitives, sub-key derivation and tag truncation by hand for a shorter tag
 * the media path does not need; AES_256_GCM_SHA512_128 would be a small
 * extension (other Nk/hash) if a policy ever asks for 256-bit keys.
 *
 * Counters (§4.4.1, §7.2): each encryption KID has its own counter, reserved
 * synchronously before the cipher runs so concurrent `encrypt` calls never
 * share one. A counter never restarts for a KID within one context, even if
 * the key is replaced; past 2^64 - 1 `encrypt` throws. Across contexts (a
 * reloaded page, a second tab) the counter cannot be remembered: a sender
 * must use a KID no earlier context used with the same base key (or start at
 * an unused `firstCounter`), or GCM nonces repeat.
 *
 * Decryption never throws on untrusted bytes: it returns a typed error.
 * Anti-replay (optional in the RFC, §9.4) is a sliding window per KID like
 * SRTP's (RFC 3711 §3.3.2), updated only after a frame authenticates: a
 * counter seen is `replayed`, one older than the window `stale`.
 *
 * @module
 */

/** The one implemented cipher suite, AES_128_GCM_SHA256_128 (RFC 9605 §4.5). */
export const AES_128_GCM_SHA256_128 = 0x0004;

const NK = 16; // AES-128 key bytes
const NN = 12; // nonce bytes
const NT = 16; // GCM tag bytes
const MAX_U64 = (1n << 64n) - 1n;
const KEY_LABEL = "SFrame 1.0 Secret key ";
const SALT_LABEL = "SFrame 1.0 Secret salt ";

/** A KID and CTR as read from or written into an SFrame header. */
export interface SFrameHeader {
  /** Key id, 0 to 2^64 - 1. */
  kid: bigint;
  /** Counter, 0 to 2^64 - 1. */
  ctr: bigint;
}

/** Why a frame did not decrypt. */
export type DecryptError =
  | "unknown-key"
  | "auth-failed"
  | "malformed"
  | "replayed"
  | "stale";

/** What `decrypt` returns: the frame (clear prefix + plaintext) or a reason. */
export type DecryptResult =
  | { frame: Uint8Array; kid: bigint; ctr: bigint }
  | { error: DecryptError };

/** A base key: raw bytes, or a WebCrypto HKDF key with `deriveBits` usage. */
export type BaseKey = CryptoKey | Uint8Array;

function toU64(value: bigint | number, what: string): bigint {
  const big = typeof value === "number" ? BigInt(value) : value;
  if (big < 0n || big > MAX_U64) {
    throw new RangeError(`${what} out of range 0..2^64-1: ${big}`);
  }
  return big;
}

/** Bytes needed for the minimal big-endian encoding of `value` (>= 1). */
function byteLength(value: bigint): number {
  let n = 1;
  while (value > 0xffn) {
    value >>= 8n;
    n++;
  }
  return n;
}

function writeBigEndian(out: Uint8Array, at: number, n: number, v: bigint) {
  for (let i = n - 1; i >= 0; i--) {
    out[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** Encodes an SFrame header (RFC 9605 §4.3) for `kid` and `ctr`. */
export function encodeHeader(kid: bigint | number, ctr: bigint | number) {
  const k = toU64(kid, "KID");
  const c = toU64(ctr, "CTR");
  const klen = k < 8n ? 0 : byteLength(k);
  const clen = c < 8n ? 0 : byteLength(c);
  const out = new Uint8Array(1 + klen + clen);
  const kBits = klen === 0 ? Number(k) : 0x8 | (klen - 1);
  const cBits = clen === 0 ? Number(c) : 0x8 | (clen - 1);
  out[0] = (kBits << 4) | cBits;
  if (klen) writeBigEndian(out, 1, klen, k);
  if (clen) writeBigEndian(out, 1 + klen, clen, c);
  return out;
}

/**
 * Decodes the SFrame header at `offset` of `data`. Returns undefined if the
 * bytes are too short or a value is not minimally encoded (an honest sender
 * never writes that; rejecting it keeps one header per (KID, CTR)).
 */
export function decodeHeader(
  data: Uint8Array,
  offset = 0,
): (SFrameHeader & { length: number }) | undefined {
  if (offset < 0 || offset >= data.length) return undefined;
  const config = data[offset];
  let at = offset + 1;
  const field = (bits: number): bigint | undefined => {
    if ((bits & 0x8) === 0) return BigInt(bits);
    const n = (bits & 0x7) + 1;
    if (at + n > data.length) return undefined;
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(data[at + i]);
    at += n;
    if (v < 8n || byteLength(v) !== n) return undefined;
    return v;
  };
  const kid = field(config >> 4);
  if (kid === undefined) return undefined;
  const ctr = field(config & 0xf);
  if (ctr === undefined) return undefined;
  return { kid, ctr, length: at - offset };
}

function label(prefix: string, kid: bigint): Uint8Array {
  const text = new TextEncoder().encode(prefix);
  const out = new Uint8Array(text.length + 10);
  out.set(text);
  writeBigEndian(out, text.length, 8, kid);
  writeBigEndian(out, text.length + 8, 2, BigInt(AES_128_GCM_SHA256_128));
  return out;
}

/** Derived per-KID material: the AES key and the nonce salt. */
export interface KeySalt {
  /** `sframe_key` as a non-extractable AES-GCM key. */
  key: CryptoKey;
  /** `sframe_salt`, AEAD.Nn bytes. */
  salt: Uint8Array;
}

/**
 * The RFC 9605 §4.4.2 key schedule: `sframe_key` and `sframe_salt` from the
 * base key and KID. `extractable` is for tests that compare the key bytes.
 */
export async function deriveKeySalt(
  baseKey: BaseKey,
  kid: bigint | number,
  extractable = false,
): Promise<KeySalt> {
  const k = toU64(kid, "KID");
  const hkdf = baseKey instanceof Uint8Array
    ? await crypto.subtle.importKey(
      "raw",
      baseKey as Uint8Array<ArrayBuffer>,
      "HKDF",
      false,
      ["deriveBits"],
    )
    : baseKey;
  // HKDF-Extract with an empty salt equals the RFC 5869 default of HashLen
  // zero bytes (HMAC pads its key with zeros), which is what the RFC means.
  const bits = (info: Uint8Array, bytes: number) =>
    crypto.subtle.deriveBits(
      {
        name: "HKDF",
        hash: "SHA-256",
        salt: new Uint8Array(0),
        info: info as Uint8Array<ArrayBuffer>,
      },
      hkdf,
      bytes * 8,
    );
  const [keyBits, saltBits] = await Promise.all([
    bits(label(KEY_LABEL, k), NK),
    bits(label(SALT_LABEL, k), NN),
  ]);
  const key = await crypto.subtle.importKey(
    "raw",
    keyBits,
    "AES-GCM",
    extractable,
    ["encrypt", "decrypt"],
  );
  return { key, salt: new Uint8Array(saltBits) };
}

/** `sframe_salt` XOR CTR, the CTR as a 12-byte big-endian integer. */
export function nonceFor(salt: Uint8Array, ctr: bigint): Uint8Array {
  const nonce = new Uint8Array(NN);
  writeBigEndian(nonce, 0, NN, ctr);
  for (let i = 0; i < NN; i++) nonce[i] ^= salt[i];
  return nonce;
}

/**
 * Per-KID anti-replay: the highest CTR seen and, for the `size` counters up
 * to it, whether each was accepted (bit `ctr % size` of a ring).
 */
class ReplayWindow {
  #highest: bigint | undefined;
  #bits: Uint32Array;
  readonly #size: bigint;
  constructor(readonly size: number) {
    this.#size = BigInt(size);
    this.#bits = new Uint32Array(Math.ceil(size / 32));
  }

  /** Whether `ctr` is new, was seen, or is older than the window. */
  check(ctr: bigint): "fresh" | "replayed" | "stale" {
    if (this.size === 0 || this.#highest === undefined) return "fresh";
    if (ctr > this.#highest) return "fresh";
    if (this.#highest - ctr >= this.#size) return "stale";
    const at = Number(ctr % this.#size);
    return this.#bits[at >>> 5] & (1 << (at & 31)) ? "replayed" : "fresh";
  }

  /** Records an authenticated `ctr`. */
  accept(ctr: bigint) {
    if (this.size === 0) return;
    const highest = this.#highest;
    if (highest === undefined || ctr > highest) {
      // The counters passed over are not seen (yet).
      const skipped = highest === undefined ? this.#size : ctr - highest;
      if (skipped >= this.#size) this.#bits.fill(0);
      else {
        let at = Number((highest! + 1n) % this.#size);
        for (let n = Number(skipped); n > 0; n--) {
          this.#bits[at >>> 5] &= ~(1 << (at & 31));
          if (++at === this.size) at = 0;
        }
      }
      this.#highest = ctr;
    }
    const at = Number(ctr % this.#size);
    this.#bits[at >>> 5] |= 1 << (at & 31);
  }
}

interface EncryptState extends KeySalt {
  kid: bigint;
  header: (ctr: bigint) => Uint8Array;
}

interface DecryptState extends KeySalt {
  replay: ReplayWindow;
}

/**
 * The default anti-replay window, in counters (4 KiB per KID). One counter
 * serves every connection of a sender (each peer-to-peer viewer's frames
 * are encrypted apart), all its tracks and layers: at 50 viewers of ~80
 * frames a second, ~8 s of frames, so a frame resent late (a NACK on a
 * slow link) is still in it.
 */
export const REPLAY_WINDOW = 32_768;

/** Options of an {@link SFrameContext}. */
export interface SFrameOptions {
  /**
   * Anti-replay window in counters per KID; 0 turns the check off.
   * Default {@link REPLAY_WINDOW}.
   */
  replayWindow?: number;
}

/**
 * One party's SFrame state: at most one encryption key (with its KID and
 * counter) and any number of decryption keys by KID, e.g. the old and the
 * new key during a rotation. Encrypt and decrypt keys are kept apart, as
 * RFC 9605 §4.4.1 asks; one context per worker should serve every sender
 * that uses a given key, so that all of them draw from the same counter.
 */
export class SFrameContext {
  #encrypt: EncryptState | undefined;
  /** Next counter per KID ever used for encryption in this context. */
  #nextCounter = new Map<bigint, bigint>();
  #decrypt = new Map<bigint, DecryptState>();
  /** The add of each KID under way (its key being derived). */
  #adding = new Map<bigint, object>();
  #replayWindow: number;

  constructor(options: SFrameOptions = {}) {
    const size = options.replayWindow ?? REPLAY_WINDOW;
    if (!Number.isInteger(size) || size < 0 || size > 2 ** 24) {
      throw new RangeError(`replayWindow must be a whole number 0-2^24`);
    }
    this.#replayWindow = size;
  }

  /** KID of the current encryption key, if any. */
  get encryptionKid(): bigint | undefined {
    return this.#encrypt?.kid;
  }

  /**
   * Makes `key` the encryption key under `kid`. The counter for `kid` starts
   * at `firstCounter` (default 0) the first time, and otherwise continues
   * where this context left it (never below): a KID's counter never repeats
   * here.
   */
  async setEncryptionKey(
    kid: bigint | number,
    key: BaseKey,
    firstCounter: bigint | number = 0n,
  ): Promise<void> {
    const k = toU64(kid, "KID");
    const first = toU64(firstCounter, "firstCounter");
    const derived = await deriveKeySalt(key, k);
    const used = this.#nextCounter.get(k);
    this.#nextCounter.set(k, used === undefined || first > used ? first : used);
    this.#encrypt = { ...derived, kid: k, header: (c) => encodeHeader(k, c) };
  }

  /**
   * Accepts frames under `kid` from now on (replaces a key of that KID). A
   * removal, or another add, of `kid` while the key is derived wins.
   */
  async addDecryptionKey(kid: bigint | number, key: BaseKey): Promise<void> {
    const k = toU64(kid, "KID");
    const token = {};
    this.#adding.set(k, token);
    const derived = await deriveKeySalt(key, k);
    if (this.#adding.get(k) !== token) return;
    this.#adding.delete(k);
    this.#decrypt.set(k, {
      ...derived,
      replay: new ReplayWindow(this.#replayWindow),
    });
  }

  /** Stops accepting frames under `kid` (an add still under way too). */
  removeDecryptionKey(kid: bigint | number): void {
    const k = toU64(kid, "KID");
    this.#adding.delete(k);
    this.#decrypt.delete(k);
  }

  /**
   * Encrypts `frame`, leaving its first `clearPrefix` bytes in the clear and
   * authenticated. Throws without an encryption key, with a prefix outside
   * the frame, or when the KID's counter is exhausted.
   */
  async encrypt(frame: Uint8Array, clearPrefix: number): Promise<Uint8Array> {
    const state = this.#encrypt;
    if (!state) throw new Error("SFrame: no encryption key");
    if (
      !Number.isInteger(clearPrefix) || clearPrefix < 0 ||
      clearPrefix > frame.length
    ) {
      throw new RangeError(`SFrame: clear prefix ${clearPrefix} out of frame`);
    }
    // Reserve the counter before any await: no two calls share one.
    const ctr = this.#nextCounter.get(state.kid) ?? 0n;
    if (ctr > MAX_U64) throw new Error("SFrame: counter exhausted for KID");
    this.#nextCounter.set(state.kid, ctr + 1n);
    const header = state.header(ctr);
    const aad = new Uint8Array(header.length + clearPrefix);
    aad.set(header);
    aad.set(frame.subarray(0, clearPrefix), header.length);
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        {
          name: "AES-GCM",
          iv: nonceFor(state.salt, ctr) as Uint8Array<ArrayBuffer>,
          additionalData: aad,
          tagLength: NT * 8,
        },
        state.key,
        frame.subarray(clearPrefix) as Uint8Array<ArrayBuffer>,
      ),
    );
    const out = new Uint8Array(clearPrefix + header.length + sealed.length);
    out.set(frame.subarray(0, clearPrefix));
    out.set(header, clearPrefix);
    out.set(sealed, clearPrefix + header.length);
    return out;
  }

  /**
   * Decrypts a frame whose first `clearPrefix` bytes are clear metadata
   * (the receiver computes it from those clear bytes, as the sender did).
   * Never throws: bad input gives `malformed`, a KID without key
   * `unknown-key`, a failed tag `auth-failed`, a counter seen before
   * `replayed`, one older than the window `stale`.
   */
  async decrypt(data: Uint8Array, clearPrefix = 0): Promise<DecryptResult> {
    if (
      !Number.isInteger(clearPrefix) || clearPrefix < 0 ||
      clearPrefix >= data.length
    ) {
      return { error: "malformed" };
    }
    const header = decodeHeader(data, clearPrefix);
    if (!header) return { error: "malformed" };
    const bodyAt = clearPrefix + header.length;
    if (data.length - bodyAt < NT) return { error: "malformed" };
    const state = this.#decrypt.get(header.kid);
    if (!state) return { error: "unknown-key" };
    const seen = state.replay.check(header.ctr);
    if (seen !== "fresh") return { error: seen };
    const aad = new Uint8Array(bodyAt);
    aad.set(data.subarray(clearPrefix, bodyAt));
    aad.set(data.subarray(0, clearPrefix), header.length);
    let plain: ArrayBuffer;
    try {
      plain = await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: nonceFor(state.salt, header.ctr) as Uint8Array<ArrayBuffer>,
          additionalData: aad,
          tagLength: NT * 8,
        },
        state.key,
        data.subarray(bodyAt) as Uint8Array<ArrayBuffer>,
      );
    } catch {
      return { error: "auth-failed" };
    }
    // Another call may have accepted the same CTR while the cipher ran.
    const again = state.replay.check(header.ctr);
    if (again !== "fresh") return { error: again };
    state.replay.accept(header.ctr);
    const frame = new Uint8Array(clearPrefix + plain.byteLength);
    frame.set(data.subarray(0, clearPrefix));
    frame.set(new Uint8Array(plain), clearPrefix);
    return { frame, kid: header.kid, ctr: header.ctr };
  }
}
