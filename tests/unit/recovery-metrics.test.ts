/** The fault lab's arithmetic: steady video, gaps, live over a frozen picture. */
import assert from "node:assert/strict";
import type { LabEvent } from "../e2e/support/fault-lab.ts";
import { recovery, steadyFrom } from "../e2e/support/recovery-metrics.ts";

/** Frames every `step` ms from `from` to `to`. */
function frames(from: number, to: number, step = 33): number[] {
  const out: number[] = [];
  for (let t = from; t <= to; t += step) out.push(t);
  return out;
}

const asEvents = (times: number[]): LabEvent[] =>
  times.map((t) => ({ t, kind: "frame" }));

Deno.test("steadyFrom: video that never stopped is steady from the moment asked", () => {
  assert.equal(steadyFrom(frames(0, 5_000), 2_000), 2_000);
});

Deno.test("steadyFrom: after a gap, from the first frame of a 1 s run", () => {
  const times = [
    ...frames(0, 1_000),
    ...frames(4_000, 4_300),
    ...frames(4_700, 7_000),
  ];
  assert.equal(steadyFrom(times, 2_000), 4_700);
  assert.equal(steadyFrom(frames(0, 900), 0), undefined);
});

Deno.test("recovery: time to steady after the fault, longest gap, connections built, states shown", () => {
  const events: LabEvent[] = [
    { t: 0, kind: "state", state: "live" },
    ...asEvents(frames(0, 2_000)),
    // The fault from 2,000 to 12,000; frames stop at 2,000 and resume at 13,000.
    { t: 3_700, kind: "state", state: "reconnecting" },
    { t: 12_500, kind: "pc" },
    ...asEvents(frames(13_000, 15_000)),
    { t: 13_010, kind: "state", state: "live" },
  ];
  const result = recovery(events, 2_000, 12_000)!;
  assert.equal(result.toSteadyMs, 1_000);
  // The last frame before the fault (1,980) to the first after (13,000).
  assert.equal(result.longestGapMs, 11_020);
  // Frozen from the last frame (~1,980) until "reconnecting" at 3,700.
  assert.ok(
    result.liveOverFrozenMs >= 1_700 && result.liveOverFrozenMs <= 1_730,
    String(result.liveOverFrozenMs),
  );
  assert.equal(result.connectionsBuilt, 1);
  // The one before the fault is not among them.
  assert.deepEqual(result.states, ["reconnecting", "live"]);
});

Deno.test("recovery: undefined until video is steady again", () => {
  const events = asEvents([...frames(0, 2_000), ...frames(13_000, 13_500)]);
  assert.equal(recovery(events, 2_000, 12_000), undefined);
});
