/**
 * Simulcast layers through a real Janus (issue 24), as the browsers send
 * them: per capture size each layer the element offers comes, each smaller
 * than the one above (Chromium and Firefox broadcasters); the layers no
 * viewer gets are paused (the sender's encodings inactive, their bytes stop,
 * Janus receives only the top one); a viewer on a lossy link gets a smaller
 * layer (within 2 s: bench/sfu-lossy-layer.ts), asked of the broadcaster
 * again.
 * Lab tests: root and `ip netns` (tests/e2e/support/lab-test.ts).
 */
import assert from "node:assert/strict";
import type { BrowserName, FaultLab } from "./support/fault-lab.ts";
import { crowdPage, viewerPage } from "./support/lab-pages.ts";
import {
  janusLayerBytes,
  latestRids,
  layerBroadcasterPage,
  ridRate,
  ridSamples,
  untilTopOnly,
} from "./support/layer-pages.ts";
import { labTest } from "./support/lab-test.ts";
import {
  lossToSmallerLayer,
  LOSSY_LAB,
  shownWidth,
} from "./support/lossy-layer.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Until the broadcaster reported `count` more samples of every rid. */
function untilSamples(lab: FaultLab, count: number): Promise<true> {
  const since = Date.now();
  return lab.until(
    `${count} rid samples`,
    () =>
      [...latestRids(lab).keys()].every((rid) =>
        ridSamples(lab).filter((s) => s.rid === rid && s.t > since).length >=
          count
      ) || undefined,
  );
}

const SIZES: [number, number, string[]][] = [
  [1280, 720, ["h", "m", "l"]],
  [640, 480, ["h", "m"]],
  [320, 240, [""]],
];

for (const browser of ["chromium", "firefox"] as BrowserName[]) {
  for (const [width, height, rids] of SIZES) {
    labTest(
      `sfu layers: a ${browser} broadcaster at ${width}x${height} offers ${rids.length} layer(s); each comes, smaller than the one above`,
      {
        browsers: [browser, "chromium"],
        janus: true,
        // Every layer sent for the whole test.
        env: { SFU_AFTER_VIEWERS: "0", SFU_LAYER_PAUSE_AFTER_MS: "600000" },
        pages: [layerBroadcasterPage(width, height), viewerPage],
      },
      async (lab) => {
        await lab.openPages();
        await lab.untilPlaying(["v1"]);
        // Each layer encoded, at its own size.
        const latest = await lab.until(
          () =>
            `${rids.join(",")} sent: ${JSON.stringify([...latestRids(lab)])}`,
          () => {
            const latest = latestRids(lab);
            return rids.every((rid) => (latest.get(rid)?.fps ?? 0) > 0)
              ? latest
              : undefined;
          },
          20_000,
        );
        assert.deepEqual([...latest.keys()].sort(), [...rids].sort());
        const widths = rids.map((rid) => latest.get(rid)!.width);
        for (let i = 1; i < widths.length; i++) {
          assert.ok(widths[i] < widths[i - 1], `widths ${widths}`);
        }
        assert.equal(widths[0], width);
        // What Janus receives: a substream per layer, each smaller than the
        // one above (the browsers' own counts add padding to some).
        if (rids.length > 1) {
          await sleep(3_000);
          const janus = (await janusLayerBytes(lab)).slice(0, rids.length);
          const now = Date.now();
          console.log(
            `${browser} ${width}x${height}: kbit/s per rid sent ${
              rids.map((rid) =>
                `${rid} ${
                  Math.round(ridRate(lab, rid, now - 3_000, now) / 125)
                }`
              ).join(", ")
            }; Janus receives per substream (smallest first) ${
              janus.map((b) => Math.round(b / 125)).join(", ")
            }`,
          );
          assert.ok(janus.every((bytes) => bytes > 0), `janus ${janus}`);
          for (let i = 1; i < janus.length; i++) {
            assert.ok(janus[i] > janus[i - 1], `janus ${janus}`);
          }
        }
      },
    );
  }
}

/**
 * Until the server paused every layer but the top one, and the browser
 * stopped sending them: then `rids` (but the top) send nothing for 2 s
 * while the top goes on, and Janus receives the top alone.
 */
async function expectTopOnly(lab: FaultLab, rids: string[]): Promise<void> {
  await untilTopOnly(lab, rids);
  await sleep(1_500);
  const from = Date.now();
  await sleep(2_000);
  await untilSamples(lab, 1);
  const to = Date.now();
  assert.ok(ridRate(lab, "h", from, to) > 10_000, "h sends");
  for (const rid of rids.slice(1)) {
    assert.equal(ridRate(lab, rid, from, to), 0, `${rid} stopped`);
  }
  const janus = await janusLayerBytes(lab);
  assert.ok(janus[2] > 0 || janus[1] > 0, `janus ${janus}`);
  assert.equal(
    janus.slice(0, rids.length - 1).reduce((a, b) => a + b, 0),
    0,
    `janus ${janus}`,
  );
}

labTest(
  "sfu layers: six viewers all on the top layer: the broadcaster's other layers are paused and send nothing; Janus receives the top one alone",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    env: { SFU_AFTER_VIEWERS: "0", SFU_LAYER_PAUSE_AFTER_MS: "2000" },
    pages: [layerBroadcasterPage(1280, 720), crowdPage(6)],
  },
  async (lab) => {
    await lab.openPages();
    await lab.untilPlaying(["v1"]);
    await lab.until(
      "six viewers playing",
      () =>
        ["v1", "v2", "v3", "v4", "v5", "v6"].every((who) =>
          lab.events("v1").filter((e) => e.kind === "frame" && e.who === who)
            .length >= 10
        ) || undefined,
      60_000,
    );
    await expectTopOnly(lab, ["h", "m", "l"]);
    // Nobody was moved: the top layer played throughout.
    assert.equal(lab.logged("sfu-layer"), 0);
  },
);

labTest(
  "sfu layers: a Firefox broadcaster pauses the layers nobody gets too",
  {
    browsers: ["firefox", "chromium"],
    janus: true,
    env: { SFU_AFTER_VIEWERS: "0", SFU_LAYER_PAUSE_AFTER_MS: "2000" },
    pages: [layerBroadcasterPage(1280, 720), crowdPage(2)],
  },
  async (lab) => {
    await lab.openPages();
    await lab.untilPlaying(["v1"]);
    await expectTopOnly(lab, ["h", "m", "l"]);
  },
);

labTest(
  "sfu layers: a viewer on a lossy link gets the smaller layer, the broadcaster sends it again; the other viewer keeps the full picture",
  LOSSY_LAB,
  async (lab) => {
    await lab.openPages();
    await lab.untilPlaying(["v1", "v2"]);
    await expectTopOnly(lab, ["h", "m"]);
    // How long it takes is bench/sfu-lossy-layer.ts's (target ≤ 2 s).
    const { viewerId, reportMs, by, switchMs } = await lossToSmallerLayer(lab);
    console.log(
      `loss to the first report (${by}'s) ${reportMs} ms; report to the small layer confirmed ${switchMs} ms`,
    );
    // m was asked of the broadcaster again, and it sends it.
    assert.ok(
      lab.serverLog.some((l) =>
        l.includes('"sfu-layers-wanted"') && l.includes('["m","h"]')
      ),
    );
    await lab.until(
      () => `m active again: ${JSON.stringify(latestRids(lab).get("m"))}`,
      () => (latestRids(lab).get("m")?.fps ?? 0) > 0 || undefined,
    );
    // Only the lossy viewer was moved; the other plays the full picture.
    const moves = lab.serverLog.filter((l) => l.includes('"sfu-layer"'))
      .map((l) => JSON.parse(l));
    assert.deepEqual(moves.filter((m) => m.viewerId !== viewerId), []);
    assert.equal(shownWidth(lab, "v2"), 640);
    assert.ok(!lab.serverLog.some((l) => l.includes('"sfu-layer-failed"')));
    assert.ok(!lab.serverLog.some((l) => l.includes('"sfu-layer-missing"')));
    await lab.network.noLoss(lab.host(1));
  },
);

labTest(
  "sfu layers: with Janus reporting no slow link (its default, no slowlink_threshold), the lossy viewer's own report (viewer-loss) moves it to the smaller layer, in Firefox too",
  {
    ...LOSSY_LAB,
    browsers: ["chromium", "firefox", "chromium"],
    janusSlowlink: 0,
  },
  async (lab) => {
    await lab.openPages();
    await lab.untilPlaying(["v1", "v2"]);
    const { viewerId, by, reportMs, switchMs } = await lossToSmallerLayer(lab);
    console.log(
      `loss to the viewer's report ${reportMs} ms; to the small layer confirmed ${switchMs} ms`,
    );
    assert.equal(by, "viewer");
    assert.ok(!lab.serverLog.some((l) => l.includes('"sfu-slowlink"')));
    // Only the lossy viewer reported, and only it was moved.
    const reports = lab.serverLog.filter((l) => l.includes("sfu-viewer-loss"))
      .map((l) => JSON.parse(l));
    assert.ok(reports.length > 0);
    assert.deepEqual(reports.filter((r) => r.viewerId !== viewerId), []);
    const moves = lab.serverLog.filter((l) => l.includes('"sfu-layer"'))
      .map((l) => JSON.parse(l));
    assert.deepEqual(moves.filter((m) => m.viewerId !== viewerId), []);
    assert.equal(shownWidth(lab, "v2"), 640);
    await lab.network.noLoss(lab.host(1));
  },
);
