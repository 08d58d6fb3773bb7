/**
 * The rate buckets' clock (server/signaling/turn-clock.ts): one reading per
 * turn of the event loop, read again in the next one.
 */
import assert from "node:assert/strict";
import { turnNow } from "../../server/signaling/turn-clock.ts";

/** Spins until `performance.now()` has moved past `after`. */
function clockPast(after: number): void {
  while (performance.now() <= after) { /* a few microseconds */ }
}

Deno.test("turnNow: one reading for a whole turn, however long it takes", () => {
  const first = turnNow();
  clockPast(first);
  assert.equal(turnNow(), first);
  assert.ok(performance.now() > first);
});

Deno.test("turnNow: the next turn reads the clock again", async () => {
  const first = turnNow();
  clockPast(first);
  // Behind the microtask that forgets the reading.
  await null;
  const second = turnNow();
  assert.ok(second > first, `${second} after ${first}`);
  clockPast(second);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.ok(turnNow() > second);
});
