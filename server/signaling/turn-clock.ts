/**
 * `performance.now()` read once per turn of the event loop instead of once
 * per frame. Reading it is an op call (~0.15 µs on the bench machine, 1.8%
 * of the signaling burst's CPU, bench/RESULTS.md, issue 24), and the frames
 * one turn hands over arrived together: they share the time the turn's
 * first frame read. The reading is forgotten by a microtask queued behind
 * the turn's own, so the next turn reads the clock again.
 *
 * Why not the event's own `timeStamp`: Deno 2.9 leaves it 0 on every event
 * (e232f99 relied on it and always fell back to reading the clock).
 */
let reading: number | undefined;

function forget(): void {
  reading = undefined;
}

/** The time this turn began to be handled, on `performance.now()`'s clock. */
export function turnNow(): number {
  if (reading === undefined) {
    reading = performance.now();
    queueMicrotask(forget);
  }
  return reading;
}
