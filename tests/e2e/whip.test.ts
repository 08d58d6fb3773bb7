/**
 * WHIP ingest with media: Debian's `whip-client` (GStreamer, nobody here
 * wrote it) publishes a test pattern to our `/whip/{streamId}` from its own
 * network namespace; our `<live-viewer>` in Chromium plays it through
 * Janus; the client's DELETE ends the stream for the viewer. Needs root,
 * like the other lab tests.
 */
import assert from "node:assert/strict";
import { whipUrlOf } from "./support/lab-pages.ts";
import { labTest } from "./support/lab-test.ts";
import { installed } from "./support/requirements.ts";
import { WhipClient } from "./support/whip-client.ts";

labTest(
  "whip: simple-whip-client publishes to /whip/{streamId}; a <live-viewer> plays it through Janus; its DELETE ends the stream",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    // Its stand-in library is built with gcc (whip-client.ts).
    requires: {
      "whip-client": installed("whip-client"),
      gcc: installed("gcc"),
    },
  },
  async (lab) => {
    // Host 0 runs the WHIP client instead of a browser.
    await lab.openPage(1);
    await lab.untilState("v1", "waiting");
    await using client = await WhipClient.start({
      url: whipUrlOf({
        name: "b",
        signalingUrl: lab.signalingUrl,
        streamId: lab.streamId,
      }),
      netns: lab.host(0).ns,
    });
    await lab.until(
      () =>
        `10 frames from the WHIP client (${lab.frames("v1")}); client: ${
          client.log.slice(-5).join(" | ")
        }`,
      () => lab.frames("v1") >= 10 || undefined,
    );
    assert.ok(lab.events("v1").some((e) => e.state === "live"));
    assert.equal((await lab.janus!.rooms()).length, 1);
    // SIGINT: the client sends its DELETE; the viewer hears the end.
    await client.stop();
    await lab.untilState("v1", "ended");
    // The room gone from Janus.
    await lab.untilLogged("sfu-ended");
    assert.deepEqual(await lab.janus!.rooms(), []);
  },
);

labTest(
  "whip: an H.264 publisher (OBS's default codec: x264, constrained baseline) through /whip/{streamId}; a Chromium <live-viewer> decodes it through Janus",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    requires: {
      "whip-client": installed("whip-client"),
      gcc: installed("gcc"),
    },
  },
  async (lab) => {
    await lab.openPage(1);
    await lab.untilState("v1", "waiting");
    await using client = await WhipClient.start({
      url: whipUrlOf({
        name: "b",
        signalingUrl: lab.signalingUrl,
        streamId: lab.streamId,
      }),
      netns: lab.host(0).ns,
      codec: "h264",
    });
    await lab.until(
      () =>
        `20 H.264 frames (${lab.frames("v1")}); client: ${
          client.log.slice(-5).join(" | ")
        }; server: ${lab.serverLog.slice(-5).join(" ")}`,
      () => lab.frames("v1") >= 20 || undefined,
    );
    // Janus carried H.264: what each handle negotiated, by its admin API.
    const janus = lab.janus!;
    const sdps: string[] = [];
    for (const session of await janus.sessions()) {
      for (const handle of await janus.handles(session)) {
        const reply = await janus.admin({
          janus: "handle_info",
          session_id: session,
          handle_id: handle,
        });
        const info = reply.info as { sdps?: { remote?: string } } | undefined;
        if (info?.sdps?.remote?.includes("m=video")) {
          sdps.push(info.sdps.remote);
        }
      }
    }
    // The publisher's offer and the viewer's answer: H.264 only.
    assert.equal(sdps.length, 2, `negotiated: ${sdps.length}`);
    for (const sdp of sdps) {
      assert.match(sdp, /a=rtpmap:\d+ H264\/90000/);
      assert.doesNotMatch(sdp, /VP8|VP9/);
    }
    await client.stop();
    await lab.untilLogged("sfu-ended");
    assert.deepEqual(await lab.janus!.rooms(), []);
  },
);

labTest(
  "whip: a publisher gone without its DELETE (killed, as a crashed encoder): Janus hears nothing more from it, its session ends MEDIA_CONNECT_TIMEOUT_MS later, and the stream takes its next publisher",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    env: { MEDIA_CONNECT_TIMEOUT_MS: "3000" },
    requires: {
      "whip-client": installed("whip-client"),
      gcc: installed("gcc"),
    },
  },
  async (lab) => {
    await lab.openPage(1);
    await lab.untilState("v1", "waiting");
    const url = whipUrlOf({
      name: "b",
      signalingUrl: lab.signalingUrl,
      streamId: lab.streamId,
    });
    const netns = lab.host(0).ns;
    const first = await WhipClient.start({ url, netns });
    await lab.untilFrames("v1", 10);
    // No DELETE, and without consent checks Janus's ICE never hangs up:
    // before, the stream stayed live with a frozen picture for good, and
    // the encoder started again got 409 stream-taken.
    await first.kill();
    await lab.untilLogged("whip-media-lost");
    await lab.untilState("v1", "ended");
    await using _again = await WhipClient.start({ url, netns });
    await lab.untilFrames("v1", 10, Date.now());
    // Once: the second publisher's session stands.
    assert.equal(
      lab.serverLog.filter((l) => l.includes('"event":"whip-media-lost"'))
        .length,
      1,
    );
  },
);
