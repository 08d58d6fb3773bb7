/** One broadcaster, several viewers, real video in every one of them. */
import { expect, fixture, html } from "@open-wc/testing";
import "../../components/live-broadcaster.ts";
import "../../components/live-viewer.ts";
import type { LiveBroadcaster } from "../../components/live-broadcaster.ts";
import type { ViewerEvent } from "../../components/live-events.ts";
import {
  addBroadcaster,
  addViewer,
  countResources,
  decodedMore,
  eventually,
  frames,
  newStreamId,
  nextEvent,
  removeLiveElements,
  startSignaling,
  stateOf,
  videoOf,
  within,
} from "./support/helpers.ts";

/**
 * Resolves once every open sending connection's video maxBitrate is
 * `expected` (the budget is applied a second after each connects; no event
 * says when, so this checks once per animation frame, with a deadline).
 */
function bitratesBecome(
  pcs: RTCPeerConnection[],
  expected: number[],
): Promise<void> {
  return within(
    new Promise((resolve) => {
      const check = () => {
        if (JSON.stringify(videoBitrates(pcs)) === JSON.stringify(expected)) {
          resolve();
        } else requestAnimationFrame(check);
      };
      check();
    }),
    () =>
      `video bitrates ${expected.join(", ")} (are ${
        videoBitrates(pcs).join(", ")
      })`,
  );
}

/** maxBitrate of every open sending connection's video sender. */
function videoBitrates(pcs: RTCPeerConnection[]): (number | undefined)[] {
  return pcs
    .filter((pc) => pc.signalingState !== "closed")
    .flatMap((pc) => pc.getSenders().filter((s) => s.track?.kind === "video"))
    .map((sender) => sender.getParameters().encodings[0]?.maxBitrate);
}

describe("one broadcaster, three viewers, then a fourth", () => {
  it("shows live video in all, closes exactly the leaver's connection, serves a late joiner", async () => {
    const { url } = await startSignaling();
    const streamId = `order-${crypto.randomUUID()}`;
    const resources = countResources();
    const broadcaster = await fixture<LiveBroadcaster>(html`
      <live-broadcaster stream-id=${streamId} signaling-url=${url}
        ice-servers="[]"></live-broadcaster>
    `);
    await broadcaster.start();
    await stateOf(broadcaster, "live");

    const viewers = [
      addViewer(url, streamId),
      addViewer(url, streamId),
      addViewer(url, streamId),
    ];
    for (const v of viewers) {
      await stateOf(v, "live");
      expect(await frames(videoOf(v))).to.be.greaterThan(0);
    }
    expect(broadcaster.viewers.map((v) => v.state)).to.deep.equal([
      "connected",
      "connected",
      "connected",
    ]);
    // The upload budget (4,000 kbit/s by default) is shared: 1,333 each.
    await bitratesBecome(resources.pcs, [
      1_333_333,
      1_333_333,
      1_333_333,
    ]);

    const leaving = broadcaster.viewers[1].viewerId;
    const left = new Promise<ViewerEvent>((resolve) =>
      broadcaster.addEventListener("viewer-left", resolve, { once: true })
    );
    const closedBefore = resources.counts.pcsClosed;
    viewers[1].remove();
    const event = await within(left, "viewer-left");
    expect(event.viewerId).to.equal(leaving);
    // One count: the event's is the server's, as the element's.
    expect(event.viewerCount).to.equal(2);
    expect(broadcaster.viewerCount).to.equal(2);
    // Exactly two closed: the leaver's own and the broadcaster's for it.
    expect(resources.counts.pcsClosed - closedBefore).to.equal(2);
    expect(broadcaster.viewers.map((v) => v.viewerId)).to.not.include(leaving);
    expect(broadcaster.viewers.length).to.equal(2);
    // The others keep receiving.
    for (const v of [viewers[0], viewers[2]]) await frames(videoOf(v));

    const late = addViewer(url, streamId);
    await stateOf(late, "live");
    expect(await frames(videoOf(late))).to.be.greaterThan(0);
    expect(broadcaster.viewers.length).to.equal(3);
    broadcaster.setAttribute("upload-budget", "1500");
    await broadcaster.updateComplete;
    await bitratesBecome(resources.pcs, [
      500_000,
      500_000,
      500_000,
    ]);
    for (const v of [viewers[0], viewers[2], late]) v.remove();
    resources.restore();
  });

  it("switches camera under three viewers without renegotiating, and all keep receiving", async () => {
    const { url } = await startSignaling();
    const streamId = `order-${crypto.randomUUID()}`;
    const resources = countResources();
    const broadcaster = await fixture<LiveBroadcaster>(html`
      <live-broadcaster stream-id=${streamId} signaling-url=${url}
        ice-servers="[]"></live-broadcaster>
    `);
    await broadcaster.start();
    const viewers = [
      addViewer(url, streamId),
      addViewer(url, streamId),
      addViewer(url, streamId),
    ];
    for (const v of viewers) await stateOf(v, "live");

    // Every offer after this point would be a renegotiation.
    let negotiations = 0;
    for (const pc of resources.pcs) {
      pc.addEventListener("signalingstatechange", () => negotiations++);
    }
    const before = broadcaster.mediaStream!.getVideoTracks()[0];
    // The page's own uses of the stream are told of the swap.
    const told: MediaStreamTrack[] = [];
    broadcaster.mediaStream!.onremovetrack = ({ track }) => told.push(track);
    broadcaster.mediaStream!.onaddtrack = ({ track }) => told.push(track);
    await broadcaster.switchCamera();
    const after = broadcaster.mediaStream!.getVideoTracks()[0];
    expect(after).to.not.equal(before);
    expect(told).to.deep.equal([before, after]);
    expect(before.readyState).to.equal("ended");
    for (const v of viewers) {
      expect(await frames(videoOf(v), 10)).to.be.greaterThan(0);
    }
    expect(negotiations).to.equal(0);
    expect(resources.counts.pcsOpened).to.equal(6);
    resources.restore();
    for (const v of viewers) v.remove();
  });
});

describe("a viewer's first picture", () => {
  afterEach(removeLiveElements);

  /** A live broadcaster and a viewer of its stream, rendered, and its `<video>`. */
  async function viewingOne() {
    const { url } = await startSignaling();
    const streamId = newStreamId();
    const broadcaster = addBroadcaster(url, streamId) as LiveBroadcaster;
    await broadcaster.start();
    const viewer = addViewer(url, streamId) as HTMLElement & {
      updateComplete: Promise<boolean>;
      state: string;
    };
    await viewer.updateComplete;
    return { broadcaster, viewer, video: videoOf(viewer) };
  }

  it("loads the video alone (the audio output's set-up waits), then adds the audio once a frame is on screen, playing", async () => {
    const { viewer, video } = await viewingOne();
    const shown = () => (video.srcObject as MediaStream).getTracks();
    await nextEvent(video, "loadstart");
    expect(shown().map((track) => track.kind)).to.deep.equal(["video"]);
    await frames(video);
    await eventually(
      () => shown().length === 2,
      () => `the audio added (tracks: ${shown().map((t) => t.kind)})`,
    );
    const [audio] = (video.srcObject as MediaStream).getAudioTracks();
    expect(audio.readyState).to.equal("live");
    expect(video.paused).to.equal(false);
    await stateOf(viewer, "live");
  });

  it("in a hidden page adds the audio at once (no frame is shown there to wait for)", async () => {
    const { url } = await startSignaling();
    const streamId = newStreamId();
    const broadcaster = addBroadcaster(url, streamId) as LiveBroadcaster;
    await broadcaster.start();
    // As a background tab says it (the test page itself is visible).
    Object.defineProperty(document, "hidden", {
      configurable: true,
      get: () => true,
    });
    try {
      const viewer = addViewer(url, streamId) as HTMLElement & {
        updateComplete: Promise<boolean>;
      };
      await viewer.updateComplete;
      const video = videoOf(viewer);
      await nextEvent(video, "loadstart");
      expect(
        (video.srcObject as MediaStream).getTracks().map((track) => track.kind)
          .sort(),
      ).to.deep.equal(["audio", "video"]);
    } finally {
      delete (document as { hidden?: boolean }).hidden;
    }
  });

  it("a page hidden before the first frame adds the audio then (no frame callback comes until it is shown)", async () => {
    const { video } = await viewingOne();
    const kinds = () =>
      (video.srcObject as MediaStream).getTracks().map((track) => track.kind)
        .sort();
    await nextEvent(video, "loadstart");
    // The video alone: the audio waits for the first frame on screen.
    expect(kinds()).to.deep.equal(["video"]);
    // As a tab put in the background says it (the test page stays visible).
    Object.defineProperty(document, "hidden", {
      configurable: true,
      get: () => true,
    });
    try {
      document.dispatchEvent(new Event("visibilitychange"));
      expect(kinds()).to.deep.equal(["audio", "video"]);
    } finally {
      delete (document as { hidden?: boolean }).hidden;
    }
    // Shown again, once frames come: still one audio track, playing.
    await frames(video);
    expect(kinds()).to.deep.equal(["audio", "video"]);
    expect(video.paused).to.equal(false);
  });

  it("keeps one visibility listener however many connections it shows (a page never hidden holds no closure per connection)", async () => {
    // The visibilitychange listeners on the document now, as added and
    // removed (none fires: the test page stays visible).
    const listening = new Set<unknown>();
    const { addEventListener, removeEventListener } = document;
    document.addEventListener = function (
      this: Document,
      type: string,
      ...rest: unknown[]
    ) {
      if (type === "visibilitychange") listening.add(rest[0]);
      return Reflect.apply(addEventListener, this, [type, ...rest]);
    } as typeof addEventListener;
    document.removeEventListener = function (
      this: Document,
      type: string,
      ...rest: unknown[]
    ) {
      if (type === "visibilitychange") listening.delete(rest[0]);
      return Reflect.apply(removeEventListener, this, [type, ...rest]);
    } as typeof removeEventListener;
    try {
      const { broadcaster, viewer, video } = await viewingOne();
      await frames(video);
      const afterOne = listening.size;
      // The broadcaster leaves and comes back twice: two more connections.
      for (let i = 0; i < 2; i++) {
        broadcaster.stop();
        await stateOf(viewer, "ended");
        await broadcaster.start();
        await stateOf(viewer, "live");
      }
      expect(listening.size).to.equal(afterOne);
    } finally {
      document.addEventListener = addEventListener;
      document.removeEventListener = removeEventListener;
    }
  });
});

describe("a person pauses the picture", () => {
  afterEach(removeLiveElements);

  it("is no stall (picture-in-picture's pause, a media key): live throughout, no repair, and it plays on", async () => {
    const resources = countResources();
    try {
      const { url } = await startSignaling();
      const streamId = newStreamId();
      await addBroadcaster(url, streamId).start();
      const viewer = addViewer(url, streamId) as HTMLElement & {
        state: string;
      };
      await stateOf(viewer, "live");
      const video = videoOf(viewer);
      await frames(video);
      const opened = resources.counts.pcsOpened;
      const received = resources.pcs.find((pc) =>
        pc.getTransceivers().some((t) => t.currentDirection === "recvonly")
      )!;
      const states: string[] = [];
      viewer.addEventListener("live-state-change", () => {
        states.push(viewer.state);
      });
      video.pause();
      // The picture stands still while the stream goes on decoding: wait
      // for 2 × the stall threshold (1.2 s) of decoded frames at 30 fps.
      await decodedMore(received, 72, "frames decoded while paused");
      expect(states).to.deep.equal([]);
      expect(viewer.state).to.equal("live");
      expect(resources.counts.pcsOpened).to.equal(opened);
      await video.play();
      expect(await frames(video)).to.be.greaterThan(0);
      expect(states).to.deep.equal([]);
    } finally {
      resources.restore();
    }
  });
});
