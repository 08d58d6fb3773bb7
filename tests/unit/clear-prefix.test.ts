/**
 * What stays clear of a VP8, H.264 or Opus frame under SFrame
 * (components/e2ee/clear-prefix.ts), the H.264 escaping, and that a
 * receiver finds the same clear prefix in the protected frame.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  clearBytes,
  escapeH264,
  h264ClearBytes,
  h264NalStarts,
  opusClearBytes,
  unescapeH264,
  vp8ClearBytes,
} from "../../components/e2ee/clear-prefix.ts";
import { SFrameContext } from "../../components/e2ee/sframe.ts";

const bytes = (...parts: (number[] | Uint8Array)[]) =>
  Uint8Array.from(parts.flatMap((p) => [...p]));

// A VP8 key frame starts with a 3-byte frame tag whose bit 0 is 0, then the
// start code 9d 01 2a and 14-bit width and height (RFC 6386 §9.1).
const vp8Key = bytes([
  0x50,
  0x42,
  0x00,
  0x9d,
  0x01,
  0x2a,
  0x80,
  0x02,
  0xe0,
  0x01,
], [1, 2, 3, 4, 5]);
const vp8Delta = bytes([0x31, 0x10, 0x00], [7, 7, 7, 7, 7, 7, 7, 7, 7, 7]);

const SPS = [0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0xda];
const PPS = [0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80];
const IDR = [0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x00, 0x03, 0x01, 0x21];
const NON_IDR = [0, 0, 0, 1, 0x41, 0x9a, 0x02, 0x00, 0x00, 0x00, 0x05];

Deno.test("VP8: 10 clear bytes of a key frame, 3 of a delta frame, by bit 0 of byte 0", () => {
  assert.equal(vp8ClearBytes(vp8Key), 10);
  assert.equal(vp8ClearBytes(vp8Delta), 3);
  assert.equal(clearBytes("vp8", vp8Key), 10);
  // Only bit 0 decides: a delta tag differs from the key one in that bit.
  const flipped = vp8Key.slice();
  flipped[0] |= 1;
  assert.equal(vp8ClearBytes(flipped), 3);
  // Never past the frame.
  assert.equal(vp8ClearBytes(vp8Key.subarray(0, 4)), 4);
  assert.equal(vp8ClearBytes(new Uint8Array(0)), 0);
});

Deno.test("Opus: nothing clear", () => {
  assert.equal(opusClearBytes(bytes([0xfc, 1, 2])), 0);
  assert.equal(clearBytes("opus", bytes([0x78])), 0);
});

Deno.test("H.264: parameter sets and the first slice's start code and NAL header stay clear", () => {
  const key = bytes(SPS, PPS, IDR);
  assert.deepEqual(h264NalStarts(key), [4, 13, 20]);
  assert.equal(h264ClearBytes(key), 21); // through the 0x65 header byte
  assert.equal(key[20] & 0x1f, 5);
  const delta = bytes(NON_IDR);
  assert.equal(h264ClearBytes(delta), 5);
  assert.equal(clearBytes("h264", delta), 5);
  // Two slices: the first one ends the clear part.
  assert.equal(h264ClearBytes(bytes(NON_IDR, NON_IDR)), 5);
  // No slice, or no Annex B: nothing clear.
  assert.equal(h264ClearBytes(bytes(SPS, PPS)), 0);
  assert.equal(h264ClearBytes(bytes([0x65, 1, 2, 3])), 0);
  assert.equal(h264ClearBytes(new Uint8Array(0)), 0);
  // A start code as the last bytes has no NAL after it.
  assert.deepEqual(h264NalStarts(bytes([9, 0, 0, 1])), []);
});

Deno.test("H.264 escaping: no start code or 00 00 0x inside or at the end, and it undoes exactly", () => {
  assert.deepEqual(escapeH264(bytes([0, 0, 1])), bytes([0, 0, 3, 1]));
  assert.deepEqual(escapeH264(bytes([0, 0, 0, 0])), bytes([0, 0, 3, 0, 0, 3]));
  assert.deepEqual(escapeH264(bytes([0, 0, 3])), bytes([0, 0, 3, 3]));
  assert.deepEqual(escapeH264(bytes([0, 0, 4])), bytes([0, 0, 4]));
  assert.deepEqual(
    unescapeH264(bytes([0, 0, 3, 0, 0, 3])),
    bytes([0, 0, 0, 0]),
  );
  fc.assert(
    fc.property(
      // Zero-heavy bytes, where the interesting cases are.
      fc.array(fc.oneof(fc.constantFrom(0, 0, 0, 1, 2, 3), fc.nat(255)), {
        maxLength: 200,
      }),
      (list) => {
        const data = Uint8Array.from(list);
        const escaped = escapeH264(data);
        for (let i = 2; i < escaped.length; i++) {
          assert.ok(
            !(escaped[i - 2] === 0 && escaped[i - 1] === 0 && escaped[i] <= 3 &&
              // 00 00 03 is the escape itself, followed by anything.
              escaped[i] !== 3),
            `00 00 0${escaped[i]} at ${i}`,
          );
        }
        const n = escaped.length;
        assert.ok(!(n >= 2 && escaped[n - 1] === 0 && escaped[n - 2] === 0));
        assert.deepEqual(h264NalStarts(bytes([0x41], escaped)), []);
        assert.deepEqual(unescapeH264(escaped), data);
      },
    ),
    { numRuns: 1000 },
  );
});

/** The sender's side of a transform: protect, escaping for H.264. */
async function protect(
  ctx: SFrameContext,
  codec: "vp8" | "h264" | "opus",
  frame: Uint8Array,
) {
  const clear = clearBytes(codec, frame);
  const sealed = await ctx.encrypt(frame, clear);
  if (codec !== "h264") return sealed;
  return bytes(sealed.subarray(0, clear), escapeH264(sealed.subarray(clear)));
}

/** The receiver's side: find the clear part again, unescape, decrypt. */
async function unprotect(
  ctx: SFrameContext,
  codec: "vp8" | "h264" | "opus",
  wire: Uint8Array,
) {
  const clear = clearBytes(codec, wire);
  const data = codec === "h264"
    ? bytes(wire.subarray(0, clear), unescapeH264(wire.subarray(clear)))
    : wire;
  return { clear, result: await ctx.decrypt(data, clear) };
}

Deno.test("the receiver finds the sender's clear prefix in the protected frame and gets the frame back", async () => {
  const key = new Uint8Array(16).fill(0x42);
  const sender = new SFrameContext();
  const receiver = new SFrameContext();
  await sender.setEncryptionKey(1, key);
  await receiver.addDecryptionKey(1, key);
  const payload = fc.uint8Array({ minLength: 0, maxLength: 300 });
  const h264Frame = fc.tuple(
    fc.constantFrom(bytes(SPS, PPS, IDR), bytes(NON_IDR), bytes(SPS, PPS)),
    payload,
  ).map(([head, rest]) => bytes(head, escapeH264(rest)));
  const vp8Frame = fc.tuple(fc.constantFrom(vp8Key, vp8Delta), payload).map((
    [head, rest],
  ) => bytes(head, rest));
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        vp8Frame.map((f) => ["vp8", f] as const),
        h264Frame.map((f) => ["h264", f] as const),
        payload.map((f) => ["opus", f] as const),
      ),
      async ([codec, frame]) => {
        const wire = await protect(sender, codec, frame);
        const clear = clearBytes(codec, frame);
        assert.deepEqual(wire.subarray(0, clear), frame.subarray(0, clear));
        if (codec === "h264") {
          // The packetizer sees the clear NAL units and one more at most.
          const before = h264NalStarts(frame).filter((at) => at <= clear);
          assert.deepEqual(h264NalStarts(wire), before);
        }
        const back = await unprotect(receiver, codec, wire);
        assert.equal(back.clear, clear);
        assert.ok(
          "frame" in back.result,
          "error" in back.result ? back.result.error : "",
        );
        assert.deepEqual(back.result.frame, frame);
      },
    ),
    { numRuns: 300 },
  );
});
