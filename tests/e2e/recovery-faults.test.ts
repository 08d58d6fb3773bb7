/**
 * The everyday faults made for real (issue 11): each browser in its own
 * network namespace, the server in the hub namespace; links taken down and
 * up, an address changed, the server stopped with SIGTERM and SIGKILL and
 * started again. Asserted on what the pages saw: frames, states, peer
 * connections built, errors, and the server's /healthz at the end. How fast
 * each recovers is measured by `deno task bench` (bench/recovery.ts).
 * Then (issue 24) the restarts with the default configuration (no secret:
 * the key kept in STATE_DIR), and a restart that rotates the key.
 */
import assert from "node:assert/strict";
import * as esbuild from "esbuild";
import {
  type FaultResult,
  FAULTS,
  KEY_ROTATED,
  measure,
  RESTARTS,
  steady,
} from "./support/faults.ts";
import { labTest } from "./support/lab-test.ts";

/** Generous bounds: correctness here, the tight targets in the benchmark. */
const STEADY_WITHIN_MS = 8_000;
/**
 * Issue 24's target for the broadcaster's address change, at every run:
 * Chromium gathers on a new address 2 s after it appears (its Linux
 * network notifier's debounce), video is steady 0.2-0.4 s later (bench:
 * 2.1-2.4 s); missing the silent path (probe, ICE restart) costs 6 s.
 */
const ADDRESS_CHANGE_WITHIN_MS = 3_000;

function assertRecovered(
  result: FaultResult,
  options: { maxGapMs?: number; rebuilds?: number; withinMs?: number } = {},
) {
  const rebuilds = options.rebuilds ?? 0;
  for (const [name, viewer] of Object.entries(result.viewers)) {
    // With the broadcaster's states and the server's joins and leaves: a
    // rare failure here must say which side let go.
    const where = `${result.fault}, ${name}: ${
      JSON.stringify(viewer)
    }; broadcaster: ${result.broadcasterStates.join(", ")}; server: ${
      result.audit.join(" ")
    }`;
    assert.ok(
      viewer.toSteadyMs <= (options.withinMs ?? STEADY_WITHIN_MS),
      where,
    );
    // An ICE restart suffices for every one of these faults.
    assert.ok(viewer.connectionsBuilt <= rebuilds, where);
    // Live is what the frames say, not what the connection claims.
    assert.ok(viewer.liveOverFrozenMs <= 2_000, where);
    if (options.maxGapMs !== undefined) {
      assert.ok(viewer.longestGapMs <= options.maxGapMs, where);
    }
  }
  assert.ok(result.broadcasterConnections <= rebuilds, result.fault);
  // Never "another device is broadcasting" for its own earlier session.
  assert.deepEqual(result.broadcasterErrors, [], result.fault);
  assert.ok(!result.broadcasterStates.includes("error"), result.fault);
}

labTest(
  "Chromium: address change, link drops, server SIGTERM and SIGKILL: video back without a rebuilt connection",
  { browsers: ["chromium", "chromium", "chromium"] },
  async (lab, t) => {
    await esbuild.stop();
    await lab.openPages();
    await steady(lab);
    for (const fault of FAULTS) {
      await t.step(fault.name, async () => {
        const result = await measure(lab, fault);
        const deploy = fault.name.includes("SIGTERM");
        // A deploy must look to viewers like nothing happened.
        assertRecovered(
          result,
          deploy
            ? { maxGapMs: 1_000 }
            : fault.name.includes("address changes")
            ? { withinMs: ADDRESS_CHANGE_WITHIN_MS }
            : {},
        );
        await steady(lab);
      });
    }
    // Everyone back in the stream, and no one twice (no leftover sockets,
    // no second stream).
    const health = await lab.healthWhen((h) =>
      h.viewers === 2 && h.liveStreams === 1
    );
    assert.equal(health.connections, 3);
    assert.equal(health.streams, 1);
  },
);

labTest(
  "Firefox viewer: its link drops for 10 s (video back, one fresh connection), then a deploy (no gap)",
  { browsers: ["chromium", "firefox"] },
  async (lab) => {
    await esbuild.stop();
    await lab.openPages();
    await steady(lab);
    const linkDown = FAULTS.find((f) =>
      f.name === "a viewer's link down 10 s"
    )!;
    // Firefox counts no media bytes after the ICE restart although Chromium
    // sends on the new pair: one repair step later the viewer asks for a
    // fresh connection (see LiveViewer#repair).
    // That takes a restart's wait, then a new connection: ~10 s here.
    assertRecovered(await measure(lab, linkDown), {
      rebuilds: 1,
      withinMs: 15_000,
    });
    await steady(lab);
    const deploy = FAULTS.find((f) => f.name.includes("SIGTERM"))!;
    assertRecovered(await measure(lab, deploy), { maxGapMs: 1_000 });
    const health = await lab.healthWhen((h) =>
      h.viewers === 1 && h.liveStreams === 1
    );
    assert.equal(health.connections, 2);
    assert.equal(health.streams, 1);
  },
);

labTest(
  "Chromium, the default configuration (no secret, the key in STATE_DIR): SIGTERM and SIGKILL restarts rebuild nothing; a rotated key rebuilds every connection make before break, the viewers live throughout; an address change after it rebuilds nothing",
  { browsers: ["chromium", "chromium", "chromium"], resumeKey: "state" },
  async (lab, t) => {
    await esbuild.stop();
    await lab.openPages();
    await steady(lab);
    for (const fault of RESTARTS) {
      await t.step(fault.name, async () => {
        assertRecovered(await measure(lab, fault), { maxGapMs: 1_000 });
        await steady(lab);
      });
    }
    await t.step(KEY_ROTATED.name, async () => {
      const result = await measure(lab, KEY_ROTATED);
      for (const [name, viewer] of Object.entries(result.viewers)) {
        const where = `${name}: ${JSON.stringify(viewer)}`;
        // Its claim refused: one new connection, played once it decodes
        // while the old one plays on.
        assert.equal(viewer.connectionsBuilt, 1, where);
        assert.ok(viewer.longestGapMs <= 500, where);
        assert.ok(viewer.states.every((state) => state === "live"), where);
      }
      assert.equal(result.broadcasterConnections, lab.viewerCount);
      assert.deepEqual(result.broadcasterErrors, []);
      await steady(lab);
    });
    // The server still names the connections the rotation replaced (the
    // viewers have not joined since): the broadcaster knows which took
    // their place, and restarts their ICE, rebuilding nothing.
    const address = FAULTS.find((f) => f.name.includes("address changes"))!;
    await t.step(`then ${address.name}`, async () => {
      assertRecovered(await measure(lab, address), {
        withinMs: ADDRESS_CHANGE_WITHIN_MS,
      });
      await steady(lab);
    });
    const health = await lab.healthWhen((h) =>
      h.viewers === 2 && h.liveStreams === 1
    );
    assert.equal(health.connections, 3);
  },
);
