/**
 * `<live-broadcaster whip-url>` in Chromium, with media: publishing to
 * Debian's simple-whip-server (Meetecho's, Janus behind it; nobody here
 * wrote it), checked by a subscriber speaking Janus's own API; and to our
 * own /whip/{streamId}, watched by a `<live-viewer>`, repaired after an
 * address change by an ICE restart by PATCH (no new session). Needs root.
 */
import assert from "node:assert/strict";
import {
  janusSubscriberPage,
  viewerPage,
  whipBroadcasterPage,
} from "./support/lab-pages.ts";
import { labTest } from "./support/lab-test.ts";
import { installed } from "./support/requirements.ts";
import { SimpleWhipServer } from "./support/simple-whip-server.ts";

const SIMPLE_WHIP_PORT = 7080;
const SIMPLE_WHIP_ROOM = 4242;
/** simple-whip-server's endpoint, made by the test before the page opens. */
let simpleWhipEndpoint = "";

labTest(
  "whip element: <live-broadcaster whip-url> publishes to Debian's simple-whip-server; Janus's subscriber gets frames",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    janusApiOnHub: true,
    pages: [
      whipBroadcasterPage(() => simpleWhipEndpoint),
      (page, lab) =>
        janusSubscriberPage(lab.janusHubUrl, SIMPLE_WHIP_ROOM)(page),
    ],
    // .ci/run installs it from its .deb and npm; it runs on Node.
    requires: {
      "simple-whip-server": SimpleWhipServer.installed(),
      node: installed("node"),
    },
  },
  async (lab) => {
    const room = SIMPLE_WHIP_ROOM;
    await using server = await SimpleWhipServer.start({
      netns: lab.network.hub.ns,
      janusUrl: lab.janus!.url,
      address: lab.network.hub.address,
      port: SIMPLE_WHIP_PORT,
    });
    await lab.janus!.admin({
      janus: "message_plugin",
      plugin: "janus.plugin.videoroom",
      request: { request: "create", room, publishers: 1, bitrate: 0 },
    });
    await server.createEndpoint("shop-camera", room);
    simpleWhipEndpoint = server.endpointUrl("shop-camera");
    await lab.openPage(0);
    await lab.untilState("b", "live");
    await lab.openPage(1);
    await lab.untilFrames("v1", 10);
    assert.ok(
      server.log.some((line) => line.includes("Publishing to WHIP endpoint")),
    );
    assert.deepEqual(
      lab.events("b").filter((e) => e.kind === "error"),
      [],
    );
  },
);

labTest(
  "whip element: <live-broadcaster whip-url> publishes to our /whip/{streamId}; a <live-viewer> plays it; a new address is repaired by an ICE restart by PATCH",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    pages: [whipBroadcasterPage(), viewerPage],
  },
  async (lab) => {
    await lab.openPage(1);
    await lab.untilState("v1", "waiting");
    await lab.openPage(0);
    await lab.untilFrames("v1", 10);
    // Wi-Fi to cellular: the broadcaster's address changes.
    await lab.network.changeAddress(lab.host(0));
    const changed = Date.now();
    await lab.untilLogged("whip-ice-restart");
    await lab.untilFrames("v1", 20, changed);
    // Repaired in place: one publish, one connection, no second POST.
    assert.equal(lab.logged("sfu-published"), 1);
    assert.equal(lab.events("b").filter((e) => e.kind === "pc").length, 1);
  },
);

labTest(
  "whip element: <live-broadcaster whip-url> in Firefox publishes to our /whip; a <live-viewer> in Chromium plays it",
  {
    browsers: ["firefox", "chromium"],
    janus: true,
    pages: [whipBroadcasterPage(), viewerPage],
    // Janus says the publisher's media is up well before this.
    env: { MEDIA_CONNECT_TIMEOUT_MS: "3000" },
  },
  async (lab) => {
    await lab.openPage(0);
    await lab.untilState("b", "live");
    await lab.openPage(1);
    await lab.untilFrames("v1", 10);
    // Four seconds of frames: past MEDIA_CONNECT_TIMEOUT_MS, still live.
    await lab.untilFrames("v1", 80, Date.now());
    assert.equal(lab.logged("whip-media-timeout"), 0);
    assert.equal(lab.logged("whip-hangup"), 0);
    assert.deepEqual(lab.events("b").filter((e) => e.kind === "error"), []);
  },
);
