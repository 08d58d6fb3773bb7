/**
 * The one place each element's state changes: publish, fire, log. And the
 * viewer's and broadcaster's machines walked through what a page lives
 * through, transition by transition.
 */
import assert from "node:assert/strict";
import {
  type BroadcasterFacts,
  broadcasterState,
  INITIAL_BROADCASTER_FACTS,
} from "../../components/state/broadcaster-state.ts";
import type { LiveStateChangeEvent } from "../../components/live-events.ts";
import { StateMachine } from "../../components/state/state-machine.ts";
import {
  INITIAL_VIEWER_FACTS,
  type ViewerFacts,
  viewerState,
} from "../../components/state/viewer-state.ts";

/** Enough of an element for the machine: attribute, events, a tag name. */
class FakeElement extends EventTarget {
  readonly localName: string;
  readonly attributes = new Map<string, string>();
  constructor(localName: string) {
    super();
    this.localName = localName;
  }
  attachInternals(): never {
    throw new Error("no ElementInternals here");
  }
  getAttribute(name: string): string | null {
    return this.attributes.get(name) ?? null;
  }
  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
  }
}

/** Runs `steps` through a machine; returns each step's published state and the debug log. */
function walk<F, S extends string>(
  tag: string,
  initial: F,
  derive: (facts: F) => S,
  steps: [Partial<F>, string][],
) {
  const element = new FakeElement(tag);
  const machine = new StateMachine(
    element as unknown as HTMLElement,
    initial,
    derive,
  );
  const events: string[] = [];
  element.addEventListener("live-state-change", (event) => {
    const { previous, state } = event as LiveStateChangeEvent;
    events.push(`${previous}>${state}`);
  });
  const logged: string[] = [];
  const debug = console.debug;
  console.debug = (line: string) => logged.push(line);
  const states: string[] = [];
  try {
    for (const [patch, reason] of steps) {
      machine.apply(patch, reason);
      states.push(machine.state);
      assert.equal(element.getAttribute("state"), machine.state);
    }
  } finally {
    console.debug = debug;
  }
  return { states, events, logged, machine };
}

Deno.test("apply: returns the previous state on a change, nothing otherwise", () => {
  const element = new FakeElement("live-viewer");
  const machine = new StateMachine(
    element as unknown as HTMLElement,
    INITIAL_VIEWER_FACTS,
    viewerState,
  );
  const debug = console.debug;
  console.debug = () => {};
  try {
    // The first apply writes the attribute, though the state is the same.
    assert.equal(machine.apply({}, "on the page"), undefined);
    assert.equal(element.getAttribute("state"), "idle");
    assert.equal(
      machine.apply({ hasStreamId: true, signaling: "connecting" }, "open"),
      "idle",
    );
    assert.equal(
      machine.apply({ signaling: "connecting" }, "again"),
      undefined,
    );
    assert.equal(machine.facts.signaling, "connecting");
  } finally {
    console.debug = debug;
  }
});

Deno.test("viewer: joins, waits, plays, survives a socket drop, pauses, plays again", () => {
  const steps: [Partial<ViewerFacts>, string][] = [
    [{ hasStreamId: true }, "stream changed"],
    [{ signaling: "connecting" }, "signaling connecting"],
    [{ signaling: "open", everOpen: true }, "signaling open"],
    [{ presence: "waiting" }, "joined, not live yet"],
    [{ presence: "present" }, "broadcaster joined"],
    [{ media: "connecting" }, "connection connecting"],
    [{ hasStream: true }, "video arrived"],
    [{ media: "connected" }, "connection connected"],
    [{ frames: "flowing" }, "frames flowing"],
    [{ signaling: "waiting", presence: "unknown" }, "signaling waiting"],
    [{ signaling: "open" }, "signaling open"],
    [{ presence: "present" }, "joined, live"],
    [{ frames: "stalled" }, "frames stalled"],
    [{ frames: "flowing" }, "frames flowing"],
    [{ presence: "left" }, "broadcaster left"],
    [
      { media: "closed", hasStream: false, frames: "none" },
      "connection closed",
    ],
    [{ presence: "present" }, "offer received"],
    [{ media: "connected", hasStream: true }, "connection connected"],
    [{ frames: "flowing" }, "frames flowing"],
    [{ media: "disconnected", frames: "stalled" }, "connection disconnected"],
    [{ media: "connected" }, "connection connected"],
    [{ frames: "flowing" }, "frames flowing"],
  ];
  const { states, events, logged } = walk(
    "live-viewer",
    INITIAL_VIEWER_FACTS,
    viewerState,
    steps,
  );
  assert.deepEqual(states, [
    "connecting",
    "connecting",
    "connecting",
    "waiting",
    "negotiating",
    "negotiating",
    "negotiating",
    // Connected is not live: the first frame is.
    "negotiating",
    "live",
    "live",
    "live",
    "live",
    "reconnecting",
    "live",
    "live",
    "ended",
    "negotiating",
    "negotiating",
    "live",
    "reconnecting",
    "reconnecting",
    "live",
  ]);
  assert.deepEqual(events, [
    "idle>connecting",
    "connecting>waiting",
    "waiting>negotiating",
    "negotiating>live",
    "live>reconnecting",
    "reconnecting>live",
    "live>ended",
    "ended>negotiating",
    "negotiating>live",
    "live>reconnecting",
    "reconnecting>live",
  ]);
  assert.equal(logged[0], "live-viewer: idle -> connecting (stream changed)");
  assert.equal(logged[3], "live-viewer: negotiating -> live (frames flowing)");
  assert.equal(
    logged[4],
    "live-viewer: live -> reconnecting (frames stalled)",
  );
  assert.equal(logged.length, events.length);
});

Deno.test("viewer: a fatal refusal is the error state until another stream", () => {
  const { states } = walk("live-viewer", INITIAL_VIEWER_FACTS, viewerState, [
    [{ hasStreamId: true, signaling: "open", everOpen: true }, "open"],
    [{ failure: "token-wrong-stream" }, "token-wrong-stream"],
    [{ signaling: "closed" }, "signaling closed"],
    [{ ...INITIAL_VIEWER_FACTS, hasStreamId: true }, "stream changed"],
  ]);
  assert.deepEqual(states, ["connecting", "error", "error", "connecting"]);
});

Deno.test("broadcaster: camera, connect, live, drop, back, stop", () => {
  const steps: [Partial<BroadcasterFacts>, string][] = [
    [{ intent: "capturing" }, "start"],
    [{ intent: "broadcasting" }, "camera started"],
    [{ refusal: "signaling-unavailable" }, "signaling-unavailable"],
    [{ refusal: undefined }, "signaling open"],
    [{ accepted: true, everAccepted: true }, "accepted"],
    [{ accepted: false }, "signaling waiting"],
    [{ accepted: true }, "accepted"],
    [{ refusal: "turn-auth-failed" }, "turn-auth-failed"],
    [{ refusal: undefined }, "retry"],
    [INITIAL_BROADCASTER_FACTS, "stopped"],
  ];
  const { states, events, logged } = walk(
    "live-broadcaster",
    INITIAL_BROADCASTER_FACTS,
    broadcasterState,
    steps,
  );
  assert.deepEqual(states, [
    "starting-camera",
    "connecting",
    "error",
    "connecting",
    "live",
    "reconnecting",
    "live",
    "error",
    "live",
    "idle",
  ]);
  assert.equal(events.length, 10);
  assert.equal(
    logged[2],
    "live-broadcaster: connecting -> error (signaling-unavailable)",
  );
});

Deno.test("broadcaster: a camera failure is the error state; start clears it", () => {
  const { states } = walk(
    "live-broadcaster",
    INITIAL_BROADCASTER_FACTS,
    broadcasterState,
    [
      [{ intent: "capturing" }, "start"],
      [{ ...INITIAL_BROADCASTER_FACTS, failure: "permission-denied" }, "fail"],
      [{ intent: "capturing", failure: undefined }, "start"],
    ],
  );
  assert.deepEqual(states, ["starting-camera", "error", "starting-camera"]);
});
