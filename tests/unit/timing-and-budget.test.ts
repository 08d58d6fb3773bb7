/** Backoff, the upload budget and token expiry: arithmetic with edges. */
import assert from "node:assert/strict";
import {
  backoffDelay,
  DEFAULT_BACKOFF,
} from "../../components/session/backoff.ts";
import {
  DEFAULT_BUDGET,
  perViewerBitrate,
} from "../../components/media/bitrate-budget.ts";

Deno.test("backoff: the cap doubles per attempt up to maxMs", () => {
  const top = () => 1;
  assert.equal(backoffDelay(0, DEFAULT_BACKOFF, top), 500);
  assert.equal(backoffDelay(1, DEFAULT_BACKOFF, top), 1_000);
  assert.equal(backoffDelay(4, DEFAULT_BACKOFF, top), 8_000);
  assert.equal(backoffDelay(5, DEFAULT_BACKOFF, top), 15_000);
  assert.equal(backoffDelay(60, DEFAULT_BACKOFF, top), 15_000);
});

Deno.test("backoff: full jitter from the floor to the cap", () => {
  assert.equal(backoffDelay(3, DEFAULT_BACKOFF, () => 0), 50);
  assert.equal(backoffDelay(3, DEFAULT_BACKOFF, () => 0.5), 2_000);
  for (let attempt = 0; attempt < 20; attempt++) {
    const delay = backoffDelay(attempt);
    assert.ok(delay >= 50 && delay <= DEFAULT_BACKOFF.maxMs, String(delay));
  }
});

Deno.test("budget: the total divided among viewers, within floor and ceiling", () => {
  assert.equal(perViewerBitrate(0), 1_500_000); // no viewers counts as one
  assert.equal(perViewerBitrate(1), 1_500_000); // ceiling
  assert.equal(perViewerBitrate(2), 1_500_000);
  assert.equal(perViewerBitrate(3), 1_333_333);
  assert.equal(perViewerBitrate(4), 1_000_000);
  assert.equal(perViewerBitrate(10), 400_000);
  assert.equal(perViewerBitrate(26), 153_846);
  assert.equal(perViewerBitrate(100), 150_000); // floor
});

Deno.test("budget: a configured total", () => {
  const budget = { ...DEFAULT_BUDGET, totalKbps: 1_000 };
  assert.equal(perViewerBitrate(1, budget), 1_000_000);
  assert.equal(perViewerBitrate(5, budget), 200_000);
  assert.equal(perViewerBitrate(8, budget), 150_000);
});
