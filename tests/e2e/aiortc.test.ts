/**
 * A second WebRTC stack (issue 23): aiortc, Debian's python3-aiortc 1.4.0,
 * run in a lab host's namespace (support/aiortc.ts), against our server,
 * Janus and Chromium: as a seed-protocol viewer and broadcaster (peer to
 * peer with Chromium's elements), as a WHIP publisher and as a WHEP player
 * on a server offer (through Janus). Every check counts frames a decoder
 * produced: aiortc's `track.recv()` on its side, frames the `<live-viewer>`
 * presented on Chromium's. After each, the stream's end leaves nothing in
 * the registry, nor in Janus. Needs root, like the other lab tests.
 */
import assert from "node:assert/strict";
import type { FaultLab } from "./support/fault-lab.ts";
import { AiortcPeer, canImport } from "./support/aiortc.ts";
import { whepUrlOf, whipUrlOf } from "./support/lab-pages.ts";
import { labTest } from "./support/lab-test.ts";

const AIORTC = { aiortc: canImport("aiortc") };
/** aiortc has no WebSocket client: the seed roles use Debian's websockets. */
const SEED = { ...AIORTC, "python3-websockets": canImport("websockets") };
/** Frames each side must decode: two seconds and more at 30 fps. */
const FRAMES = 60;

/** The lab's stream as a page would name it (for its WHIP/WHEP URLs). */
const pageOf = (lab: FaultLab) => ({
  name: "aiortc",
  signalingUrl: lab.signalingUrl,
  streamId: lab.streamId,
});

labTest(
  "aiortc: a seed-protocol viewer (aiortc 1.4) answers a Chromium <live-broadcaster>'s offer, takes its trickled candidates and decodes its frames peer to peer",
  {
    browsers: ["chromium", "chromium"],
    // The broadcaster's end is announced at once when its browser dies.
    env: { RECONNECT_GRACE_MS: "0" },
    requires: SEED,
  },
  async (lab) => {
    await lab.openPage(0);
    await lab.untilState("b", "live");
    // Host 1 runs aiortc instead of a browser.
    await using viewer = AiortcPeer.start(
      lab.network,
      lab.host(1),
      "seed_viewer",
      [lab.signalingUrl, lab.streamId],
    );
    await viewer.untilFrames(FRAMES);
    assert.ok(viewer.all("state").some((e) => e.state === "connected"));
    assert.deepEqual(viewer.all("error"), []);
    // One offer, answered once: the broadcaster took aiortc's answer.
    const offers = viewer.all("signal").filter((e) =>
      e.type === "webrtc-offer"
    );
    assert.equal(offers.length, 1);
    assert.ok(
      viewer.all("signal").some((e) => e.type === "webrtc-ice-candidate"),
      "the broadcaster trickled its candidates",
    );
    const last = viewer.all("frame").at(-1)!;
    assert.ok(last.width! > 0 && last.height! > 0, JSON.stringify(last));
    // Peer to peer: the broadcaster holds one connection, to aiortc.
    await lab.until(
      "the broadcaster's one peer",
      () =>
        lab.events("b").findLast((e) => e.kind === "peers")?.state === "1" ||
        undefined,
    );

    // The broadcaster goes: aiortc hears it, the registry forgets the stream.
    await lab.closeBrowser(0);
    await viewer.untilEvent(
      "broadcaster-left",
      (e) => e.type === "broadcaster-left",
    );
    await lab.healthWhen((h) => h.liveStreams === 0);
    // aiortc leaves (leave-stream, close 1000): nothing left at all.
    assert.equal((await viewer.stop()).code, 0);
    await lab.healthWhen((h) => h.streams === 0 && h.connections === 0);
  },
);

labTest(
  "aiortc: a seed-protocol broadcaster (aiortc 1.4, a moving test pattern, video only) offers a Chromium <live-viewer>, which plays it peer to peer",
  {
    browsers: ["chromium", "chromium"],
    requires: SEED,
  },
  async (lab) => {
    // Host 0 runs aiortc instead of a browser. Video only: aiortc 1.4's
    // offer with audio too numbers header extension 2 differently in its two
    // bundled sections, and Chromium refuses it ("A BUNDLE group contains a
    // codec collision for header extension id=2", issue 23).
    await using broadcaster = AiortcPeer.start(
      lab.network,
      lab.host(0),
      "seed_broadcaster",
      [lab.signalingUrl, lab.streamId],
    );
    await broadcaster.untilEvent(
      "broadcaster-accepted",
      (e) => e.type === "broadcaster-accepted",
    );
    await lab.openPage(1);
    await lab.until(
      () =>
        `${FRAMES} frames in the viewer (${lab.frames("v1")}): ${
          JSON.stringify(lab.events("v1").filter((e) => e.kind !== "frame"))
        }; aiortc: ${JSON.stringify(broadcaster.events.slice(-10))} ${
          broadcaster.stderr.slice(-10).join(" | ")
        }`,
      () => lab.frames("v1") >= FRAMES || undefined,
    );
    assert.ok(lab.events("v1").some((e) => e.state === "live"));
    assert.deepEqual(lab.events("v1").filter((e) => e.kind === "error"), []);
    // The picture is aiortc's pattern (320x240), decoded by Chromium.
    await lab.until(
      "the viewer to report the pattern's width",
      () =>
        lab.events("v1").some((e) => e.kind === "width" && e.value === 320) ||
        undefined,
    );
    const viewerId = broadcaster.all("signal").find((e) =>
      e.type === "viewer-joined"
    )?.viewer;
    assert.ok(
      broadcaster.all("state").some((e) =>
        e.peer === viewerId && e.state === "connected"
      ),
    );
    assert.deepEqual(broadcaster.all("error"), []);

    // aiortc leaves (leave-stream): the viewer shows the end, the stream is not live.
    const left = Date.now();
    assert.equal((await broadcaster.stop()).code, 0);
    await lab.until(
      () => `the viewer to end: ${JSON.stringify(lab.events("v1"))}`,
      () =>
        lab.events("v1").some((e) =>
          e.kind === "state" && e.t > left && e.state === "ended"
        ) || undefined,
    );
    await lab.healthWhen((h) => h.liveStreams === 0);
  },
);

/** The stream ended: no room, no stream session, no handle but the server's. */
async function nothingLeftInJanus(lab: FaultLab): Promise<void> {
  await lab.untilLogged("sfu-ended");
  const janus = lab.janus!;
  assert.deepEqual(await janus.rooms(), []);
  assert.equal((await janus.sessions()).length, 1, "only the server's session");
  assert.equal((await janus.allHandles()).length, 1, "only its control handle");
  await lab.healthWhen((h) => h.liveStreams === 0);
}

labTest(
  "aiortc: a WHIP publisher (aiortc 1.4, a test pattern and silence) to /whip/{streamId} is played through Janus by a Chromium <live-viewer>; its DELETE ends the stream and leaves nothing in Janus",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    requires: AIORTC,
  },
  async (lab) => {
    await lab.openPage(1);
    await lab.untilState("v1", "waiting");
    // Host 0 runs aiortc instead of a browser. Audio and video: Chromium
    // gets Janus's offer, with Janus's own header extension numbers.
    await using publisher = AiortcPeer.start(
      lab.network,
      lab.host(0),
      "whip_publisher",
      [whipUrlOf(pageOf(lab)), "--audio"],
    );
    await lab.until(
      () =>
        `${FRAMES} frames in the viewer (${lab.frames("v1")}); aiortc: ${
          JSON.stringify(publisher.events.slice(-10))
        } ${publisher.stderr.slice(-10).join(" | ")}; server: ${
          lab.serverLog.slice(-10).join(" ")
        }`,
      () => lab.frames("v1") >= FRAMES || undefined,
    );
    assert.deepEqual(publisher.http(), ["POST 201"]);
    assert.ok(publisher.all("state").some((e) => e.state === "connected"));
    assert.ok(lab.events("v1").some((e) => e.state === "live"));
    assert.deepEqual(lab.events("v1").filter((e) => e.kind === "error"), []);
    assert.equal((await lab.janus!.rooms()).length, 1);

    // SIGTERM: aiortc DELETEs its session; the viewer hears the end.
    assert.equal((await publisher.stop()).code, 0);
    assert.deepEqual(publisher.http(), ["POST 201", "DELETE 200"]);
    await lab.untilState("v1", "ended");
    await nothingLeftInJanus(lab);
  },
);

labTest(
  "aiortc: a WHEP player (aiortc 1.4) on a server offer (empty POST, answer by PATCH) decodes a Chromium <live-broadcaster>'s stream through Janus",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    // The broadcaster's end is announced at once when its browser dies.
    env: { RECONNECT_GRACE_MS: "0" },
    requires: AIORTC,
  },
  async (lab) => {
    await lab.openPage(0);
    await lab.untilState("b", "live");
    // Host 1 runs aiortc instead of a browser.
    await using player = AiortcPeer.start(
      lab.network,
      lab.host(1),
      "whep_player",
      [whepUrlOf(pageOf(lab))],
    );
    await player.untilFrames(FRAMES);
    assert.deepEqual(player.http(), ["POST 201", "PATCH 204"]);
    assert.ok(player.all("state").some((e) => e.state === "connected"));
    assert.deepEqual(player.all("error"), []);
    const last = player.all("frame").at(-1)!;
    assert.ok(last.width! > 0 && last.height! > 0, JSON.stringify(last));

    // SIGTERM: aiortc DELETEs its session, then the broadcaster goes.
    assert.equal((await player.stop()).code, 0);
    assert.deepEqual(player.http(), ["POST 201", "PATCH 204", "DELETE 200"]);
    await lab.closeBrowser(0);
    await nothingLeftInJanus(lab);
  },
);
