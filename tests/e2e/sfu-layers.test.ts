/**
 * Simulcast layers through a real Janus (issue 24), as the browsers send
 * them: per capture size each layer the element offers comes, each smaller
 * than the one above (Chromium and Firefox broadcasters); the layers no
 * viewer gets are paused (the sender's encodings inactive, their bytes stop,
 * Janus receives only the top one); a viewer on a lossy link gets a smaller
 * layer within 2 s, asked of the broadcaster again.
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
} from "./support/layer-pages.ts";
import { labTest } from "./support/lab-test.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The rids the server last asked the broadcaster for (`sfu-layers-wanted`). */
function wanted(lab: FaultLab): string | undefined {
  const line = lab.serverLog.findLast((l) => l.includes('"sfu-layers-wanted"'));
  return line && JSON.parse(line).rids.join(",");
}

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
  await lab.until(
    () => `the server to ask for h alone (${wanted(lab)})`,
    () => wanted(lab) === "h" || undefined,
    30_000,
  );
  await lab.until(
    () => `the others inactive: ${JSON.stringify([...latestRids(lab)])}`,
    () =>
      rids.slice(1).every((rid) =>
        latestRids(lab).get(rid)?.active === false
      ) ||
      undefined,
  );
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
  "sfu layers: a viewer on a lossy link gets the smaller layer within 2 s, the broadcaster sends it again; the other viewer keeps the full picture",
  {
    browsers: ["chromium", "chromium", "chromium"],
    janus: true,
    env: {
      SFU_AFTER_VIEWERS: "0",
      SFU_LAYER_PAUSE_AFTER_MS: "2000",
      LOG_LEVEL: "debug",
    },
    pages: [layerBroadcasterPage(640, 480), viewerPage, viewerPage],
  },
  async (lab) => {
    await lab.openPages();
    await lab.untilPlaying(["v1", "v2"]);
    await expectTopOnly(lab, ["h", "m"]);
    const width = (name: string) =>
      lab.events(name).findLast((e) => e.kind === "width")?.value ?? 0;
    assert.equal(width("v1"), 640);
    // v1 loses a fifth of what reaches it.
    const lossAt = Date.now();
    await lab.network.loss(lab.host(1), 0.2);
    const slow = await lab.until(
      "Janus's first slowlink",
      () =>
        lab.serverLog.find((l) =>
          l.includes('"sfu-slowlink"') && l.includes('"media":"video"') &&
          l.includes('"uplink":true')
        ),
      30_000,
    );
    const slowAt = Date.parse(JSON.parse(slow).time);
    const lossy = JSON.parse(slow).viewerId;
    // Janus sends it m: the switch confirmed, its picture narrower.
    const confirmed = await lab.until(
      () =>
        `v1 on m: ${
          lab.serverLog.filter((l) => l.includes("layer")).join(" ")
        }`,
      () =>
        lab.serverLog.find((l) =>
          l.includes('"sfu-layer-confirmed"') && l.includes(lossy) &&
          l.includes('"layer":0')
        ),
      20_000,
    );
    const confirmedAt = Date.parse(JSON.parse(confirmed).time);
    await lab.until(
      () => `v1 narrower (${width("v1")})`,
      () => width("v1") === 320 || undefined,
    );
    console.log(
      `loss to Janus's report ${
        slowAt - lossAt
      } ms; report to the small layer confirmed ${confirmedAt - slowAt} ms`,
    );
    // The target: within 2 s of the loss (Janus's report is most of it).
    assert.ok(confirmedAt - lossAt <= 2_000, `${confirmedAt - lossAt} ms`);
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
    assert.deepEqual(moves.filter((m) => m.viewerId !== lossy), []);
    assert.equal(width("v2"), 640);
    assert.ok(!lab.serverLog.some((l) => l.includes('"sfu-layer-failed"')));
    assert.ok(!lab.serverLog.some((l) => l.includes('"sfu-layer-missing"')));
    await lab.network.noLoss(lab.host(1));
  },
);
