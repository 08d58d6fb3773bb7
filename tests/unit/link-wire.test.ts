/** Node links' framing: what one side writes, the other reads back, however TCP cuts it. */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  fields,
  FrameReader,
  FrameWriter,
  LinkProtocolError,
} from "../../server/cluster/link-wire.ts";

/** Feeds `bytes` to `reader` in pieces ending at `cuts`; returns every frame. */
function readIn(reader: FrameReader, bytes: Uint8Array, cuts: number[]) {
  const out: string[] = [];
  let at = 0;
  for (
    const end of [
      ...cuts.filter((c) => c > 0 && c < bytes.length),
      bytes.length,
    ].sort((a, b) => a - b)
  ) {
    const piece = bytes.subarray(at, end);
    reader.space().set(piece);
    reader.filled(piece.length);
    out.push(...reader.frames());
    at = end;
  }
  return out;
}

Deno.test("link frames come back whole and in order, whatever the reads' boundaries (multibyte characters split too)", () => {
  fc.assert(
    fc.property(
      // Colons, digits and 1- to 4-byte characters: what trips a parser.
      fc.array(
        fc.array(fc.constantFrom("a", " ", ":", "7", "é", "€", "😀"), {
          maxLength: 300,
        }).map((chars) => chars.join("")),
        { maxLength: 20 },
      ),
      fc.array(fc.nat(20_000), { maxLength: 30 }),
      (frames, cuts) => {
        const writer = new FrameWriter();
        for (const text of frames) writer.append(text);
        assert.deepEqual(
          readIn(new FrameReader(1_000), writer.take(), cuts),
          frames,
        );
      },
    ),
  );
});

Deno.test("a frame over the limit is refused by the writer and is a protocol error for the reader", () => {
  const writer = new FrameWriter();
  assert.equal(writer.append("x".repeat(11), 10), 0);
  assert.equal(writer.size, 0);
  assert.equal(writer.append("é".repeat(10), 10), 13);
  const big = new TextEncoder().encode(`11:${"x".repeat(11)}`);
  assert.throws(() => readIn(new FrameReader(10), big, []), LinkProtocolError);
  const bad = new TextEncoder().encode("1x:abc");
  assert.throws(() => readIn(new FrameReader(10), bad, []), LinkProtocolError);
  const endless = new TextEncoder().encode("12345678901234");
  assert.throws(
    () => readIn(new FrameReader(10), endless, []),
    LinkProtocolError,
  );
  assert.throws(
    () =>
      readIn(new FrameReader(10), new Uint8Array([0x32, 0x3a, 0xff, 0xfe]), []),
    LinkProtocolError,
  );
});

Deno.test("fields splits the header off and keeps the rest, spaces and all", () => {
  assert.deepEqual(fields("R 7 client_a v s rest of it", 4), [
    "R",
    "7",
    "client_a",
    "v",
    "s rest of it",
  ]);
  assert.equal(fields("T 1", 2), undefined);
});
