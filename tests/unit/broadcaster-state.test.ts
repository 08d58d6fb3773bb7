/** Every state of `<live-broadcaster>` as a pure function of its facts. */
import assert from "node:assert/strict";
import {
  broadcasterError,
  type BroadcasterFacts,
  type BroadcasterState,
  broadcasterState,
  INITIAL_BROADCASTER_FACTS,
} from "../../components/state/broadcaster-state.ts";
import type { LiveErrorCode } from "../../components/session/error-policy.ts";

const BROADCASTING: BroadcasterFacts = {
  ...INITIAL_BROADCASTER_FACTS,
  intent: "broadcasting",
};

const CASES: [
  string,
  Partial<BroadcasterFacts>,
  BroadcasterState,
  LiveErrorCode | undefined,
][] = [
  ["stopped", { intent: "stopped" }, "idle", undefined],
  [
    "the camera is opening",
    { intent: "capturing" },
    "starting-camera",
    undefined,
  ],
  ["camera open, not yet accepted", {}, "connecting", undefined],
  ["accepted", { accepted: true, everAccepted: true }, "live", undefined],
  [
    "lost the server after being live",
    {
      accepted: false,
      everAccepted: true,
    },
    "reconnecting",
    undefined,
  ],
  [
    "never reached the server",
    {
      refusal: "signaling-unavailable",
    },
    "error",
    "signaling-unavailable",
  ],
  [
    "the stream is taken (retrying)",
    {
      refusal: "stream-taken",
    },
    "error",
    "stream-taken",
  ],
  [
    "too many attempts from this network",
    {
      refusal: "join-rate-limited",
      everAccepted: true,
    },
    "error",
    "join-rate-limited",
  ],
  [
    "TURN refused on a relay-only connection, while accepted",
    {
      refusal: "turn-auth-failed",
      accepted: true,
      everAccepted: true,
    },
    "error",
    "turn-auth-failed",
  ],
  [
    "camera refused (stopped, failure kept)",
    {
      intent: "stopped",
      failure: "permission-denied",
    },
    "error",
    "permission-denied",
  ],
  [
    "replaced by our own newer session",
    {
      intent: "stopped",
      failure: "replaced",
    },
    "error",
    "replaced",
  ],
  [
    "a failure beats a refusal",
    {
      failure: "invalid-stream-id",
      refusal: "stream-taken",
    },
    "error",
    "invalid-stream-id",
  ],
  [
    "a failure beats being accepted",
    {
      failure: "token-expired",
      accepted: true,
    },
    "error",
    "token-expired",
  ],
  [
    "a refusal while the camera opens is not shown yet",
    {
      intent: "capturing",
      refusal: "stream-taken",
    },
    "starting-camera",
    undefined,
  ],
];

for (const [name, patch, state, error] of CASES) {
  Deno.test(`broadcaster: ${name} -> ${state}`, () => {
    const facts = { ...BROADCASTING, ...patch };
    assert.equal(broadcasterState(facts), state);
    assert.equal(broadcasterError(facts), error);
  });
}

Deno.test("broadcaster: the initial facts are idle", () => {
  assert.equal(broadcasterState(INITIAL_BROADCASTER_FACTS), "idle");
});

Deno.test("broadcaster: every state is reachable", () => {
  const reached = new Set(CASES.map(([, , state]) => state));
  assert.deepEqual([...reached].sort(), [
    "connecting",
    "error",
    "idle",
    "live",
    "reconnecting",
    "starting-camera",
  ]);
});
