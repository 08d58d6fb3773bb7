/** The SFU's per-viewer simulcast layer choice (server/sfu/layer-policy.ts). */
import assert from "node:assert/strict";
import { LayerPolicy } from "../../server/sfu/layer-policy.ts";

const OPTIONS = {
  top: 2,
  settleMs: 2_000,
  upAfterMs: 15_000,
  maxUpAfterMs: 60_000,
};

Deno.test("layer policy: starts on the full picture; a lossy link goes down one layer per settle time, not per report", () => {
  const policy = new LayerPolicy(OPTIONS);
  assert.equal(policy.layer, 2);
  assert.equal(policy.tick(0), undefined);
  assert.equal(policy.slow(1_000), 1);
  // Janus repeats the report while the loss lasts: one step per 2 s.
  assert.equal(policy.slow(1_500), undefined);
  assert.equal(policy.slow(2_999), undefined);
  assert.equal(policy.slow(3_000), 0);
  // Nothing below the smallest layer.
  assert.equal(policy.slow(10_000), undefined);
  assert.equal(policy.layer, 0);
});

Deno.test("layer policy: after a quiet while it tries one layer up, and a layer that fails again waits twice as long (up to the cap)", () => {
  const policy = new LayerPolicy(OPTIONS);
  policy.slow(0); // 1
  assert.equal(policy.tick(14_999), undefined);
  assert.equal(policy.tick(15_000), 2);
  // The full picture fails again at once: down, and 30 s before the next try.
  assert.equal(policy.slow(18_000), 1);
  assert.equal(policy.tick(18_000 + 29_999), undefined);
  assert.equal(policy.tick(18_000 + 30_000), 2);
  assert.equal(policy.slow(50_000), 1);
  // 60 s, the cap, not 120 s.
  assert.equal(policy.tick(50_000 + 59_999), undefined);
  assert.equal(policy.tick(50_000 + 60_000), 2);
  // At the top: nothing to try.
  assert.equal(policy.tick(1_000_000), undefined);
});

Deno.test("layer policy: a loss long after going up is not held against that layer", () => {
  const policy = new LayerPolicy(OPTIONS);
  policy.slow(0);
  policy.tick(15_000); // 2
  // 40 s later: the link changed, not the layer's fault.
  assert.equal(policy.slow(55_000), 1);
  assert.equal(policy.tick(55_000 + 15_000), 2);
});
