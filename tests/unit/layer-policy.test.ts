/** One viewer's layer step timing (server/sfu/layer-policy.ts). */
import assert from "node:assert/strict";
import {
  DEFAULT_LAYER_LIMITS,
  LayerPolicy,
} from "../../server/sfu/layer-policy.ts";

const LIMITS = {
  ...DEFAULT_LAYER_LIMITS,
  settleMs: 2_000,
  upAfterMs: 15_000,
  maxUpAfterMs: 60_000,
};

Deno.test("layer policy: a step down at most once per settle time; a step up in between does not hold one back", () => {
  const policy = new LayerPolicy(LIMITS);
  assert.ok(policy.canStepDown(0));
  policy.stepped(1_000, false);
  assert.ok(!policy.canStepDown(1_500));
  assert.ok(!policy.canStepDown(2_999));
  assert.ok(policy.canStepDown(3_000));
  policy.stepped(20_000, true);
  assert.ok(policy.canStepDown(20_001));
});

Deno.test("layer policy: quiet means no step and no loss: a loss reported where there is no layer below puts the step up off", () => {
  const policy = new LayerPolicy(LIMITS);
  policy.stepped(0, false);
  policy.lost(10_000);
  assert.equal(policy.upAt, 25_000);
  policy.lost(20_000);
  assert.equal(policy.upAt, 35_000);
});

Deno.test("layer policy: a step up after a quiet while; a layer that fails again at once waits twice as long, up to the cap", () => {
  const policy = new LayerPolicy(LIMITS);
  policy.stepped(0, false);
  assert.equal(policy.upAt, 15_000);
  policy.stepped(15_000, true);
  // Fails again at once: 30 s before the next try.
  policy.stepped(18_000, false);
  assert.equal(policy.upAt, 18_000 + 30_000);
  policy.stepped(48_000, true);
  policy.stepped(50_000, false);
  // 60 s, the cap, not 120 s.
  assert.equal(policy.upAt, 50_000 + 60_000);
});

Deno.test("layer policy: a loss long after going up is not held against that layer", () => {
  const policy = new LayerPolicy(LIMITS);
  policy.stepped(0, false);
  policy.stepped(15_000, true);
  // 40 s later: the link changed, not the layer's fault.
  policy.stepped(55_000, false);
  assert.equal(policy.upAt, 55_000 + 15_000);
});
