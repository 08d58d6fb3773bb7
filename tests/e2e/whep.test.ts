/**
 * WHEP playback with media: a standard WHEP player (a bare
 * RTCPeerConnection following the draft: recvonly offer POSTed, answer
 * applied) in Chromium plays a `<live-broadcaster>`'s stream through our
 * `/whep/{streamId}` and Janus, while an element viewer watches peer to
 * peer (the stream moves to the SFU for the WHEP player); `<live-viewer
 * whep-url>` repaired after its address changed. Needs root.
 */
import assert from "node:assert/strict";
import { eyevinnPlayerScript } from "./support/eyevinn-player.ts";
import {
  broadcasterPage,
  eyevinnWhepPage,
  npmWhepPlayerPage,
  seedBroadcasterPage,
  viewerPage,
  whepPlayerPage,
  whepServerOfferPage,
  whepViewerPage,
} from "./support/lab-pages.ts";
import type { FaultLab } from "./support/fault-lab.ts";
import { labTest } from "./support/lab-test.ts";
import { steadyFrom } from "./support/recovery-metrics.ts";

labTest(
  "whep: a standard WHEP player plays a <live-broadcaster> through /whep/{streamId} and Janus",
  {
    browsers: ["chromium", "chromium", "chromium"],
    janus: true,
    pages: [broadcasterPage, viewerPage, whepPlayerPage],
    // Janus says the player's media is up well before this.
    env: { MEDIA_CONNECT_TIMEOUT_MS: "3000" },
  },
  async (lab) => {
    await lab.openPage(0);
    await lab.openPage(1);
    await lab.untilFrames("v1", 10);
    await lab.openPage(2);
    await lab.untilFrames("v2", 10);
    assert.ok(lab.events("v2").some((e) => e.state === "whep 201"));
    // Four seconds of frames: past MEDIA_CONNECT_TIMEOUT_MS, still playing.
    await lab.untilFrames("v2", 80, Date.now());
    assert.equal(lab.logged("whep-media-timeout"), 0);
    assert.equal(lab.logged("whep-hangup"), 0);
    // The element viewer went on playing (moved to the SFU too, make before break).
    await lab.untilFrames("v1", 10, Date.now());
  },
);

labTest(
  "whep: a player gone without its DELETE (off the network) is hung up by Janus's keepalive connectivity checks about a minute later: its session ends and the stream's viewer count drops",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    pages: [broadcasterPage, whepPlayerPage],
  },
  async (lab) => {
    await lab.openPage(0);
    await lab.untilState("b", "live");
    await lab.openPage(1);
    await lab.untilFrames("v1", 10);
    assert.equal((await lab.healthz()).viewers, 1);
    // Nothing more from the player, no DTLS alert: before, Janus sent to it
    // and its session held a viewer place and a MAX_HTTP_SESSIONS slot for
    // good (seen: still there 100 s later).
    const down = Date.now();
    await lab.network.linkDown(lab.host(1));
    await lab.until(
      "Janus to hang the player up",
      () => lab.logged("whep-hangup") > 0 || undefined,
      120_000,
    );
    // libnice's keepalive checks, not something sooner.
    assert.ok(Date.now() - down > 30_000, `hung up ${Date.now() - down} ms`);
    await lab.healthWhen((health) => health.viewers === 0);
    // The broadcaster, a live peer of Janus all along (libnice's master once
    // cut those after 50 s with these checks), still publishes: its media
    // never stopped reaching Janus.
    assert.equal((await lab.healthz()).liveStreams, 1);
    assert.deepEqual(
      lab.events("b").filter((e) => e.kind === "state" && e.t > down),
      [],
    );
    assert.equal(lab.logged("sfu-republish"), 0);
    assert.equal(lab.logged("sfu-publisher-media"), 0);
  },
);

labTest(
  "whep: npm's whip-whep WHEPClient (offer at once, candidates by PATCH) plays through /whep/{streamId}",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    pages: [broadcasterPage, npmWhepPlayerPage],
  },
  async (lab) => {
    await lab.openPage(0);
    // A player of a stream that is not live gets 409 (it may try again).
    await lab.untilState("b", "live");
    await lab.openPage(1);
    await lab.untilFrames("v1", 10);
    assert.ok(lab.events("v1").some((e) => e.state === "whep viewing"));
  },
);

labTest(
  "whep: <live-viewer whep-url> plays from a WHEP endpoint without the signaling socket, waits while the stream is not live, goes live, and is repaired by an ICE restart by PATCH after an address change",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    pages: [broadcasterPage, whepViewerPage],
  },
  async (lab) => {
    // The viewer first: 409 (not live), shown as waiting, asked again.
    await lab.openPage(1);
    await lab.untilState("v1", "waiting");
    await lab.openPage(0);
    await lab.untilFrames("v1", 10);
    assert.ok(lab.events("v1").some((e) => e.state === "live"));
    assert.deepEqual(lab.events("v1").filter((e) => e.kind === "error"), []);
    // It never opened the signaling socket: only the broadcaster's.
    assert.equal((await lab.healthz()).connections, 1);
    // Wi-Fi to cellular: an ICE restart by PATCH, the same session.
    const sessions = () =>
      lab.serverLog.filter((l) =>
        l.includes('"kind":"joined"') && l.includes('"role":"viewer"')
      ).length;
    const before = sessions();
    assert.ok(before > 0);
    await lab.network.changeAddress(lab.host(1));
    const changed = Date.now();
    await lab.untilLogged("whep-ice-restart");
    const back = await lab.until("v1 steady after the change", () =>
      steadyFrom(
        lab.events("v1").filter((e) => e.kind === "frame").map((e) => e.t),
        changed,
      ));
    console.log(`v1: frames back ${back - changed} ms after the change`);
    // Restarted because media stopped, before ICE noticed (~5 s).
    assert.deepEqual(
      lab.events("v1").filter((e) =>
        e.kind === "ice" && e.t > changed && e.t < back &&
        (e.state === "disconnected" || e.state === "failed")
      ),
      [],
    );
    // Repaired in place: no new connection, no new session.
    assert.equal(
      lab.events("v1").filter((e) => e.kind === "pc" && e.t > changed).length,
      0,
    );
    assert.equal(lab.logged("whep-ice-restart"), 1);
    assert.equal(sessions(), before);
  },
);

labTest(
  "whep: a player of a seed broadcaster's stream (it never publishes to the SFU) gets 503 sfu-unavailable, not an answer that never plays",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    pages: [seedBroadcasterPage, whepPlayerPage],
  },
  async (lab) => {
    await lab.openPage(0);
    await lab.healthWhen((health) => health.streams === 1);
    await lab.openPage(1);
    // Asked to publish, the seed broadcaster stays silent; after the offer
    // timeout the player hears why.
    await lab.untilState("b", "asked to publish");
    await lab.untilState("v1", "whep 503");
    const error = lab.events("v1").find((e) => e.kind === "error")!;
    assert.equal(JSON.parse(error.code!).error, "sfu-unavailable");
    assert.equal(lab.logged("sfu-fallback"), 1);
  },
);

/** The broadcaster leaves: the stream ends, nothing is left in Janus. */
async function endsClean(lab: FaultLab): Promise<void> {
  await lab.closeBrowser(0);
  await lab.untilLogged("sfu-ended");
  const janus = lab.janus!;
  assert.deepEqual(await janus.rooms(), []);
  const sessions = await janus.sessions();
  assert.equal(sessions.length, 1, "only the server's own session");
  assert.equal((await janus.handles(sessions[0])).length, 1);
  // The router forgets the stream and its WHEP viewer.
  const health = await lab.healthWhen((h) => h.liveStreams === 0);
  assert.equal(health.liveStreams, 0);
}

labTest(
  "whep: Firefox's <live-viewer whep-url> plays a Chromium <live-broadcaster> through /whep: its offer refused (400: its own codec numbers), the server's offer answered",
  {
    browsers: ["chromium", "firefox"],
    janus: true,
    pages: [broadcasterPage, whepViewerPage],
  },
  async (lab) => {
    await lab.openPage(0);
    await lab.untilState("b", "live");
    await lab.openPage(1);
    await lab.untilFrames("v1", 20);
    assert.ok(lab.events("v1").some((e) => e.state === "live"));
    assert.deepEqual(lab.events("v1").filter((e) => e.kind === "error"), []);
    // Its own offer was refused once; the server's then answered.
    assert.equal(
      lab.serverLog.filter((l) => l.includes('"whep-refused"')).length,
      1,
      lab.serverLog.filter((l) => l.includes("whep")).join("\n"),
    );
    await endsClean(lab);
  },
);

labTest(
  "whep: a bare Firefox WHEP player on a server offer (empty POST, answer by PATCH) plays a Chromium <live-broadcaster>",
  {
    browsers: ["chromium", "firefox"],
    janus: true,
    pages: [broadcasterPage, whepServerOfferPage],
  },
  async (lab) => {
    await lab.openPage(0);
    await lab.untilState("b", "live");
    await lab.openPage(1);
    await lab.untilFrames("v1", 20);
    const states = lab.events("v1").map((e) => e.state)
      .filter((state) => state?.startsWith("whep "));
    assert.deepEqual(states, ["whep 201", "whep 204"]);
    await endsClean(lab);
  },
);

labTest(
  "whep: Eyevinn's webrtc-player in Firefox plays a Chromium <live-broadcaster> through /whep: its offer refused with 400, it asks for the server's offer and PATCHes its answer",
  {
    browsers: ["chromium", "firefox"],
    janus: true,
    pages: [broadcasterPage, eyevinnWhepPage(await eyevinnPlayerScript())],
  },
  async (lab) => {
    await lab.openPage(0);
    await lab.untilState("b", "live");
    await lab.openPage(1);
    await lab.untilFrames("v1", 20);
    const requests = lab.events("v1").map((e) => e.state)
      .filter((state) => state?.startsWith("whep "));
    assert.deepEqual(requests.slice(0, 3), [
      "whep POST 400",
      "whep POST 201",
      "whep PATCH 204",
    ]);
    await endsClean(lab);
  },
);
