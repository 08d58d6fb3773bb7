/**
 * End-to-end encryption keys as a page gives them (`e2eeKey`,
 * `e2eeKeyProvider`), and the SFrame key ids (KIDs) made from them. Pure:
 * used by the main thread's chunk (e2ee.ts) and by the worker
 * (e2ee-worker.ts), unit-tested in tests/unit/e2ee-keys.test.ts.
 *
 * A KID is `epoch * 2^40 + id`, `id` 40 random bits drawn each time a
 * sender is given a key. SFrame derives each KID's own AES key and nonce
 * salt from the base key (RFC 9605 §4.4.2), so two senders with the same
 * base key and epoch (a reloaded page, a second tab) use different keys
 * unless their ids collide (odds of about 1 in 2 million for a thousand
 * senders of one stream and epoch): no counter is remembered anywhere. The
 * epoch is 0..4095, so a KID stays below 2^52.
 *
 * @module
 */

/** Base key bytes, as raw bytes or base64url/base64 text. */
export type E2eeKeyBytes = string | Uint8Array | ArrayBuffer;

/** What `e2eeKey` takes, and an `e2eeKeyProvider` returns: bare bytes are epoch 0 (or the epoch asked for). */
export type E2eeKey = E2eeKeyBytes | { epoch: number; key: E2eeKeyBytes };

/** Called by a viewer for the key of an epoch it met in a frame (rotation). */
export type E2eeKeyProvider = (
  streamId: string,
  epoch: number,
) => E2eeKey | Promise<E2eeKey>;

/** A checked key: its epoch and a private copy of its bytes. */
export interface EpochKey {
  epoch: number;
  key: Uint8Array;
}

/** The highest epoch: a KID stays below 2^52. */
export const MAX_EPOCH = 4095;
/** Base keys have at least 128 bits (AES-128), and need no more than 512. */
export const MIN_KEY_BYTES = 16;
export const MAX_KEY_BYTES = 64;
const ID_BITS = 40n;

/** Why a key was refused; the message names no key material. */
export class E2eeKeyError extends Error {}

/** The KID of `epoch` and a sender's 40-bit `id`. */
export function kidOf(epoch: number, id: bigint): bigint {
  if (!isEpoch(epoch)) throw new RangeError(`epoch out of range: ${epoch}`);
  return (BigInt(epoch) << ID_BITS) | (id & ((1n << ID_BITS) - 1n));
}

/** The epoch of a KID, or undefined when no sender of ours could have made it. */
export function epochOf(kid: bigint): number | undefined {
  const epoch = kid >> ID_BITS;
  return epoch <= BigInt(MAX_EPOCH) ? Number(epoch) : undefined;
}

/** 40 random bits: a sender's id within its epoch. */
export function randomId(): bigint {
  const bytes = crypto.getRandomValues(new Uint8Array(5));
  return bytes.reduce((id, byte) => (id << 8n) | BigInt(byte), 0n);
}

export function isEpoch(epoch: unknown): epoch is number {
  return Number.isInteger(epoch) && (epoch as number) >= 0 &&
    (epoch as number) <= MAX_EPOCH;
}

/**
 * Checks a key as a page gives it: `{ epoch, key }`, or bare bytes (epoch
 * `epoch`). Text is base64url or base64, padded or not. Throws
 * {@link E2eeKeyError}.
 */
export function parseKey(input: unknown, epoch = 0): EpochKey {
  if (
    input && typeof input === "object" && !(input instanceof Uint8Array) &&
    !(input instanceof ArrayBuffer)
  ) {
    const given = input as { epoch?: unknown; key?: unknown };
    if (!isEpoch(given.epoch)) {
      throw new E2eeKeyError(`epoch must be a whole number 0-${MAX_EPOCH}`);
    }
    return { epoch: given.epoch, key: keyBytes(given.key) };
  }
  return { epoch, key: keyBytes(input) };
}

function keyBytes(input: unknown): Uint8Array {
  let bytes: Uint8Array;
  if (typeof input === "string") bytes = fromBase64(input);
  else if (input instanceof Uint8Array) bytes = input.slice();
  else if (input instanceof ArrayBuffer) bytes = new Uint8Array(input.slice(0));
  else {
    throw new E2eeKeyError(
      "the key must be a string (base64url), a Uint8Array or an ArrayBuffer",
    );
  }
  if (bytes.length < MIN_KEY_BYTES || bytes.length > MAX_KEY_BYTES) {
    throw new E2eeKeyError(
      `the key must be ${MIN_KEY_BYTES}-${MAX_KEY_BYTES} bytes, not ${bytes.length}`,
    );
  }
  return bytes;
}

/** base64url or base64, with or without padding; throws on anything else. */
function fromBase64(text: string): Uint8Array {
  const plain = text.trim().replace(/-/g, "+").replace(/_/g, "/")
    .replace(/=+$/, "");
  if (!/^[A-Za-z0-9+/]*$/.test(plain) || plain.length % 4 === 1) {
    throw new E2eeKeyError("the key text is not base64url or base64");
  }
  const binary = atob(plain + "=".repeat((4 - plain.length % 4) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
