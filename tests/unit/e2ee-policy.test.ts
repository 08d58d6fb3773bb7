/**
 * The receive policy of the end-to-end encryption worker
 * (components/e2ee/receive-policy.ts), the time passed in.
 */
import assert from "node:assert/strict";
import {
  ANSWER_WITHIN_MS,
  ASK_AGAIN_MS,
  EpochWindow,
  FAILED_AFTER_FRAMES,
  FAILED_AFTER_MS,
  FailureWatch,
  HOLD_FRAMES,
  HOLD_MS,
  HoldQueue,
  KeyRequests,
  OLD_EPOCH_MS,
} from "../../components/e2ee/receive-policy.ts";

Deno.test("the hold queue keeps order and drops the oldest past 90 frames", () => {
  const queue = new HoldQueue<number>();
  for (let i = 0; i < HOLD_FRAMES; i++) {
    assert.deepEqual(queue.push(i, 0), []);
  }
  assert.deepEqual(queue.push(HOLD_FRAMES, 0), [0]);
  assert.equal(queue.size, HOLD_FRAMES);
  assert.equal(queue.peek(), 1);
  assert.equal(queue.shift(), 1);
  assert.equal(queue.shift(), 2);
});

Deno.test("the hold queue lets frames wait 1 s, no longer", () => {
  const queue = new HoldQueue<string>();
  queue.push("a", 0);
  queue.push("b", 400);
  queue.push("c", 900);
  assert.deepEqual(queue.expired(HOLD_MS), []);
  assert.deepEqual(queue.expired(HOLD_MS + 1), ["a"]);
  assert.deepEqual(queue.expired(1_401), ["b"]);
  assert.equal(queue.peek(), "c");
  assert.deepEqual(queue.expired(10_000), ["c"]);
  assert.equal(queue.size, 0);
  assert.equal(queue.peek(), undefined);
});

Deno.test("one key request at a time, each epoch at most every 2 s", () => {
  const requests = new KeyRequests();
  assert.equal(requests.ask(1, 0), true);
  assert.equal(requests.waiting(1, 10), true);
  // Another epoch (a clear frame read as SFrame) waits its turn...
  assert.equal(requests.ask(7, 10), false);
  assert.equal(requests.waiting(7, 10), false);
  // ...and the same epoch is not asked twice while the page is asked.
  assert.equal(requests.ask(1, 20), false);
  requests.answered(1);
  assert.equal(requests.waiting(1, 30), false);
  assert.equal(
    requests.ask(1, 30),
    false,
    "answered without a key: not again at once",
  );
  assert.equal(requests.ask(7, 30), true);
  requests.answered(7);
  assert.equal(requests.ask(1, ASK_AGAIN_MS - 1), false);
  assert.equal(requests.ask(1, ASK_AGAIN_MS), true);
});

Deno.test("a request never answered stops blocking others after 5 s", () => {
  const requests = new KeyRequests();
  assert.equal(requests.ask(3, 0), true);
  assert.equal(requests.ask(4, ANSWER_WITHIN_MS), false);
  assert.equal(requests.waiting(3, ANSWER_WITHIN_MS + 1), false);
  assert.equal(requests.ask(4, ANSWER_WITHIN_MS + 1), true);
  // An answer for an epoch not asked about changes nothing.
  requests.answered(3);
  assert.equal(requests.waiting(4, ANSWER_WITHIN_MS + 2), true);
});

Deno.test("an old epoch stays accepted 10 s after a newer one first decrypts", () => {
  const window = new EpochWindow();
  assert.equal(window.floor(0), 0);
  window.decrypted(0, 0);
  window.decrypted(1, 1_000);
  assert.equal(window.floor(1_000 + OLD_EPOCH_MS - 1), 0);
  // More frames of either epoch do not move the deadline.
  window.decrypted(0, 5_000);
  window.decrypted(1, 6_000);
  assert.equal(window.floor(1_000 + OLD_EPOCH_MS), 1);
  // Never down again.
  window.decrypted(0, 20_000);
  assert.equal(window.floor(100_000), 1);
});

Deno.test("two rotations within the window: every older epoch until 10 s after the newest", () => {
  const window = new EpochWindow();
  window.decrypted(0, 0);
  window.decrypted(1, 1_000);
  window.decrypted(2, 4_000);
  assert.equal(window.floor(4_000 + OLD_EPOCH_MS - 1), 0);
  assert.equal(window.floor(4_000 + OLD_EPOCH_MS), 2);
});

Deno.test("a first epoch above 0 leaves older ones open (nothing decrypted before)", () => {
  const window = new EpochWindow();
  window.decrypted(3, 0);
  assert.equal(window.floor(60_000), 0);
});

Deno.test("cannot decrypt after 30 failed frames in a row", () => {
  const watch = new FailureWatch();
  for (let i = 1; i < FAILED_AFTER_FRAMES; i++) {
    assert.equal(watch.fail(i), false);
  }
  assert.equal(watch.fail(FAILED_AFTER_FRAMES), true);
  assert.equal(watch.failed, true);
  // Said once.
  assert.equal(watch.fail(FAILED_AFTER_FRAMES + 1), false);
  assert.equal(watch.ok(), true);
  assert.equal(watch.failed, false);
  assert.equal(watch.ok(), false);
});

Deno.test("cannot decrypt after 2 s of failures, however few frames", () => {
  const watch = new FailureWatch();
  assert.equal(watch.fail(0), false);
  assert.equal(watch.fail(FAILED_AFTER_MS - 1), false);
  assert.equal(watch.fail(FAILED_AFTER_MS), true);
});

Deno.test("one success starts the count over", () => {
  const watch = new FailureWatch();
  for (let i = 0; i < FAILED_AFTER_FRAMES - 1; i++) watch.fail(i);
  assert.equal(watch.ok(), false);
  assert.equal(watch.fail(100), false);
  assert.equal(watch.fail(100 + FAILED_AFTER_MS - 1), false);
  assert.equal(watch.failed, false);
});
