/**
 * The shared session as a page meets it: a changed stream-id reuses the
 * socket, a fatal refusal releases everything, the stats box only while
 * live, and a part on every button.
 */
import { expect } from "@open-wc/testing";
import "../../components/live-broadcaster.ts";
import "../../components/live-viewer.ts";
import type { LiveErrorEvent } from "../../components/live-events.ts";
import {
  addBroadcaster,
  addViewer,
  countResources,
  frames,
  newStreamId,
  nextEvent,
  removeLiveElements,
  startSignaling,
  stateOf,
  videoOf,
  within,
} from "./support/helpers.ts";

/** Resolves when `socket` is closed (now or later). */
function closed(socket: WebSocket): Promise<unknown> {
  return socket.readyState === WebSocket.CLOSED ? Promise.resolve() : within(
    new Promise((resolve) =>
      socket.addEventListener("close", resolve, { once: true })
    ),
    "the socket to close",
  );
}

describe("session", () => {
  afterEach(removeLiveElements);

  it("50 quick stream-id changes on a viewer use one socket and end on the last stream", async () => {
    const resources = countResources();
    try {
      const { url } = await startSignaling();
      const viewer = addViewer(url, newStreamId());
      await stateOf(viewer, "waiting");
      let last = "";
      for (let i = 0; i < 50; i++) {
        last = newStreamId();
        viewer.setAttribute("stream-id", last);
        await viewer.updateComplete;
      }
      await stateOf(viewer, "waiting");
      expect(resources.sockets.length).to.equal(1);
      // And it is the last stream it waits on: its broadcaster reaches it.
      const broadcaster = addBroadcaster(url, last);
      await broadcaster.start();
      await stateOf(viewer, "live");
      expect(await frames(videoOf(viewer))).to.be.greaterThan(0);
      expect(broadcaster.viewerCount).to.equal(1);
    } finally {
      resources.restore();
    }
  });

  it("a live broadcaster moved to another stream keeps its camera and socket; that stream's viewer plays", async () => {
    const resources = countResources();
    try {
      const { url } = await startSignaling();
      const [first, second] = [newStreamId(), newStreamId()];
      const broadcaster = addBroadcaster(url, first);
      await broadcaster.start();
      const early = addViewer(url, first);
      await stateOf(early, "live");
      const later = addViewer(url, second);
      await stateOf(later, "waiting");

      broadcaster.setAttribute("stream-id", second);
      await stateOf(early, "ended");
      await stateOf(later, "live");
      expect(await frames(videoOf(later))).to.be.greaterThan(0);
      await stateOf(broadcaster, "live");
      expect(broadcaster.viewers.length).to.equal(1);
      // Camera and microphone opened once; three sockets, one per element.
      expect(resources.counts.tracksStarted).to.equal(2);
      expect(resources.counts.tracksStopped).to.equal(0);
      expect(resources.sockets.length).to.equal(3);
    } finally {
      resources.restore();
    }
  });

  it("a broadcaster refused for an invalid stream id releases camera, microphone and socket", async () => {
    const resources = countResources();
    try {
      const { url } = await startSignaling();
      const broadcaster = addBroadcaster(url, "not a valid id!");
      const error = nextEvent<LiveErrorEvent>(broadcaster, "live-error");
      await broadcaster.start();
      expect((await error).code).to.equal("invalid-stream-id");
      await stateOf(broadcaster, "error");
      await broadcaster.updateComplete;
      expect(
        broadcaster.shadowRoot!.querySelector("[part=message]")!.textContent,
      ).to.contain("This stream id is not valid.");
      expect(broadcaster.mediaStream).to.equal(undefined);
      expect(resources.counts.tracksStarted).to.equal(2);
      expect(resources.counts.tracksStopped).to.equal(2);
      expect(resources.sockets.length).to.equal(1);
      await closed(resources.sockets[0]);
    } finally {
      resources.restore();
    }
  });

  it("the stats box shows only while live", async () => {
    const { url } = await startSignaling();
    const streamId = newStreamId();
    const broadcaster = addBroadcaster(url, streamId);
    await broadcaster.start();
    const viewer = addViewer(url, streamId, { stats: "" });
    await stateOf(viewer, "live");
    const stats = () => viewer.shadowRoot!.querySelector("[part=stats]");
    // Sampled once a second: wait for the first sample's render.
    await within(
      new Promise<void>((resolve) => {
        const check = () => stats() ? resolve() : requestAnimationFrame(check);
        check();
      }),
      "the stats box",
    );
    expect(stats()!.textContent).to.match(/\d+x\d+/);
    broadcaster.stop();
    await stateOf(viewer, "ended");
    await viewer.updateComplete;
    expect(stats()).to.equal(null);
  });

  it("every button has a part", async () => {
    const { url } = await startSignaling();
    const streamId = newStreamId();
    const broadcaster = addBroadcaster(url, streamId);
    await broadcaster.start();
    const viewer = addViewer(url, streamId);
    await stateOf(viewer, "live");
    await viewer.updateComplete;
    await broadcaster.updateComplete;
    const parts = (element: HTMLElement) =>
      [...element.shadowRoot!.querySelectorAll("button")].map((b) =>
        b.getAttribute("part")
      );
    expect(parts(broadcaster)).to.include.members([
      "start-button",
      "microphone-button",
      "camera-button",
      "switch-camera-button",
    ]);
    expect(parts(broadcaster)).to.not.include(null);
    expect(parts(viewer)).to.include.members([
      "mute-button",
      "fullscreen-button",
    ]);
    expect(parts(viewer)).to.not.include(null);
  });
});
