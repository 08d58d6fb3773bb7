/**
 * Frames a client could send, for the fuzz tests: raw strings, arbitrary
 * JSON, near-valid messages with random fields, and mostly valid messages
 * (so routing and role checks are reached, not only parsing). `$n` in a
 * frame stands for the id of fuzz client n, filled in when sent.
 */
import fc from "fast-check";
import { ANSWER, candidate, OFFER } from "./fixtures.ts";

const TYPES = [
  "broadcaster-ready",
  "join-stream",
  "leave-stream",
  "webrtc-offer",
  "webrtc-answer",
  "webrtc-ice-candidate",
  "ping",
  "pong",
  "error",
  "welcome",
];
const STREAMS = ["s1", "s2", "bad id", "", "x".repeat(130)];

/** Frames: raw strings, arbitrary JSON, and near-valid messages with random fields. */
export function frame(): fc.Arbitrary<string> {
  const nearValid = fc.record(
    {
      type: fc.oneof(fc.constantFrom(...TYPES), fc.string()),
      streamId: fc.oneof(fc.constantFrom(...STREAMS), fc.jsonValue()),
      viewerId: fc.oneof(fc.string(), fc.jsonValue()),
      offer: fc.oneof(fc.constant(OFFER), fc.jsonValue()),
      answer: fc.oneof(fc.constant(ANSWER), fc.jsonValue()),
      candidate: fc.oneof(fc.constant(candidate(9)), fc.jsonValue()),
      nonce: fc.jsonValue(),
    },
    { requiredKeys: [] },
  ).map((value) => JSON.stringify(value));
  // Mostly valid messages, so routing and role checks are reached, not only
  // parsing. `$n` stands for the id of fuzz client n, filled in when sent.
  const valid = fc.record({
    type: fc.constantFrom(...TYPES.slice(0, 7)),
    streamId: fc.constantFrom("s1", "s2"),
    viewerId: fc.constantFrom("$0", "$1", "$2", "$3", "client_gone"),
    offer: fc.constant(OFFER),
    answer: fc.constant(ANSWER),
    candidate: fc.constant(candidate(9)),
  }).map((value) => JSON.stringify(value));
  return fc.oneof(
    { arbitrary: fc.string({ maxLength: 200 }), weight: 1 },
    { arbitrary: fc.fullUnicodeString({ maxLength: 50 }), weight: 1 },
    { arbitrary: fc.json({ maxDepth: 4 }), weight: 1 },
    { arbitrary: nearValid, weight: 2 },
    { arbitrary: valid, weight: 5 },
  );
}

/** Sent as a binary frame. */
export const BINARY = "<binary>";
/** Sent as a frame over MAX_MESSAGE_BYTES (the server closes with 1009). */
export const OVERSIZE = "<oversize>";

/**
 * {@link frame}, plus what an attacker adds: SDPs over the limits or not
 * parseable, the SFU's messages out of turn, negotiation reports of any
 * shape, binary frames and, rarely, frames over the size cap.
 */
export function attackFrame(): fc.Arbitrary<string> {
  const section = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n";
  const sdp = fc.oneof(
    fc.constant(OFFER.sdp + section.repeat(1_000)),
    fc.constant(OFFER.sdp + "a=x:y\r\n".repeat(3_000)),
    fc.constant(OFFER.sdp + `a=x:${"y".repeat(5_000)}\r\n`),
    fc.constant("v=0\r\n\0"),
    fc.string({ maxLength: 100 }),
  );
  const sfu = fc.record({
    type: fc.constantFrom(
      "sfu-offer",
      "sfu-ice-candidate",
      "viewer-playing",
      "viewer-loss",
    ),
    streamId: fc.constantFrom("s1", "s2"),
    offer: sdp.map((text) => ({ type: "offer", sdp: text })),
    candidate: fc.constant(candidate(7)),
    session: fc.constantFrom("1", "abc", ""),
    lost: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.constant("1")),
    received: fc.oneof(fc.nat(), fc.constant(2_000_000)),
  }).map((value) => JSON.stringify(value));
  const bigOffer = fc.record({
    type: fc.constantFrom("webrtc-offer", "webrtc-answer"),
    streamId: fc.constantFrom("s1", "s2"),
    viewerId: fc.constantFrom("$0", "$1"),
    offer: sdp.map((text) => ({ type: "offer", sdp: text })),
    answer: sdp.map((text) => ({ type: "answer", sdp: text })),
  }).map((value) => JSON.stringify(value));
  // Reports of a refused description: any stage, role or length of reason.
  const negotiation = fc.record({
    type: fc.constant("negotiation-failed"),
    streamId: fc.constantFrom("s1", "s2"),
    viewerId: fc.constantFrom("$0", "$1"),
    stage: fc.constantFrom(
      "set-remote-offer",
      "create-answer",
      "set-local-answer",
      "set-remote-answer",
      "set-remote-candidate",
    ),
    reason: fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue()),
  }, { requiredKeys: ["type", "streamId"] }).map((v) => JSON.stringify(v));
  const join = fc.record({
    type: fc.constantFrom("join-stream", "broadcaster-ready"),
    streamId: fc.constantFrom("s1", "s2", "s3"),
    overlap: fc.boolean(),
    restart: fc.boolean(),
    session: fc.constantFrom("1", "2"),
  }, { requiredKeys: ["type", "streamId"] }).map((v) => JSON.stringify(v));
  return fc.oneof(
    { arbitrary: frame(), weight: 400 },
    { arbitrary: sfu, weight: 60 },
    { arbitrary: bigOffer, weight: 40 },
    { arbitrary: join, weight: 60 },
    { arbitrary: negotiation, weight: 20 },
    { arbitrary: fc.constant(BINARY), weight: 20 },
    { arbitrary: fc.constant(OVERSIZE), weight: 1 },
  );
}
