/**
 * One stream's simulcast layers through the SFU (server/sfu/stream-layers.ts),
 * a pure state machine: times are passed in, effects come back. What Janus
 * and the browsers really do: tests/e2e/sfu-layers.test.ts.
 */
import assert from "node:assert/strict";
import {
  DEFAULT_LAYER_LIMITS,
  type LayerLimits,
} from "../../server/sfu/layer-policy.ts";
import {
  type LayerEffect,
  simulcastRids,
  StreamLayers,
} from "../../server/sfu/stream-layers.ts";

const RIDS = ["l", "m", "h"];
const LIMITS: LayerLimits = { ...DEFAULT_LAYER_LIMITS };

/** Layers of `rids` with jitter drawn as `random` (0: none). */
function layers(
  limits: Partial<LayerLimits> = {},
  random = () => 0,
  rids = RIDS,
) {
  const stream = new StreamLayers({ ...LIMITS, ...limits }, random);
  stream.published(rids);
  return stream;
}

const sets = (effects: LayerEffect[]) =>
  effects.filter((e) => e.kind === "set").map((e) =>
    e.kind === "set" && `${e.viewerId} ${e.layer} ${e.cause}`
  );
const wants = (effects: LayerEffect[]) =>
  effects.filter((e) => e.kind === "want").map((e) =>
    e.kind === "want" && e.rids.join(",")
  );

/** Viewers `ids` on the top layer, as Janus confirms them. */
function onTop(stream: StreamLayers, ids: string[], now: number) {
  for (const id of ids) stream.confirmed(id, stream.top, now);
}

Deno.test("stream layers: the offer's rids, smallest first; a publish sends every one; no simulcast, nothing to choose", () => {
  const sdp = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n" +
    "a=rid:h send\r\na=rid:m send\r\na=rid:l send\r\n" +
    "a=simulcast:send h;m;~l\r\n";
  assert.deepEqual(simulcastRids(sdp), ["l", "m", "h"]);
  assert.deepEqual(simulcastRids("a=simulcast:send q,r;f\r\n"), ["f", "q"]);
  assert.deepEqual(simulcastRids("v=0\r\nm=video 9 RTP 96\r\n"), []);
  const stream = layers();
  assert.deepEqual(stream.wanted, ["l", "m", "h"]);
  stream.published(["h"]);
  assert.equal(stream.top, -1);
  assert.deepEqual(stream.slow("v1", 0), []);
  assert.deepEqual(stream.tick(10_000), []);
});

Deno.test("stream layers: a lossy viewer goes one layer down per settle time, after its jitter; the others stay", () => {
  const stream = layers({}, () => 0.5);
  onTop(stream, ["v1", "v2"], 0);
  // Due after half of jitterMs (125 ms).
  assert.deepEqual(sets(stream.slow("v1", 1_000)), []);
  assert.equal(stream.nextDue(1_000), 1_125);
  assert.deepEqual(sets(stream.tick(1_125)), ["v1 1 slow"]);
  assert.deepEqual(
    stream.confirmed("v1", 1, 1_300)[0],
    { kind: "confirmed", viewerId: "v1", layer: 1, afterMs: 175 },
  );
  // Janus repeats the report while the loss lasts: one step per 2 s.
  assert.deepEqual(sets(stream.slow("v1", 1_500)), []);
  assert.deepEqual(sets(stream.tick(2_000)), []);
  stream.slow("v1", 3_125);
  assert.deepEqual(sets(stream.tick(3_250)), ["v1 0 slow"]);
  stream.confirmed("v1", 0, 3_400);
  // Nothing below the smallest.
  stream.slow("v1", 6_000);
  assert.deepEqual(sets(stream.tick(7_000)), []);
  assert.equal(stream.layerOf("v2"), 2);
});

Deno.test("stream layers: after a quiet while one layer up (plus its own jitter); a layer that fails again at once waits twice as long", () => {
  const stream = layers({ upJitterMs: 4_000 }, () => 0.25);
  onTop(stream, ["v1"], 0);
  // Its step down after a quarter of jitterMs (62.5 ms).
  assert.deepEqual(sets(stream.slow("v1", 0)), []);
  assert.deepEqual(sets(stream.tick(63)), ["v1 1 slow"]);
  stream.confirmed("v1", 1, 100);
  // 15 s quiet plus 1 s of its jitter.
  assert.deepEqual(sets(stream.tick(16_062)), []);
  assert.deepEqual(sets(stream.tick(16_063)), ["v1 2 quiet"]);
  stream.confirmed("v1", 2, 16_200);
  // The full picture fails again at once: down, and 30 s before the next try.
  stream.slow("v1", 17_000);
  assert.deepEqual(sets(stream.tick(17_063)), ["v1 1 slow"]);
  stream.confirmed("v1", 1, 17_200);
  assert.deepEqual(sets(stream.tick(17_063 + 31_000 - 1)), []);
  assert.deepEqual(sets(stream.tick(17_063 + 31_000)), ["v1 2 quiet"]);
});

Deno.test("stream layers: a stream of two layers (Chromium at 640x480): a lossy viewer never asked for a third", () => {
  const stream = layers({}, () => 0, ["m", "h"]);
  onTop(stream, ["v1"], 0);
  assert.deepEqual(sets(stream.slow("v1", 2_000)), ["v1 0 slow"]);
  stream.confirmed("v1", 0, 2_100);
  // Still lossy, for a minute: there is no smaller layer.
  for (let t = 5_000; t < 60_000; t += 1_000) {
    const effects = [...stream.slow("v1", t), ...stream.tick(t + 500)];
    assert.deepEqual(sets(effects), [], `at ${t}`);
  }
});

Deno.test("stream layers: dynacast: viewers all on the top layer: the others are paused once unneeded for pauseAfterMs; a lossy viewer's layer is asked for again with its switch", () => {
  const stream = layers();
  const viewers = ["v1", "v2", "v3", "v4", "v5", "v6"];
  onTop(stream, viewers, 1_000);
  assert.equal(stream.nextDue(1_000), 1_000 + 5_000);
  assert.deepEqual(wants(stream.tick(5_999)), []);
  assert.deepEqual(wants(stream.tick(6_000)), ["h"]);
  assert.deepEqual(stream.wanted, ["h"]);
  // v1's link loses packets: m is wanted again in the same step.
  const effects = stream.slow("v1", 8_000);
  assert.deepEqual(wants(effects), ["m,h"]);
  assert.deepEqual(sets(effects), ["v1 1 slow"]);
  // Janus has not switched it within confirmMs: a keyframe is asked
  // (Janus switches on one).
  assert.deepEqual(
    stream.tick(9_000).filter((e) => e.kind === "keyframe"),
    [{ kind: "keyframe", layer: 1 }],
  );
  stream.confirmed("v1", 1, 9_200);
  // Back up after the quiet while: m unneeded, paused 5 s later.
  assert.deepEqual(sets(stream.tick(8_000 + 15_000)), ["v1 2 quiet"]);
  stream.confirmed("v1", 2, 23_100);
  assert.deepEqual(wants(stream.tick(23_100 + 4_999)), []);
  assert.deepEqual(wants(stream.tick(23_100 + 5_000)), ["h"]);
});

Deno.test("stream layers: a step down to a paused layer is asked of Janus at once, with the layer's resumption (Janus switches on the keyframe it starts with); to a layer sent, after its jitter", () => {
  const stream = layers({}, () => 0.99);
  onTop(stream, ["v1", "v2"], 0);
  stream.tick(5_000);
  assert.deepEqual(stream.wanted, ["h"]);
  // m is paused: asked of Janus in the same step as of the broadcaster.
  const effects = stream.slow("v1", 6_000);
  assert.deepEqual(wants(effects), ["m,h"]);
  assert.deepEqual(sets(effects), ["v1 1 slow"]);
  assert.deepEqual(effects.map((e) => e.kind), ["set", "want"]);
  stream.confirmed("v1", 1, 6_100);
  // m is sent now: v2's step down waits out its jitter (spreading viewers
  // lowered together), as every step to a layer sent does.
  assert.deepEqual(sets(stream.slow("v2", 6_200)), []);
  assert.deepEqual(sets(stream.tick(6_200 + 246)), []);
  assert.deepEqual(sets(stream.tick(6_200 + 248)), ["v2 1 slow"]);
});

Deno.test("stream layers: a layer held by a viewer moving to it, or still on it, is not paused", () => {
  const stream = layers();
  onTop(stream, ["v1", "v2"], 0);
  stream.slow("v1", 0);
  // v1 asked for m, Janus not there yet: l is paused, m and h stay.
  assert.deepEqual(wants(stream.tick(5_000)), ["m,h"]);
  stream.confirmed("v1", 1, 5_100);
  stream.slow("v1", 6_000);
  // On its way to l, it still gets m: both sent.
  assert.deepEqual(stream.wanted, ["l", "m", "h"]);
  assert.deepEqual(wants(stream.tick(20_000)), []);
});

Deno.test("stream layers: at most switchesPerSecond switches per stream; a step down that waited past settleMs is dropped", () => {
  const stream = layers({ switchesPerSecond: 10 });
  const viewers = Array.from({ length: 100 }, (_, i) => `v${i}`);
  onTop(stream, viewers, 0);
  // Janus switches each one at once.
  const confirm = (effects: LayerEffect[], t: number) => {
    for (const e of effects) {
      if (e.kind === "set") stream.confirmed(e.viewerId, e.layer, t);
    }
    return sets(effects).length;
  };
  // Every viewer loses packets at once (the machine overloaded).
  let first = 0;
  for (const id of viewers) first += confirm(stream.slow(id, 1_000), 1_000);
  // One at once, then one every 100 ms: at most 11 in any second.
  assert.equal(first, 1);
  const switched: number[] = [];
  for (let t = 1_050; t <= 4_000; t += 50) {
    switched.push(confirm(stream.tick(t), t));
  }
  assert.ok(switched.every((n) => n <= 1), String(switched));
  for (let i = 0; i + 20 <= switched.length; i++) {
    const inOneSecond = switched.slice(i, i + 20).reduce((a, b) => a + b, 0);
    assert.ok(inOneSecond <= 10, `${inOneSecond} from ${1_050 + i * 50}`);
  }
  // Dropped once 2 s old: 1 + 20, not 100.
  assert.equal(first + switched.reduce((a, b) => a + b, 0), 21);
  // Nothing left waiting but the steps up.
  for (let t = 4_000; t < 15_000; t += 500) {
    assert.deepEqual(sets(stream.tick(t)), [], `at ${t}`);
  }
});

Deno.test("stream layers: jitter spreads the steps of viewers lowered together", () => {
  let seed = 0;
  const random = () => (seed++ % 20) / 20;
  const stream = layers({ jitterMs: 1_000, switchesPerSecond: 1_000 }, random);
  const viewers = Array.from({ length: 20 }, (_, i) => `v${i}`);
  onTop(stream, viewers, 0);
  const at = new Set<number>();
  for (const id of viewers) {
    if (sets(stream.slow(id, 0)).length > 0) at.add(0);
  }
  for (let t = 50; t <= 1_000; t += 50) {
    if (sets(stream.tick(t)).length > 0) at.add(t);
  }
  assert.ok(at.size >= 10, `switches at ${[...at]}`);
});

Deno.test("stream layers: a layer Janus never switches to (two keyframes asked) is taken not to arrive, and not used again for missingForMs, doubling", () => {
  const stream = layers();
  onTop(stream, ["v1", "v2"], 0);
  stream.slow("v1", 0);
  stream.confirmed("v1", 1, 100);
  assert.deepEqual(sets(stream.slow("v1", 2_000)), ["v1 0 slow"]);
  // l never arrives (the browser's CPU too short for it): keyframes at 1
  // and 2 s, missing at 3 s.
  assert.ok(stream.tick(3_000).some((e) => e.kind === "keyframe"));
  assert.ok(stream.tick(4_000).some((e) => e.kind === "keyframe"));
  assert.deepEqual(stream.tick(5_000).filter((e) => e.kind === "missing"), [
    { kind: "missing", layer: 0 },
  ]);
  // v2 lossy now: not to l, to m; then nothing below.
  assert.deepEqual(sets(stream.slow("v2", 6_000)), ["v2 1 slow"]);
  stream.confirmed("v2", 1, 6_100);
  assert.deepEqual(sets(stream.slow("v2", 9_000)), []);
  // 30 s later l is tried again; missing again: 60 s this time.
  const v2 = (effects: LayerEffect[]) =>
    sets(effects).filter((s) => s && s.startsWith("v2"));
  assert.deepEqual(v2(stream.slow("v2", 35_000)), ["v2 0 slow"]);
  stream.tick(36_000);
  stream.tick(37_000);
  stream.tick(38_000);
  assert.deepEqual(v2(stream.slow("v2", 40_000)), []);
  // Another viewer on m: not to l until 98 s.
  const v3 = (effects: LayerEffect[]) =>
    sets(effects).filter((s) => s && s.startsWith("v3"));
  stream.confirmed("v3", 1, 90_000);
  assert.deepEqual(v3(stream.slow("v3", 97_000)), []);
  assert.deepEqual(v3(stream.slow("v3", 99_000)), ["v3 0 slow"]);
});

Deno.test("stream layers: a Janus confirmation of a layer clears its missing mark", () => {
  const stream = layers({}, () => 0, ["m", "h"]);
  stream.confirmed("v1", 1, 0);
  stream.confirmed("v2", 1, 0);
  assert.deepEqual(sets(stream.slow("v1", 0)), ["v1 0 slow"]);
  stream.tick(1_000);
  stream.tick(2_000);
  stream.tick(3_000); // m missing
  assert.deepEqual(sets(stream.slow("v2", 3_000)), []);
  // Janus did switch v1 after all: m arrives.
  stream.confirmed("v1", 0, 3_500);
  assert.deepEqual(sets(stream.slow("v2", 4_000)), ["v2 0 slow"]);
});

Deno.test("stream layers: a switch to the layer Janus already sends expects no confirmation (Janus says nothing)", () => {
  const stream = layers();
  onTop(stream, ["v1"], 0);
  stream.slow("v1", 0);
  stream.confirmed("v1", 1, 100);
  stream.slow("v1", 2_000); // to l: never confirmed
  stream.tick(3_000);
  stream.tick(4_000);
  stream.tick(5_000); // l missing: v1 stays asked for l, gets m
  // Quiet: up to m, which it already gets; nothing more to wait for.
  const effects = stream.tick(2_000 + 15_000);
  assert.deepEqual(sets(effects), ["v1 1 quiet"]);
  for (let t = 18_000; t < 25_000; t += 1_000) {
    assert.deepEqual(
      stream.tick(t).filter((e) => e.kind !== "want"),
      [],
      `at ${t}`,
    );
  }
});

Deno.test("stream layers: a viewer that leaves no longer holds its layer", () => {
  const stream = layers();
  onTop(stream, ["v1", "v2"], 0);
  stream.slow("v1", 0);
  stream.confirmed("v1", 1, 100);
  stream.tick(6_000);
  assert.deepEqual(stream.wanted, ["m", "h"]);
  stream.leave("v1", 7_000);
  assert.deepEqual(wants(stream.tick(12_000)), ["h"]);
  assert.equal(stream.viewers, 1);
});

Deno.test("stream layers: a layer another viewer gets is never taken not to arrive (the switch was Janus's slowness)", () => {
  const stream = layers();
  onTop(stream, ["v1", "v2"], 0);
  stream.confirmed("v2", 1, 0);
  stream.slow("v1", 0); // to m, which v2 gets
  const effects = [1_000, 2_000, 3_000, 4_000].flatMap((t) => stream.tick(t));
  assert.deepEqual(effects.filter((e) => e.kind === "missing"), []);
  assert.deepEqual(sets(stream.slow("v2", 5_000)), ["v2 0 slow"]);
  assert.deepEqual(sets(stream.slow("v1", 5_100)), ["v1 0 slow"]);
});

Deno.test("stream layers: while Janus loses the broadcaster's video, its viewers' loss reports move nobody down; upstreamQuietMs after, they do again", () => {
  const stream = layers({}, () => 0.5);
  onTop(stream, ["v1", "v2", "v3"], 0);
  // The viewers' reports come in before and after the publisher's.
  stream.slow("v1", 1_000);
  assert.deepEqual(sets(stream.upstreamLoss(1_050)), []);
  assert.deepEqual(sets(stream.slow("v2", 1_100)), []);
  // v1's step, due at 1,125, was dropped.
  assert.deepEqual(sets(stream.tick(1_125)), []);
  assert.deepEqual(sets(stream.slow("v3", 2_000)), []);
  assert.deepEqual(sets(stream.tick(3_000)), []);
  // Janus's reports of a viewer's loss lag the gap (2.5 s seen).
  assert.deepEqual(sets(stream.slow("v2", 5_000)), []);
  assert.deepEqual(sets(stream.tick(5_500)), []);
  // Past upstreamQuietMs: a viewer's own loss counts again.
  stream.slow("v1", 6_050);
  assert.deepEqual(sets(stream.tick(6_175)), ["v1 1 slow"]);
});

Deno.test("stream layers: a viewer Janus began on a smaller layer unasked (the top's keyframe went by first) gets keyframes asked until it is on its target", () => {
  const stream = layers({}, () => 0, ["m", "h"]);
  stream.confirmed("v1", 1, 0);
  stream.confirmed("v2", 0, 0);
  // Nothing to pause while v2 gets m; a keyframe after confirmMs.
  assert.deepEqual(
    stream.tick(1_000).filter((e) => e.kind === "keyframe"),
    [{ kind: "keyframe", layer: 1 }],
  );
  assert.deepEqual(stream.wanted, ["m", "h"]);
  // Janus switches it on that keyframe: no more asked, m paused later.
  stream.confirmed("v2", 1, 1_100);
  for (let t = 2_000; t < 6_100; t += 1_000) {
    assert.deepEqual(
      stream.tick(t).filter((e) => e.kind === "keyframe"),
      [],
      `at ${t}`,
    );
  }
  assert.deepEqual(wants(stream.tick(6_100)), ["h"]);
});

Deno.test("stream layers: adopted from another node: nothing paused (a viewer's layer is not known here); a viewer first met in Janus's report keeps that layer, one first met lossy goes to the smallest", () => {
  const stream = new StreamLayers(LIMITS, () => 0);
  stream.published(RIDS, true);
  onTop(stream, ["v1"], 1_000);
  // v2 was put on m by the node that went: Janus says so, no keyframes.
  stream.confirmed("v2", 1, 1_000);
  const later = [stream.tick(7_000), stream.tick(15_999)].flat();
  assert.deepEqual(wants(later), []);
  assert.deepEqual(later.filter((e) => e.kind === "keyframe"), []);
  // Up after its quiet while, counted from Janus's report.
  assert.deepEqual(sets(stream.tick(16_000)), ["v2 2 quiet"]);
  assert.deepEqual(stream.wanted, RIDS);
  // v3, unknown here, is lossy: the smallest layer, not one below the top.
  assert.deepEqual(sets(stream.slow("v3", 21_000)), ["v3 0 slow"]);
  // A publish through this node: the usual choice again.
  stream.published(RIDS);
  onTop(stream, ["v1"], 30_000);
  assert.deepEqual(wants(stream.tick(35_000)), ["h"]);
  assert.deepEqual(sets(stream.slow("v4", 36_000)), ["v4 1 slow"]);
});
