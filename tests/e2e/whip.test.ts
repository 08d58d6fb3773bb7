/**
 * WHIP ingest with media: Debian's `whip-client` (GStreamer, nobody here
 * wrote it) publishes a test pattern to our `/whip/{streamId}` from its own
 * network namespace; our `<live-viewer>` in Chromium plays it through
 * Janus; the client's DELETE ends the stream for the viewer. Needs root,
 * like the other lab tests.
 */
import assert from "node:assert/strict";
import { FaultLab } from "./support/fault-lab.ts";
import { whipUrlOf } from "./support/lab-pages.ts";
import { TestNetwork } from "./support/test-network.ts";
import { WhipClient } from "./support/whip-client.ts";

// Root for the namespaces; whip-client and gcc must be there (.ci/run
// installs them): a missing one fails the test rather than skipping it.
const canRun = await TestNetwork.available();

Deno.test({
  name:
    "whip: simple-whip-client publishes to /whip/{streamId}; a <live-viewer> plays it through Janus; its DELETE ends the stream",
  ignore: !canRun,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using lab = await FaultLab.start({
      browsers: ["chromium", "chromium"],
      janus: true,
    });
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
});
