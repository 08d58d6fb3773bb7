/**
 * End-to-end encryption keys as pages give them, and KIDs
 * (components/e2ee/keys.ts), without a browser.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  E2eeKeyError,
  epochOf,
  kidOf,
  MAX_EPOCH,
  parseKey,
  randomId,
} from "../../components/e2ee/keys.ts";

// Starts with bytes whose base64 is "+/+/" (base64url "-_-_").
const BYTES = Uint8Array.from(
  { length: 32 },
  (_, i) => [0xfb, 0xff, 0xbf][i] ?? i * 7 + 1,
);
const BASE64URL = btoa(String.fromCharCode(...BYTES)).replace(/\+/g, "-")
  .replace(/\//g, "_").replace(/=+$/, "");
const BASE64 = btoa(String.fromCharCode(...BYTES));

Deno.test("a key as base64url, base64 (padded or not), bytes or a buffer", () => {
  assert.ok(/[-_]/.test(BASE64URL) && /[+/]/.test(BASE64));
  for (const given of [BASE64URL, BASE64, BASE64.replace(/=+$/, "")]) {
    assert.deepEqual(parseKey(given), { epoch: 0, key: BYTES });
  }
  assert.deepEqual(parseKey(BYTES), { epoch: 0, key: BYTES });
  assert.deepEqual(parseKey(BYTES.slice().buffer), { epoch: 0, key: BYTES });
  assert.deepEqual(parseKey({ epoch: 7, key: BASE64URL }), {
    epoch: 7,
    key: BYTES,
  });
  // A bare key from a provider is the epoch asked for.
  assert.deepEqual(parseKey(BASE64URL, 12), { epoch: 12, key: BYTES });
  assert.deepEqual(parseKey({ epoch: 3, key: BYTES }, 12).epoch, 3);
});

Deno.test("a key's bytes are copied: the page changing its array changes nothing", () => {
  const given = BYTES.slice();
  const { key } = parseKey(given);
  given.fill(0);
  assert.deepEqual(key, BYTES);
});

Deno.test("16 to 64 bytes, an epoch 0-4095, nothing else", () => {
  assert.equal(parseKey(new Uint8Array(16)).key.length, 16);
  assert.equal(parseKey(new Uint8Array(64)).key.length, 64);
  assert.equal(parseKey({ epoch: MAX_EPOCH, key: BYTES }).epoch, 4095);
  const refused: unknown[] = [
    new Uint8Array(15),
    new Uint8Array(65),
    "",
    "not base64!",
    "QUJD", // 3 bytes
    "A".repeat(21), // a length base64 never has (21 % 4 === 1)
    12345,
    null,
    undefined,
    [1, 2, 3],
    { key: BYTES },
    { epoch: -1, key: BYTES },
    { epoch: 4096, key: BYTES },
    { epoch: 1.5, key: BYTES },
    { epoch: "1", key: BYTES },
    { epoch: 0, key: 42 },
  ];
  for (const given of refused) {
    assert.throws(() => parseKey(given), E2eeKeyError, String(given));
  }
});

Deno.test("a refusal names no key material", () => {
  const secret = "c2VjcmV0LWtleS0xMjM0NTY3";
  try {
    parseKey(secret.slice(0, 12));
    assert.fail("accepted a 9-byte key");
  } catch (error) {
    assert.ok(!(error as Error).message.includes(secret.slice(0, 12)));
  }
});

Deno.test("a KID is epoch * 2^40 + id, and gives its epoch back", () => {
  assert.equal(kidOf(0, 5n), 5n);
  assert.equal(kidOf(1, 0n), 1n << 40n);
  assert.equal(kidOf(4095, (1n << 40n) - 1n), (1n << 52n) - 1n);
  // Only the id's 40 bits count.
  assert.equal(kidOf(2, (1n << 40n) + 3n), (2n << 40n) + 3n);
  assert.throws(() => kidOf(4096, 0n), RangeError);
  assert.throws(() => kidOf(-1, 0n), RangeError);
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: MAX_EPOCH }),
      fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }),
      (epoch, id) => epochOf(kidOf(epoch, id)) === epoch,
    ),
  );
});

Deno.test("a KID no sender of ours makes has no epoch", () => {
  assert.equal(epochOf(1n << 52n), undefined);
  assert.equal(epochOf((1n << 64n) - 1n), undefined);
  assert.equal(epochOf(0n), 0);
});

Deno.test("a sender's id is 40 random bits", () => {
  const ids = new Set<bigint>();
  for (let i = 0; i < 200; i++) {
    const id = randomId();
    assert.ok(id >= 0n && id < 1n << 40n);
    ids.add(id);
  }
  assert.ok(ids.size > 195, `${ids.size} distinct of 200`);
});
