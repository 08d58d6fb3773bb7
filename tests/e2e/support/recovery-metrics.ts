/**
 * What a fault did to a viewer, read from its reports (lab-pages.ts): how
 * long until steady video after the fault ended, the longest frame gap, how
 * long "live" stood over a frozen picture, how many connections were built.
 */
import type { LabEvent } from "./fault-lab.ts";

/** Frames closer than this are continuous video. */
export const CONTINUOUS_GAP_MS = 250;
/** Continuous video this long is steady. */
export const STEADY_MS = 1_000;

export interface Recovery {
  /** From the end of the fault to the start of steady video (0 if it never stopped). */
  toSteadyMs: number;
  /** The longest time between two frames from the fault's start to steady video. */
  longestGapMs: number;
  /** The longest time the state said `live` while no frame came (gaps over 250 ms). */
  liveOverFrozenMs: number;
  /** RTCPeerConnections created from the fault's start to steady video. */
  connectionsBuilt: number;
  /** The states the element showed from the fault's start to steady video, in order. */
  states: string[];
}

/**
 * The first moment at or after `from` that starts {@link STEADY_MS} of
 * continuous frames, or undefined while there is none yet.
 */
export function steadyFrom(frames: number[], from: number): number | undefined {
  let start: number | undefined;
  let previous: number | undefined;
  for (const t of frames) {
    if (t < from) {
      previous = t;
      continue;
    }
    if (start === undefined) {
      // A run may begin before `from` if video never stopped.
      start = previous !== undefined && t - previous <= CONTINUOUS_GAP_MS
        ? from
        : t;
    } else if (t - previous! > CONTINUOUS_GAP_MS) start = t;
    if (t - start >= STEADY_MS) return start;
    previous = t;
  }
  return undefined;
}

/** The recovery from a fault between `faultStart` and `faultEnd`, once steady; else undefined. */
export function recovery(
  events: LabEvent[],
  faultStart: number,
  faultEnd: number,
): Recovery | undefined {
  const frames = events.filter((e) => e.kind === "frame").map((e) => e.t);
  const steady = steadyFrom(frames, faultEnd);
  if (steady === undefined) return undefined;
  const until = steady + STEADY_MS;
  let longestGapMs = 0;
  let previous = frames.findLast((t) => t < faultStart);
  let liveOverFrozenMs = 0;
  for (const t of frames) {
    if (t < faultStart || t > until) continue;
    if (previous !== undefined) {
      const gap = t - previous;
      longestGapMs = Math.max(longestGapMs, gap);
      if (gap > CONTINUOUS_GAP_MS) {
        liveOverFrozenMs = Math.max(
          liveOverFrozenMs,
          liveDuring(events, previous, t),
        );
      }
    }
    previous = t;
  }
  return {
    toSteadyMs: Math.max(0, steady - faultEnd),
    longestGapMs,
    liveOverFrozenMs,
    connectionsBuilt:
      events.filter((e) => e.kind === "pc" && e.t >= faultStart && e.t <= until)
        .length,
    states: events.filter((e) =>
      e.kind === "state" && e.t >= faultStart && e.t <= until
    ).map((e) => e.state!),
  };
}

/** How long after `from` (up to `to`) the state stayed `live`. */
function liveDuring(events: LabEvent[], from: number, to: number): number {
  let state: string | undefined;
  for (const e of events) {
    if (e.kind !== "state") continue;
    if (e.t <= from) state = e.state;
    else if (e.t < to) return state === "live" ? e.t - from : 0;
  }
  return state === "live" ? to - from : 0;
}
