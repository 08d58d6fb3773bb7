/** Every state of `<live-viewer>` as a pure function of its facts. */
import assert from "node:assert/strict";
import {
  INITIAL_VIEWER_FACTS,
  type ViewerFacts,
  type ViewerState,
  viewerState,
} from "../../components/state/viewer-state.ts";

/** A viewer on the page with a stream id, its socket open. */
const OPEN: ViewerFacts = {
  ...INITIAL_VIEWER_FACTS,
  hasStreamId: true,
  signaling: "open",
  everOpen: true,
};

const CASES: [string, Partial<ViewerFacts>, ViewerState][] = [
  ["no stream id", { hasStreamId: false }, "idle"],
  ["no stream id beats everything but a failure", {
    hasStreamId: false,
    media: "connected",
    hasStream: true,
    frames: "flowing",
  }, "idle"],
  ["a failure beats everything", {
    failure: "stream-full",
    media: "connected",
    hasStream: true,
    frames: "flowing",
  }, "error"],
  ["a failure without a stream id", {
    hasStreamId: false,
    failure: "token-expired",
  }, "error"],
  ["first connection under way", {
    signaling: "connecting",
    everOpen: false,
  }, "connecting"],
  ["never reached the server, retrying", {
    signaling: "waiting",
    everOpen: false,
  }, "connecting"],
  ["lost the server after being connected", {
    signaling: "waiting",
    everOpen: true,
  }, "reconnecting"],
  ["connecting again after being connected", {
    signaling: "connecting",
    everOpen: true,
  }, "reconnecting"],
  ["open, join not answered yet", { presence: "unknown" }, "connecting"],
  ["joined, no broadcaster yet", { presence: "waiting" }, "waiting"],
  ["the broadcaster left", { presence: "left" }, "ended"],
  ["broadcaster there, no connection yet", {
    presence: "present",
  }, "negotiating"],
  ["broadcaster there, connection checking", {
    presence: "present",
    media: "connecting",
  }, "negotiating"],
  ["connected but no media stream yet", {
    presence: "present",
    media: "connected",
  }, "negotiating"],
  ["connected with a stream, no frame yet", {
    presence: "present",
    media: "connected",
    hasStream: true,
  }, "negotiating"],
  ["connected with a stream, frames arriving", {
    presence: "present",
    media: "connected",
    hasStream: true,
    frames: "flowing",
  }, "live"],
  ["frames stopped while the connection says connected", {
    presence: "present",
    media: "connected",
    hasStream: true,
    frames: "stalled",
  }, "reconnecting"],
  ["frames stopped while the server says not live (a restart)", {
    presence: "waiting",
    media: "connected",
    hasStream: true,
    frames: "stalled",
  }, "reconnecting"],
  ["frames still arrive while the server says not live (a restart)", {
    presence: "waiting",
    media: "connected",
    hasStream: true,
    frames: "flowing",
  }, "live"],
  ["video flows while the socket is down", {
    signaling: "waiting",
    presence: "unknown",
    media: "connected",
    hasStream: true,
    frames: "flowing",
  }, "live"],
  ["video flows while the first socket is still connecting", {
    signaling: "connecting",
    everOpen: false,
    media: "connected",
    hasStream: true,
    frames: "flowing",
  }, "live"],
  ["frames flow on a path ICE calls disconnected", {
    presence: "present",
    media: "disconnected",
    hasStream: true,
    frames: "flowing",
  }, "live"],
  ["connection failed", {
    presence: "present",
    media: "failed",
    hasStream: true,
  }, "reconnecting"],
  ["connection disconnected", {
    presence: "present",
    media: "disconnected",
    hasStream: true,
  }, "reconnecting"],
  ["connection closed, broadcaster still there", {
    presence: "present",
    media: "closed",
  }, "negotiating"],
  ["connection failed after the broadcaster left", {
    presence: "left",
    media: "failed",
  }, "ended"],
  ["no key for an encrypted stream (stream-encrypted)", {
    presence: "present",
    sealed: true,
  }, "cannot-decrypt"],
  ["frames do not decrypt with this key", {
    presence: "present",
    media: "connected",
    hasStream: true,
    undecryptable: true,
  }, "cannot-decrypt"],
  ["frames stopped decrypting (a rotation whose key never came)", {
    presence: "present",
    media: "connected",
    hasStream: true,
    frames: "stalled",
    undecryptable: true,
  }, "cannot-decrypt"],
  ["a frame decrypted again and shows", {
    presence: "present",
    media: "connected",
    hasStream: true,
    frames: "flowing",
    undecryptable: true,
  }, "live"],
  ["cannot decrypt, then the broadcaster left", {
    presence: "left",
    undecryptable: true,
  }, "ended"],
  ["no key for the stream, then the socket dropped", {
    signaling: "waiting",
    presence: "unknown",
    sealed: true,
  }, "reconnecting"],
  ["a failure beats cannot-decrypt", {
    presence: "present",
    undecryptable: true,
    failure: "e2ee-key-invalid",
  }, "error"],
];

for (const [name, patch, expected] of CASES) {
  Deno.test(`viewer: ${name} -> ${expected}`, () => {
    assert.equal(viewerState({ ...OPEN, ...patch }), expected);
  });
}

Deno.test("viewer: the initial facts are idle", () => {
  assert.equal(viewerState(INITIAL_VIEWER_FACTS), "idle");
});

Deno.test("viewer: every state is reachable", () => {
  const reached = new Set(
    CASES.map(([, patch]) => viewerState({ ...OPEN, ...patch })),
  );
  const all: ViewerState[] = [
    "idle",
    "connecting",
    "waiting",
    "negotiating",
    "live",
    "reconnecting",
    "ended",
    "cannot-decrypt",
    "error",
  ];
  assert.deepEqual([...reached].sort(), [...all].sort());
});
