/**
 * SFrame (components/e2ee/sframe.ts) without a browser: the RFC 9605
 * Appendix C vectors, header boundaries, round trips, tampering, counters,
 * key ids, replay and malformed input.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeHeader,
  type DecryptResult,
  deriveKeySalt,
  encodeHeader,
  nonceFor,
  REPLAY_WINDOW,
  SFrameContext,
} from "../../components/e2ee/sframe.ts";

const hex = (s: string) =>
  Uint8Array.from(
    s.replace(/\s+/g, "").match(/../g) ?? [],
    (b) => parseInt(b, 16),
  );
const toHex = (b: Uint8Array) =>
  [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const MAX = (1n << 64n) - 1n;

function frameOf(result: DecryptResult): Uint8Array {
  if ("error" in result) assert.fail(`decrypt failed: ${result.error}`);
  return result.frame;
}

function errorOf(result: DecryptResult): string {
  if (!("error" in result)) assert.fail("decrypted, expected an error");
  return result.error;
}

async function pair(kid = 1n, key = new Uint8Array(16).fill(7)) {
  const sender = new SFrameContext();
  const receiver = new SFrameContext();
  await sender.setEncryptionKey(kid, key);
  await receiver.addDecryptionKey(kid, key);
  return { sender, receiver };
}

// RFC 9605 Appendix C.3, cipher_suite 0x0004 (AES_128_GCM_SHA256_128),
// copied from the RFC text (whitespace removed).
const C3 = {
  kid: 0x123n,
  ctr: 0x4567n,
  baseKey: "000102030405060708090a0b0c0d0e0f",
  sframeKey: "d34f547f4ca4f9a7447006fe7fcbf768",
  sframeSalt: "75234edefe07819026751816",
  metadata: "4945544620534672616d65205747",
  nonce: "75234edefe07819026755d71",
  pt: "64726166742d696574662d736672616d652d656e63",
  ct: "9901234567b7412c2513a1b66dbb48841bbaf17f598751176ad847681a69c6d0" +
    "b091c07018ce4adb34eb",
};

Deno.test("RFC 9605 C.3 AES_128_GCM_SHA256_128: key schedule, nonce, ciphertext and back", async () => {
  const derived = await deriveKeySalt(hex(C3.baseKey), C3.kid, true);
  const keyBytes = new Uint8Array(
    await crypto.subtle.exportKey("raw", derived.key),
  );
  assert.equal(toHex(keyBytes), C3.sframeKey);
  assert.equal(toHex(derived.salt), C3.sframeSalt);
  assert.equal(toHex(nonceFor(derived.salt, C3.ctr)), C3.nonce);

  // The RFC's metadata is our clear prefix: it leads the wire frame, the
  // SFrame ciphertext (header + ct + tag) follows.
  const metadata = hex(C3.metadata);
  const frame = new Uint8Array([...metadata, ...hex(C3.pt)]);
  const ctx = new SFrameContext();
  await ctx.setEncryptionKey(C3.kid, hex(C3.baseKey), C3.ctr);
  const sealed = await ctx.encrypt(frame, metadata.length);
  assert.equal(toHex(sealed), C3.metadata + C3.ct);

  await ctx.addDecryptionKey(C3.kid, hex(C3.baseKey));
  assert.deepEqual(frameOf(await ctx.decrypt(sealed, metadata.length)), frame);
});

Deno.test("a WebCrypto HKDF base key derives the same as its raw bytes", async () => {
  const raw = hex(C3.baseKey);
  const key = await crypto.subtle.importKey("raw", raw, "HKDF", false, [
    "deriveBits",
  ]);
  const ctx = new SFrameContext();
  await ctx.setEncryptionKey(C3.kid, key, C3.ctr);
  const metadata = hex(C3.metadata);
  const sealed = await ctx.encrypt(
    new Uint8Array([...metadata, ...hex(C3.pt)]),
    metadata.length,
  );
  assert.equal(toHex(sealed), C3.metadata + C3.ct);
});

// RFC 9605 Appendix C.1 (a selection, verbatim): [kid, ctr, header].
const C1: [bigint, bigint, string][] = [
  [0x0n, 0x0n, "00"],
  [0x0n, 0x1n, "01"],
  [0x0n, 0xffn, "08ff"],
  [0x0n, 0x100n, "090100"],
  [0x0n, 0xffffffffn, "0bffffffff"],
  [0x0n, 0x100000000n, "0c0100000000"],
  [0x0n, 0xffffffffffffffffn, "0fffffffffffffffff"],
  [0x1n, 0x0n, "10"],
  [0xffn, 0x0n, "80ff"],
  [0xffn, 0xffn, "88ffff"],
  [0xffn, 0x100n, "89ff0100"],
  [0x100n, 0x0n, "900100"],
  [0xffffffffffffffffn, 0x0n, "f0ffffffffffffffff"],
  [0xffffffffffffffffn, 0x100n, "f9ffffffffffffffff0100"],
  [
    0xffffffffffffffffn,
    0xffffffffffffffffn,
    "ffffffffffffffffffffffffffffffffff",
  ],
];

Deno.test("header encoding matches RFC 9605 C.1 and decodes back", () => {
  for (const [kid, ctr, header] of C1) {
    assert.equal(toHex(encodeHeader(kid, ctr)), header, `${kid}/${ctr}`);
    assert.deepEqual(decodeHeader(hex(header)), {
      kid,
      ctr,
      length: header.length / 2,
    });
  }
});

Deno.test("header round trip at every length boundary, for KID and CTR", () => {
  const values = [
    ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 255, 256, 65535, 65536].map(BigInt),
    1n << 32n,
    (1n << 32n) - 1n,
    BigInt(Number.MAX_SAFE_INTEGER),
    1n << 56n,
    MAX,
  ];
  const expectedLength = (v: bigint) =>
    v < 8n ? 0 : Math.ceil(v.toString(16).length / 2);
  for (const kid of values) {
    for (const ctr of values) {
      const header = encodeHeader(kid, ctr);
      assert.equal(
        header.length,
        1 + expectedLength(kid) + expectedLength(ctr),
      );
      assert.deepEqual(decodeHeader(header), {
        kid,
        ctr,
        length: header.length,
      });
    }
  }
  assert.deepEqual(decodeHeader(encodeHeader(7, 8)), {
    kid: 7n,
    ctr: 8n,
    length: 2,
  });
  assert.throws(() => encodeHeader(-1, 0), RangeError);
  assert.throws(() => encodeHeader(0, MAX + 1n), RangeError);
  fc.assert(
    fc.property(
      fc.bigUintN(64),
      fc.bigUintN(64),
      fc.nat(4),
      (kid, ctr, pad) => {
        const header = encodeHeader(kid, ctr);
        const padded = new Uint8Array(pad + header.length + 3);
        padded.set(header, pad);
        assert.deepEqual(decodeHeader(padded, pad), {
          kid,
          ctr,
          length: header.length,
        });
      },
    ),
  );
});

Deno.test("round trip for payloads of many sizes (0 too), with and without a clear prefix", async () => {
  const { sender, receiver } = await pair();
  for (const size of [0, 1, 2, 15, 16, 17, 255, 1200, 60_000]) {
    for (const prefix of [0, 1, 3, 10]) {
      const frame = new Uint8Array(prefix + size);
      crypto.getRandomValues(frame);
      const sealed = await sender.encrypt(frame, prefix);
      // prefix + config byte (+ CTR bytes) + payload + 16-byte tag
      assert.ok(sealed.length >= frame.length + 17);
      assert.deepEqual(sealed.subarray(0, prefix), frame.subarray(0, prefix));
      if (size > 0) {
        assert.notDeepEqual(sealed.subarray(sealed.length - 16 - size), frame);
      }
      assert.deepEqual(frameOf(await receiver.decrypt(sealed, prefix)), frame);
    }
  }
});

Deno.test("tampering any byte of prefix, header, ciphertext or tag is rejected, never decrypted", async () => {
  const sender = new SFrameContext();
  // Replay is tested on its own; here a header tampered into an earlier
  // CTR must meet the tag check, not the window.
  const receiver = new SFrameContext({ replayWindow: 0 });
  const key = new Uint8Array(16).fill(9);
  await sender.setEncryptionKey(300, key, 5000);
  await receiver.addDecryptionKey(300, key);
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 0, maxLength: 64 }),
      fc.nat(12),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      async (payload, prefixWanted, where, flip) => {
        const prefix = Math.min(prefixWanted, payload.length);
        const sealed = await sender.encrypt(payload, prefix);
        const header = decodeHeader(sealed, prefix);
        assert.ok(header);
        const at = where % sealed.length;
        const tampered = sealed.slice();
        tampered[at] ^= flip;
        const error = errorOf(await receiver.decrypt(tampered, prefix));
        const inHeader = at >= prefix && at < prefix + header.length;
        if (inHeader) {
          // A changed header may name another KID, be non-minimal, or grow
          // into the ciphertext and leave less than a tag.
          assert.ok(
            ["auth-failed", "unknown-key", "malformed"].includes(error),
            error,
          );
          const changed = decodeHeader(tampered, prefix);
          const rest = changed && sealed.length - prefix - changed.length;
          if (changed?.kid === 300n && rest! >= 16) {
            assert.equal(error, "auth-failed");
          }
        } else {
          assert.equal(error, "auth-failed");
        }
        // The untouched frame still decrypts: the rejection was the tamper.
        assert.deepEqual(
          frameOf(await receiver.decrypt(sealed, prefix)),
          payload,
        );
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("the same KID with another base key fails authentication", async () => {
  const sender = new SFrameContext();
  const receiver = new SFrameContext();
  await sender.setEncryptionKey(4, new Uint8Array(16).fill(1));
  await receiver.addDecryptionKey(4, new Uint8Array(16).fill(2));
  const sealed = await sender.encrypt(new Uint8Array(100), 3);
  assert.equal(errorOf(await receiver.decrypt(sealed, 3)), "auth-failed");
});

Deno.test("counters: consecutive from 0, distinct under concurrency, never reused across key changes", async () => {
  const ctx = new SFrameContext();
  const keyA = new Uint8Array(16).fill(0xa);
  const keyB = new Uint8Array(16).fill(0xb);
  const ctrOf = (sealed: Uint8Array) => decodeHeader(sealed)!.ctr;
  const kidOf = (sealed: Uint8Array) => decodeHeader(sealed)!.kid;
  const frame = new Uint8Array(20);

  await ctx.setEncryptionKey(1, keyA);
  const seen = new Set<string>();
  const record = (sealed: Uint8Array) => {
    const id = `${kidOf(sealed)}/${ctrOf(sealed)}`;
    assert.ok(!seen.has(id), `reused ${id}`);
    seen.add(id);
  };
  for (let i = 0; i < 300; i++) {
    const sealed = await ctx.encrypt(frame, 0);
    assert.equal(ctrOf(sealed), BigInt(i));
    record(sealed);
  }
  // Many encryptions in flight at once still take distinct counters.
  const batch = await Promise.all(
    Array.from({ length: 500 }, () => ctx.encrypt(frame, 0)),
  );
  batch.forEach(record);
  assert.deepEqual(
    batch.map(ctrOf).sort((a, b) => (a < b ? -1 : 1)),
    Array.from({ length: 500 }, (_, i) => BigInt(300 + i)),
  );

  // A new KID starts at 0; coming back to KID 1 continues, even with
  // another key (or the same one) under it.
  await ctx.setEncryptionKey(2, keyB);
  const first = await ctx.encrypt(frame, 0);
  assert.equal(ctrOf(first), 0n);
  record(first);
  await ctx.setEncryptionKey(1, keyB);
  const back = await ctx.encrypt(frame, 0);
  assert.equal(ctrOf(back), 800n);
  record(back);
  await ctx.setEncryptionKey(1, keyA, 0);
  const again = await ctx.encrypt(frame, 0);
  assert.equal(ctrOf(again), 801n);
  record(again);
  // firstCounter moves a counter forward, never back.
  await ctx.setEncryptionKey(1, keyA, 10_000);
  assert.equal(ctrOf(await ctx.encrypt(frame, 0)), 10_000n);
  await ctx.setEncryptionKey(1, keyA, 5);
  assert.equal(ctrOf(await ctx.encrypt(frame, 0)), 10_001n);
  assert.equal(ctx.encryptionKid, 1n);
});

Deno.test("the counter stops at 2^64 - 1 instead of wrapping", async () => {
  const ctx = new SFrameContext();
  await ctx.setEncryptionKey(3, new Uint8Array(16), MAX - 1n);
  const frame = new Uint8Array(4);
  assert.equal(decodeHeader(await ctx.encrypt(frame, 0))!.ctr, MAX - 1n);
  const last = await ctx.encrypt(frame, 0);
  assert.equal(decodeHeader(last)!.ctr, MAX);
  await assert.rejects(() => ctx.encrypt(frame, 0), /exhausted/);
  await assert.rejects(() => ctx.encrypt(frame, 0), /exhausted/);
  // And it stays exhausted for that KID when the key is set again.
  await ctx.setEncryptionKey(3, new Uint8Array(16).fill(1));
  await assert.rejects(() => ctx.encrypt(frame, 0), /exhausted/);
  const receiver = new SFrameContext();
  await receiver.addDecryptionKey(3, new Uint8Array(16));
  assert.deepEqual(frameOf(await receiver.decrypt(last, 0)), frame);
});

Deno.test("encrypt refuses without a key or with a prefix outside the frame", async () => {
  const ctx = new SFrameContext();
  await assert.rejects(
    () => ctx.encrypt(new Uint8Array(4), 0),
    /no encryption key/,
  );
  await ctx.setEncryptionKey(0, new Uint8Array(16));
  for (const prefix of [-1, 5, 1.5, NaN]) {
    await assert.rejects(
      () => ctx.encrypt(new Uint8Array(4), prefix),
      RangeError,
    );
  }
  await assert.rejects(
    () => ctx.setEncryptionKey(MAX + 1n, new Uint8Array(16)),
    RangeError,
  );
});

Deno.test("key ids: a frame decrypts only where its KID's key is present; two keys during a rotation", async () => {
  const keyA = new Uint8Array(16).fill(0x11);
  const keyB = new Uint8Array(16).fill(0x22);
  const sender = new SFrameContext();
  const frame = Uint8Array.from({ length: 40 }, (_, i) => i);
  await sender.setEncryptionKey(10, keyA);
  const underA = await sender.encrypt(frame, 3);
  await sender.setEncryptionKey(11, keyB);
  const underB = await sender.encrypt(frame, 3);

  const onlyA = new SFrameContext();
  await onlyA.addDecryptionKey(10, keyA);
  assert.deepEqual(frameOf(await onlyA.decrypt(underA, 3)), frame);
  assert.equal(errorOf(await onlyA.decrypt(underB, 3)), "unknown-key");

  const onlyB = new SFrameContext();
  await onlyB.addDecryptionKey(11, keyB);
  assert.equal(errorOf(await onlyB.decrypt(underA, 3)), "unknown-key");
  assert.deepEqual(frameOf(await onlyB.decrypt(underB, 3)), frame);

  // During a rotation both are accepted, in any order.
  const both = new SFrameContext();
  await both.addDecryptionKey(10, keyA);
  await both.addDecryptionKey(11, keyB);
  assert.deepEqual(frameOf(await both.decrypt(underB, 3)), frame);
  assert.deepEqual(frameOf(await both.decrypt(underA, 3)), frame);
  // Then the old key goes.
  both.removeDecryptionKey(10);
  const laterA = await (async () => {
    await sender.setEncryptionKey(10, keyA);
    return sender.encrypt(frame, 3);
  })();
  assert.equal(errorOf(await both.decrypt(laterA, 3)), "unknown-key");

  // A key never set for encryption does not encrypt: the decrypt-only
  // context has none.
  await assert.rejects(() => both.encrypt(frame, 0), /no encryption key/);
});

Deno.test("replay: a frame is accepted once; reordering within the window is fine; older is refused", async () => {
  const key = new Uint8Array(16).fill(3);
  const sender = new SFrameContext();
  const receiver = new SFrameContext({ replayWindow: 64 });
  await sender.setEncryptionKey(1, key);
  await receiver.addDecryptionKey(1, key);
  const frames = [];
  for (let i = 0; i < 200; i++) {
    frames.push(await sender.encrypt(new Uint8Array([i]), 0));
  }
  frameOf(await receiver.decrypt(frames[100], 0));
  assert.equal(errorOf(await receiver.decrypt(frames[100], 0)), "replayed");
  frameOf(await receiver.decrypt(frames[99], 0)); // late but in the window
  frameOf(await receiver.decrypt(frames[37], 0)); // 63 behind: still in it
  assert.equal(errorOf(await receiver.decrypt(frames[36], 0)), "stale");
  assert.equal(errorOf(await receiver.decrypt(frames[99], 0)), "replayed");
  frameOf(await receiver.decrypt(frames[199], 0)); // a jump forward
  assert.equal(errorOf(await receiver.decrypt(frames[135], 0)), "stale");
  frameOf(await receiver.decrypt(frames[136], 0));

  // The same frame decrypted twice at once: one wins.
  const results = await Promise.all([
    receiver.decrypt(frames[150], 0),
    receiver.decrypt(frames[150], 0),
  ]);
  assert.deepEqual(results.map((r) => "error" in r).sort(), [false, true]);

  // A forged frame does not move the window: its CTR stays usable.
  const forged = frames[160].slice();
  forged[forged.length - 1] ^= 1;
  assert.equal(errorOf(await receiver.decrypt(forged, 0)), "auth-failed");
  frameOf(await receiver.decrypt(frames[160], 0));

  // replayWindow 0 turns the check off.
  const lax = new SFrameContext({ replayWindow: 0 });
  await lax.addDecryptionKey(1, key);
  frameOf(await lax.decrypt(frames[5], 0));
  frameOf(await lax.decrypt(frames[5], 0));
  assert.throws(() => new SFrameContext({ replayWindow: -1 }), RangeError);
});

Deno.test("replay: the default window holds REPLAY_WINDOW counters (every connection of a sender shares one counter); past it, stale", async () => {
  const key = new Uint8Array(16).fill(4);
  const sender = new SFrameContext();
  const receiver = new SFrameContext();
  await sender.setEncryptionKey(1, key);
  await receiver.addDecryptionKey(1, key);
  const first = await sender.encrypt(new Uint8Array([1]), 0);
  const kept = await sender.encrypt(new Uint8Array([2]), 0);
  frameOf(await receiver.decrypt(first, 0));
  // 50 peer-to-peer viewers for ~2 s later (the counter moved on by
  // 8,000): the kept frame is late, not stale.
  await sender.setEncryptionKey(1, key, 8_001);
  frameOf(await receiver.decrypt(await sender.encrypt(new Uint8Array(), 0), 0));
  frameOf(await receiver.decrypt(kept, 0));
  assert.equal(errorOf(await receiver.decrypt(kept, 0)), "replayed");
  assert.equal(errorOf(await receiver.decrypt(first, 0)), "replayed");
  // The window's width on: what came before it is stale.
  await sender.setEncryptionKey(1, key, 8_002 + REPLAY_WINDOW);
  frameOf(await receiver.decrypt(await sender.encrypt(new Uint8Array(), 0), 0));
  assert.equal(errorOf(await receiver.decrypt(kept, 0)), "stale");
});

Deno.test("malformed input gives 'malformed', never an exception", async () => {
  const { sender, receiver } = await pair(1n);
  const good = await sender.encrypt(new Uint8Array(30), 3);
  const cases: [Uint8Array, number][] = [
    [new Uint8Array(0), 0],
    [good, good.length], // prefix leaves no header
    [good, -1],
    [good, 2.5],
    [good, Number.NaN],
    [hex("80"), 0], // KID of 1 byte announced, none there
    [hex("f0ffffff"), 0], // KID of 8 bytes announced, 3 there
    [hex("0f0102"), 0], // CTR of 8 bytes announced, 2 there
    [hex("8005" + "00".repeat(20)), 0], // KID 5 in extended form: not minimal
    [hex("890001" + "00".repeat(20)), 0], // CTR 0x0001 in 2 bytes: not minimal
    [hex("10" + "00".repeat(15)), 0], // one byte short of a tag
    [good.subarray(0, 3 + 1 + 15), 3],
  ];
  for (const [data, prefix] of cases) {
    assert.equal(
      errorOf(await receiver.decrypt(data, prefix)),
      "malformed",
      `${toHex(data)} @${prefix}`,
    );
  }
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 80 }),
      fc.integer({ min: -2, max: 90 }),
      async (data, prefix) => {
        const result = await receiver.decrypt(data, prefix);
        assert.ok("error" in result);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("replay: moving on clears the counters passed over (a ring of the window's width)", async () => {
  const key = new Uint8Array(16).fill(5);
  const sender = new SFrameContext();
  const receiver = new SFrameContext({ replayWindow: 64 });
  await receiver.addDecryptionKey(1, key);
  const at = async (ctr: number) => {
    await sender.setEncryptionKey(1, key, ctr);
    return await sender.encrypt(new Uint8Array([ctr & 0xff]), 0);
  };
  const f5 = await at(5);
  const f60 = await at(60);
  const f100 = await at(100);
  const f69 = await (async () => {
    const other = new SFrameContext();
    await other.setEncryptionKey(1, key, 69);
    return await other.encrypt(new Uint8Array([69]), 0);
  })();
  for (const frame of [f5, f60, f100]) {
    frameOf(await receiver.decrypt(frame, 0));
  }
  // 69 shares 5's slot (69 % 64): cleared when the window moved past it.
  frameOf(await receiver.decrypt(f69, 0));
  assert.equal(errorOf(await receiver.decrypt(f60, 0)), "replayed");
});

Deno.test("a KID removed while its key is derived stays removed", async () => {
  const key = new Uint8Array(16).fill(6);
  const sender = new SFrameContext();
  await sender.setEncryptionKey(1, key);
  const frame = await sender.encrypt(new Uint8Array([1]), 0);
  const receiver = new SFrameContext();
  const adding = receiver.addDecryptionKey(1, key);
  receiver.removeDecryptionKey(1);
  await adding;
  assert.equal(errorOf(await receiver.decrypt(frame, 0)), "unknown-key");
  await receiver.addDecryptionKey(1, key);
  frameOf(await receiver.decrypt(frame, 0));
});
