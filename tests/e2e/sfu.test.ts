/**
 * Streams through a real Janus (issue 13): Janus, the signaling server and
 * the site in a hub namespace, each browser in its own, joined by a bridge
 * (Janus gathers no candidates on loopback). Needs root, like the fault
 * tests; CI runs as root.
 */
import assert from "node:assert/strict";
import type { FaultLab } from "./support/fault-lab.ts";
import {
  broadcasterPage,
  crowdPage,
  seedBroadcasterPage,
  seedViewerPage,
  sfuPublisherPage,
  viewerPage,
} from "./support/lab-pages.ts";
import { labTest } from "./support/lab-test.ts";

labTest(
  "sfu: a publisher on Janus, seed viewers on bare RTCPeerConnections get frames through it",
  {
    browsers: ["chromium", "chromium", "chromium"],
    janus: true,
    // The broadcaster's end is announced at once when its browser dies.
    env: { SFU_AFTER_VIEWERS: "0", RECONNECT_GRACE_MS: "0" },
    pages: [sfuPublisherPage, seedViewerPage, seedViewerPage],
  },
  async (lab) => {
    await lab.openPages();
    await lab.untilPlaying(["v1", "v2"]);
    const publisher = lab.events("b");
    // One connection carries the video: the publisher's, to Janus.
    assert.equal(publisher.filter((e) => e.kind === "pc").length, 1);
    assert.ok(publisher.some((e) => e.state === "sfu connected"));
    assert.ok(!publisher.some((e) => e.state === "asked for peer to peer"));
    // It is told of both viewers, to count them.
    assert.equal(
      publisher.filter((e) => e.state === "viewer counted").length,
      2,
    );
    for (const viewer of ["v1", "v2"]) {
      assert.equal(
        lab.events(viewer).filter((e) => e.kind === "error").length,
        0,
        viewer,
      );
    }
    const janus = lab.janus!;
    // The server's session (its control handle) and the stream's (the
    // publisher, one subscriber per viewer).
    assert.equal((await janus.sessions()).length, 2);
    assert.equal((await janus.allHandles()).length, 4);
    assert.equal((await janus.rooms()).length, 1);

    // The broadcaster goes: its room and handles go with it.
    await lab.closeBrowser(0);
    await lab.until(
      "the stream ended on the SFU",
      () => lab.serverLog.some((l) => l.includes('"sfu-ended"')) || undefined,
    );
    assert.deepEqual(await janus.rooms(), []);
    const sessions = await janus.sessions();
    assert.equal(sessions.length, 1, "the stream's session went too");
    assert.equal((await janus.handles(sessions[0])).length, 1);
  },
);

/** The longest time between two frames `who` presented after its 10th. */
function longestGap(lab: FaultLab, page: string, who: string): number {
  const times = lab.events(page).filter((e) =>
    e.kind === "frame" && e.who === who
  ).map((e) => e.t).slice(10);
  let longest = 0;
  for (let i = 1; i < times.length; i++) {
    longest = Math.max(longest, times[i] - times[i - 1]);
  }
  return longest;
}

/**
 * Waits until the crowd page's viewers `who` all play, `moved` of them were
 * moved to the SFU and the broadcaster holds no connection of its own; then
 * checks they go on playing, and that each of `overlapping` (elements that
 * watched before the switch) stayed `live` throughout. Returns their
 * longest gaps between frames.
 */
async function expectSwitched(
  lab: FaultLab,
  who: string[],
  moved: number,
  overlapping: string[],
): Promise<number[]> {
  const framesOfWho = (name: string, since = 0) =>
    lab.events("v1").filter((e) =>
      e.kind === "frame" && e.who === name && e.t > since
    ).length;
  const movedNow = () =>
    lab.serverLog.filter((l) => l.includes('"sfu-viewer-moved"')).length;
  const peers = () =>
    lab.events("b").filter((e) => e.kind === "peers").at(-1)?.state;
  await lab.until(
    () =>
      `every viewer playing, ${moved} moved (${movedNow()}), no peer-to-peer left (${peers()}): ${
        who.map((name) => `${name} ${framesOfWho(name)}`).join(", ")
      }`,
    () =>
      (who.every((name) => framesOfWho(name) >= 10) &&
        movedNow() === moved && peers() === "0") || undefined,
    90_000,
  );
  const after = Date.now();
  await lab.until(
    () =>
      `10 more frames in every viewer: ${
        who.map((name) => `${name} ${framesOfWho(name, after)}`).join(", ")
      }`,
    () => who.every((name) => framesOfWho(name, after) >= 10) || undefined,
  );
  // The broadcaster: a connection per viewer before, then its one to Janus.
  assert.equal(
    lab.events("b").filter((e) => e.kind === "pc").length,
    moved + 1,
  );
  assert.equal(
    lab.serverLog.filter((l) => l.includes('"sfu-published"')).length,
    1,
  );
  // The elements that watched before the switch overlapped.
  assert.equal(
    lab.serverLog.filter((l) =>
      l.includes('"sfu-viewer-moved"') && l.includes('"overlap":true')
    ).length,
    overlapping.length,
  );
  assert.deepEqual(
    lab.events("v1").filter((e) => e.kind === "error"),
    [],
  );
  return overlapping.map((name) => {
    const states = lab.events("v1").filter((e) =>
      e.kind === "state" && e.who === name
    ).map((e) => e.state);
    // Live once, and never anything else after.
    assert.equal(states.at(-1), "live", name);
    assert.equal(states.indexOf("live"), states.length - 1, name);
    const gap = longestGap(lab, "v1", name);
    console.log(`${name}: longest gap between frames ${gap} ms`);
    return gap;
  });
}

labTest(
  "sfu: 1 -> 6 viewers past SFU_AFTER_VIEWERS=3: the stream moves to Janus make before break, the picture stays live, one broadcaster connection carries it after",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    env: { SFU_AFTER_VIEWERS: "3" },
    // v2 is a seed viewer: it cannot overlap, and is moved at its offer.
    pages: [broadcasterPage, crowdPage(6, [2])],
  },
  async (lab) => {
    await lab.openPages();
    await expectSwitched(lab, ["v1", "v2", "v3", "v4", "v5", "v6"], 3, [
      "v1",
      "v3",
    ]);
    const janus = lab.janus!;
    // Control handle, publisher, one subscriber per viewer.
    assert.equal((await janus.allHandles()).length, 8);
    assert.equal((await janus.rooms()).length, 1);
  },
);

labTest(
  "sfu: a <live-viewer> in Firefox switches to Janus make before break too",
  {
    browsers: ["chromium", "firefox"],
    janus: true,
    env: { SFU_AFTER_VIEWERS: "1" },
    pages: [broadcasterPage, crowdPage(2)],
  },
  async (lab) => {
    await lab.openPages();
    await expectSwitched(lab, ["v1", "v2"], 1, ["v1"]);
  },
);

labTest(
  "sfu: Janus down: streams stay peer to peer, and the log says why",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    env: { SFU_AFTER_VIEWERS: "0" },
  },
  async (lab) => {
    const logged = (event: string) => () =>
      lab.serverLog.some((l) => l.includes(`"${event}"`)) || undefined;
    await lab.until("the server to link to Janus", logged("sfu-up"));
    await lab.janus!.kill();
    await lab.until(
      "the server to notice Janus is gone",
      logged("sfu-down"),
    );
    await lab.openPages();
    await lab.untilPlaying(["v1"]);
    assert.ok(
      lab.serverLog.some((l) =>
        l.includes('"sfu-fallback"') && l.includes('"janus-down"')
      ),
    );
  },
);

labTest(
  "sfu: a seed broadcaster, which cannot publish to the SFU, stays peer to peer",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    env: { SFU_AFTER_VIEWERS: "0" },
    pages: [seedBroadcasterPage, seedViewerPage],
  },
  async (lab) => {
    await lab.openPages();
    await lab.untilPlaying(["v1"]);
    assert.ok(
      lab.serverLog.some((l) =>
        l.includes('"sfu-fallback"') && l.includes('"no-sfu-offer"')
      ),
    );
    // Nothing was left in Janus by the offer that never came.
    assert.deepEqual(await lab.janus!.rooms(), []);
  },
);

labTest(
  "sfu: <live-broadcaster> publishes once to Janus; <live-viewer>s in Chromium and Firefox play through it",
  {
    browsers: ["chromium", "chromium", "firefox"],
    janus: true,
    env: { SFU_AFTER_VIEWERS: "0" },
  },
  async (lab) => {
    await lab.openPages();
    await lab.untilPlaying(["v1", "v2"]);
    // One connection up, to Janus; none per viewer.
    assert.equal(lab.events("b").filter((e) => e.kind === "pc").length, 1);
    assert.ok(!lab.serverLog.some((l) => l.includes('"sfu-fallback"')));
    for (const viewer of ["v1", "v2"]) {
      assert.ok(
        lab.events(viewer).some((e) =>
          e.kind === "state" && e.state === "live"
        ),
        viewer,
      );
    }
  },
);

labTest(
  "sfu: a broadcaster whose link drops for 3 s resumes on the SFU: no new connection anywhere",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    // Debug: the log shows the broadcaster's resume.
    env: { SFU_AFTER_VIEWERS: "0", LOG_LEVEL: "debug" },
  },
  async (lab) => {
    await lab.openPages();
    await lab.untilPlaying(["v1"]);
    await lab.network.linkDown(lab.host(0));
    // The fault's own length, not a wait for an event.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await lab.network.linkUp(lab.host(0));
    const upAt = Date.now();
    await lab.untilPlaying(["v1"], upAt);
    // Its socket did drop and come back, with its place.
    assert.ok(
      lab.serverLog.some((l) =>
        l.includes('"event":"resumed"') && l.includes('"back":true')
      ),
    );
    // Published once, connected once: the resume kept everything. (It
    // failed twice in CI with 2 publishes: an abandoned reconnection
    // attempt's clean 1001 was taken for a goodbye; a socket that said
    // nothing is no goodbye since, tests/server/resume.test.ts.)
    assert.equal(
      lab.serverLog.filter((l) => l.includes('"sfu-published"')).length,
      1,
      lab.serverLog.filter((l) => /sfu|resum|claim|depart|left/.test(l))
        .join("\n"),
    );
    assert.equal(lab.events("b").filter((e) => e.kind === "pc").length, 1);
    assert.equal(lab.events("v1").filter((e) => e.kind === "pc").length, 1);
  },
);

labTest(
  "sfu: Janus killed mid-stream: the stream goes back to peer to peer and the viewer plays again; Janus restarted: back on the SFU, make before break",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    env: { SFU_AFTER_VIEWERS: "0" },
  },
  async (lab) => {
    await lab.openPages();
    await lab.untilPlaying(["v1"]);
    await lab.janus!.kill();
    const killedAt = Date.now();
    await lab.untilPlaying(["v1"], killedAt);
    assert.ok(
      lab.serverLog.some((l) =>
        l.includes('"sfu-fallback"') && l.includes('"janus-down"')
      ),
    );
    // The broadcaster now sends to the viewer itself: a second connection.
    assert.equal(lab.events("b").filter((e) => e.kind === "pc").length, 2);

    // Janus back: the server links again by itself, the broadcaster
    // publishes again, and the viewer moves over without a stop.
    const states = () =>
      lab.events("v1").filter((e) => e.kind === "state").map((e) => e.state);
    const liveStates = states().length;
    await lab.janus!.restart();
    await lab.until(
      "a second publish and the viewer moved to the SFU again",
      () =>
        (lab.serverLog.filter((l) => l.includes('"sfu-published"')).length ===
            2 &&
          lab.serverLog.some((l) =>
            l.includes('"sfu-viewer-moved"') && l.includes('"overlap":true')
          )) || undefined,
    );
    await lab.untilPlaying(["v1"], Date.now());
    assert.deepEqual(states().slice(liveStates), []);
    // Its own connection closed: the SFU's carries the video alone.
    await lab.until(
      "the broadcaster to close its connection to the viewer",
      () =>
        lab.events("b").filter((e) => e.kind === "peers").at(-1)?.state ===
          "0" || undefined,
    );
    assert.equal(lab.events("b").filter((e) => e.kind === "pc").length, 3);
  },
);

labTest(
  "sfu: a viewer on a lossy link is sent a smaller simulcast layer and keeps playing; the other keeps the full picture",
  {
    browsers: ["chromium", "chromium", "chromium"],
    janus: true,
    env: { SFU_AFTER_VIEWERS: "0" },
  },
  async (lab) => {
    await lab.openPages();
    await lab.untilPlaying(["v1", "v2"]);
    // v1 loses a fifth of what reaches it.
    await lab.network.loss(lab.host(1), 0.2);
    const lowered = await lab.until(
      () =>
        `a smaller layer for a viewer: ${
          lab.serverLog.filter((l) => l.includes("layer")).join(" ")
        }`,
      () => lab.serverLog.find((l) => l.includes('"sfu-layer"')),
      30_000,
    );
    const lossy = JSON.parse(lowered).viewerId;
    assert.ok(JSON.parse(lowered).layer < 2);
    await lab.untilPlaying(["v1"], Date.now());
    // The smaller layer is v1's (the lossy one): its picture is narrower.
    const width = (name: string) =>
      lab.events(name).findLast((e) => e.kind === "width")?.value ?? 0;
    await lab.until(
      () => `v1 narrower than v2 (${width("v1")} / ${width("v2")})`,
      () => (width("v1") > 0 && width("v1") < width("v2")) || undefined,
    );
    await lab.network.noLoss(lab.host(1));
    // Only the lossy viewer was touched, and Janus took every change.
    const changes = lab.serverLog.filter((l) => l.includes('"sfu-layer"'))
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      changes.filter((change) => change.viewerId !== lossy),
      [],
    );
    assert.ok(!lab.serverLog.some((l) => l.includes('"sfu-layer-failed"')));
  },
);

for (const browser of ["chromium", "firefox"] as const) {
  labTest(
    `sfu: a ${browser} broadcaster's address changes while its stream is on Janus: its connection to Janus restarts ICE, and the viewer's picture comes back on the same connections`,
    {
      browsers: [browser, "chromium"],
      janus: true,
      env: { SFU_AFTER_VIEWERS: "0" },
      pages: [broadcasterPage, viewerPage],
    },
    async (lab) => {
      await lab.openPages();
      await lab.untilFrames("v1", 20);
      await lab.network.changeAddress(lab.host(0));
      const changed = Date.now();
      // Before the repair the picture stayed frozen for good: Janus kept
      // sending to the old address's candidates, nobody restarted ICE.
      await lab.untilFrames("v1", 20, changed);
      // Janus restarts once, or twice (seen once in CI, Firefox): a restart
      // offer goes again when its answer may have gone down with the old
      // socket, or a second follows a first that did not connect. Either
      // way on the same connections, nothing published anew.
      const restarts = lab.logged("sfu-publisher-restarted");
      assert.ok(restarts === 1 || restarts === 2, `${restarts} restarts`);
      assert.equal(lab.logged("sfu-republish"), 0);
      // The same connections: the broadcaster's one to Janus, the viewer's.
      assert.equal(lab.events("b").filter((e) => e.kind === "pc").length, 1);
      assert.equal(lab.events("v1").filter((e) => e.kind === "pc").length, 1);
      assert.deepEqual(
        lab.events("v1").filter((e) => e.kind === "error"),
        [],
      );
    },
  );
}
