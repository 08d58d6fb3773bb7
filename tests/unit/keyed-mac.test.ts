/**
 * KeyedMac (server/security/keyed-mac.ts) against node:crypto's HMAC-SHA256,
 * and resume claims (server/security/resume-token.ts) signed with it:
 * accepted, tampered, another key, a rotated key, expired, malformed.
 */
import assert from "node:assert/strict";
import { createHash, createHmac, randomBytes } from "node:crypto";
import fc from "fast-check";
import {
  KeyedMac,
  MAX_MAC_MESSAGE_BYTES,
} from "../../server/security/keyed-mac.ts";
import { ResumeTokens } from "../../server/security/resume-token.ts";

function reference(key: Uint8Array, message: string): string {
  return createHmac("sha256", key).update(message).digest("base64url");
}

Deno.test("KeyedMac is HMAC-SHA256 for every key length and message length up to its limit", () => {
  // Keys longer than a block are hashed first (RFC 2104); messages cross
  // the padding's boundaries at 55/56 and 119/120 bytes.
  for (const keyLength of [0, 1, 32, 63, 64, 65, 200]) {
    const key = randomBytes(keyLength);
    const mac = new KeyedMac(key);
    for (let length = 0; length <= MAX_MAC_MESSAGE_BYTES; length++) {
      const message = "a~".repeat(length).slice(0, length);
      assert.equal(mac.sign(message), reference(key, message), `${length}`);
    }
  }
});

Deno.test("KeyedMac: any text, in any order on one instance (its buffers reused)", () => {
  const key = randomBytes(32);
  const mac = new KeyedMac(key);
  fc.assert(
    fc.property(
      fc.array(fc.string({ unit: "grapheme", maxLength: 100 }), {
        minLength: 1,
        maxLength: 8,
      }),
      (messages) => {
        for (const message of messages) {
          assert.equal(mac.sign(message), reference(key, message));
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("KeyedMac refuses a message over its limit, in bytes", () => {
  const mac = new KeyedMac(randomBytes(32));
  assert.throws(
    () => mac.sign("a".repeat(MAX_MAC_MESSAGE_BYTES + 1)),
    RangeError,
  );
  // 171 three-byte characters are 513 bytes in 171 UTF-16 units.
  assert.throws(() => mac.sign("€".repeat(171)), RangeError);
  assert.equal(mac.sign("€".repeat(170)).length, 43);
});

const SECRET = "keyed-mac-test-secret";
const CLAIMS = {
  clientId: "client_abcdefghijkl",
  streamId: "order-1",
  role: "viewer",
} as const;

Deno.test("a claim verifies, with its fields, under the key that signed it", () => {
  const tokens = new ResumeTokens(SECRET, 60);
  const now = Date.now();
  const claim = tokens.issue(CLAIMS, now);
  assert.deepEqual(tokens.verify(claim, now), {
    ok: true,
    claims: { ...CLAIMS, exp: Math.floor(now / 1000) + 60 },
  });
  // Another process with the same secret: the same key.
  assert.equal(new ResumeTokens(SECRET, 60).verify(claim, now).ok, true);
  // Its MAC is HMAC-SHA256 of the rest under the key derived from the secret.
  const key = createHash("sha256").update("live-widgets resume v1\0")
    .update(SECRET).digest();
  const at = claim.lastIndexOf("~");
  assert.equal(claim.slice(at + 1), reference(key, claim.slice(0, at)));
});

Deno.test("a tampered claim, or one under another key, is refused as a bad signature", () => {
  const tokens = new ResumeTokens(SECRET, 60);
  const claim = tokens.issue(CLAIMS);
  const refused = { ok: false, reason: "signature" };
  assert.deepEqual(tokens.verify(claim.replace("~v~", "~b~")), refused);
  assert.deepEqual(tokens.verify(claim.replace("order-1", "order-2")), refused);
  const flipped = claim.slice(0, -1) + (claim.endsWith("A") ? "B" : "A");
  assert.deepEqual(tokens.verify(flipped), refused);
  assert.deepEqual(new ResumeTokens("another", 60).verify(claim), refused);
  assert.deepEqual(new ResumeTokens(undefined, 60).verify(claim), refused);
});

Deno.test("a rotated key refuses the claims of the one before; its own verify", () => {
  const tokens = new ResumeTokens(undefined, 60);
  const first = randomBytes(32).toString("hex");
  tokens.useSharedKey(first);
  const before = tokens.issue(CLAIMS);
  assert.equal(tokens.verify(before).ok, true);
  tokens.useSharedKey(randomBytes(32).toString("hex"));
  assert.deepEqual(tokens.verify(before), { ok: false, reason: "signature" });
  assert.equal(tokens.verify(tokens.issue(CLAIMS)).ok, true);
  // The same key again (a node reading it back): the old claim holds.
  tokens.useSharedKey(first);
  assert.equal(tokens.verify(before).ok, true);
});

Deno.test("an expired claim is refused; a malformed one before any MAC", () => {
  const tokens = new ResumeTokens(SECRET, 60);
  const now = Date.now();
  const claim = tokens.issue(CLAIMS, now);
  assert.equal(tokens.verify(claim, now + 59_000).ok, true);
  assert.deepEqual(tokens.verify(claim, now + 61_000), {
    ok: false,
    reason: "expired",
  });
  for (
    const bad of ["", "1~x", claim + "~", claim.slice(0, -1), "x".repeat(600)]
  ) {
    assert.deepEqual(tokens.verify(bad), { ok: false, reason: "malformed" });
  }
});

Deno.test("claims are compared in constant time (timingSafeEqual), never with ===", async () => {
  // A timing test would be flaky; this fails if the comparison is changed.
  const source = await Deno.readTextFile(
    new URL("../../server/security/resume-token.ts", import.meta.url),
  );
  const verify = source.slice(source.indexOf("  verify("));
  assert.match(verify, /timingSafeEqual\(expected, Buffer\.from\(mac\)\)/);
  assert.doesNotMatch(
    verify.slice(0, verify.indexOf("\n  }\n")),
    /mac ===|=== mac/,
  );
});
