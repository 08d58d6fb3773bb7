/**
 * A capture track that ends by itself while live: its camera unplugged,
 * taken by another application, its permission withdrawn. The browser then
 * ends the track (fires `ended`); a test can only stop it and say so. The
 * broadcaster opens the device again and puts the new track on every
 * connection (no renegotiation), or, when no camera opens, ends the stream
 * with the error a start would have had.
 */
import { expect } from "@open-wc/testing";
import "../../components/live-broadcaster.ts";
import "../../components/live-viewer.ts";
import type { LiveErrorEvent } from "../../components/live-events.ts";
import {
  addBroadcaster,
  countResources,
  decodedMore,
  eventually,
  frames,
  newStreamId,
  nextEvent,
  onePlaying,
  removeLiveElements,
  startSignaling,
  stateOf,
  videoOf,
} from "./support/helpers.ts";

/** Ends `track` as the browser does when its device goes away. */
function lose(track: MediaStreamTrack): void {
  track.stop();
  track.dispatchEvent(new Event("ended"));
}

describe("a capture device lost while live", () => {
  let resources: ReturnType<typeof countResources>;
  beforeEach(() => resources = countResources());
  afterEach(() => {
    resources.restore();
    removeLiveElements();
  });

  /** A live broadcaster, a viewer playing it, and the viewer's connection. */
  async function live() {
    const { broadcaster, viewer } = await onePlaying();
    const receiving = resources.pcs.find((pc) =>
      pc.getTransceivers().some((t) => t.currentDirection === "recvonly")
    )!;
    const sending = resources.pcs.find((pc) =>
      pc.getTransceivers().some((t) => t.currentDirection === "sendonly")
    )!;
    return { broadcaster, viewer, receiving, sending };
  }

  for (const kind of ["video", "audio"] as const) {
    it(`its ${kind} track ended: a new one is opened and sent on the same connection, the viewer plays on`, async () => {
      const { broadcaster, viewer, receiving, sending } = await live();
      const opened = resources.counts.pcsOpened;
      const stream = broadcaster.mediaStream!;
      const tracksOf = () =>
        kind === "video" ? stream.getVideoTracks() : stream.getAudioTracks();
      const [old] = tracksOf();
      // What the page's own uses of the stream are told.
      const told: string[] = [];
      for (const type of ["addtrack", "removetrack"]) {
        stream.addEventListener(type, (event) => {
          const { track } = event as MediaStreamTrackEvent;
          told.push(`${type} ${track === old ? "old" : track.kind}`);
        });
      }
      lose(old);
      await eventually(
        () => tracksOf()[0] !== old && tracksOf()[0]?.readyState === "live",
        `a new ${kind} track in the broadcaster's stream`,
      );
      const [track] = tracksOf();
      expect(tracksOf().length).to.equal(1);
      expect(told).to.deep.equal(["removetrack old", `addtrack ${kind}`]);
      // Sent once its senders have it (replaceTrack is asynchronous). Ids,
      // not tracks, in what a failure reports: Firefox cannot clone a track
      // into the test runner's message, and the run would hang instead.
      const sent = () => sending.getSenders().map((sender) => sender.track?.id);
      await eventually(
        () => sent().includes(track.id),
        () => `the new ${kind} track sent (senders: ${sent()})`,
      );
      expect(sent()).to.not.include(old.id);
      await decodedMore(receiving, 30, "frames after the new track");
      expect(resources.counts.pcsOpened).to.equal(opened);
      expect(broadcaster.state).to.equal("live");
      expect(viewer.state).to.equal("live");
    });
  }

  it("with the camera turned off, its track ended: the new one is off too", async () => {
    const { broadcaster } = await live();
    broadcaster.setCamera(false);
    const [old] = broadcaster.mediaStream!.getVideoTracks();
    lose(old);
    await eventually(
      () => broadcaster.mediaStream!.getVideoTracks()[0] !== old,
      "a new video track in the broadcaster's stream",
    );
    expect(broadcaster.mediaStream!.getVideoTracks()[0].enabled).to.equal(
      false,
    );
    broadcaster.setCamera(true);
    expect(broadcaster.mediaStream!.getVideoTracks()[0].enabled).to.equal(true);
  });

  it("its camera ended while the person switches cameras: one new camera kept, and facing-mode is what that one was asked for", async () => {
    const { broadcaster } = await live();
    // Each video track opened from here on, and the facing mode it asked.
    const asked = new Map<MediaStreamTrack, string | undefined>();
    const open = navigator.mediaDevices.getUserMedia;
    navigator.mediaDevices.getUserMedia = async (constraints) => {
      const stream = await open.call(navigator.mediaDevices, constraints);
      const video = constraints?.video as MediaTrackConstraints | undefined;
      const facing = video?.facingMode as ConstrainDOMStringParameters;
      for (const track of stream.getVideoTracks()) {
        asked.set(track, facing?.ideal as string | undefined);
      }
      return stream;
    };
    try {
      const stream = broadcaster.mediaStream!;
      // Its reopening starts first, then the switch: both open a camera.
      lose(stream.getVideoTracks()[0]);
      await broadcaster.switchCamera();
      const opened = () => [...asked.keys()];
      await eventually(
        () =>
          opened().length === 2 &&
          opened().filter((t) => t.readyState === "live").length === 1,
        () => `two cameras opened, one kept (${asked.size} opened)`,
      );
      const [kept] = stream.getVideoTracks();
      expect(stream.getVideoTracks().length).to.equal(1);
      expect(kept.readyState).to.equal("live");
      expect(asked.get(kept)).to.equal(broadcaster.facingMode);
    } finally {
      navigator.mediaDevices.getUserMedia = open;
    }
  });

  it("with a camera alone (no-audio), its track ended: the preview plays the new one", async () => {
    const { url } = await startSignaling();
    const broadcaster = addBroadcaster(url, newStreamId());
    broadcaster.setAttribute("no-audio", "");
    await broadcaster.start();
    const preview = videoOf(broadcaster);
    expect(await frames(preview)).to.be.greaterThan(0);
    const stream = broadcaster.mediaStream!;
    expect(stream.getAudioTracks().length).to.equal(0);
    const [old] = stream.getVideoTracks();
    // Its only track ended: the stream is inactive, the preview ended.
    lose(old);
    await eventually(
      () => stream.getVideoTracks()[0] !== old,
      "a new video track in the broadcaster's stream",
    );
    expect(await frames(preview)).to.be.greaterThan(0);
  });

  it("its camera ended and none opens again: the error a start would have had, and the viewer sees the stream end", async () => {
    const { broadcaster, viewer } = await live();
    const gone = navigator.mediaDevices.getUserMedia;
    navigator.mediaDevices.getUserMedia = () =>
      Promise.reject(
        new DOMException("Requested device not found", "NotFoundError"),
      );
    try {
      const error = nextEvent<LiveErrorEvent>(broadcaster, "live-error");
      lose(broadcaster.mediaStream!.getVideoTracks()[0]);
      expect((await error).code).to.equal("no-camera");
      await stateOf(broadcaster, "error");
      await stateOf(viewer, "ended");
    } finally {
      navigator.mediaDevices.getUserMedia = gone;
    }
  });
});
