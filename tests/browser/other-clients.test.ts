/**
 * `<live-viewer>` watching a broadcaster of another make: a client of the
 * seed protocol (tests/browser/support/fake-peers.ts) doing what the
 * protocol allows and ours does not: tracks sent in no stream
 * (`addTrack(track)`: `a=msid:- <track>`) or in one each, candidates sent
 * before the offer, a track replaced by renegotiating; and a new session
 * offered while one plays (what the switch to the SFU does), with the
 * person's pause.
 */
import { expect } from "@open-wc/testing";
import { PICTURE_WAIT_MS } from "../../components/live-viewer.ts";
import { STALL_AFTER_MS } from "../../components/media/frame-watch.ts";
import { FakeBroadcaster } from "./support/fake-peers.ts";
import {
  addViewer,
  countResources,
  decodedMore,
  eventually,
  frames,
  newStreamId,
  removeLiveElements,
  startSignaling,
  stateOf,
  statesOf,
  videoOf,
  within,
} from "./support/helpers.ts";

/** The page's connections that receive: the viewer's (the fake's send). */
function receiving(
  resources: ReturnType<typeof countResources>,
): RTCPeerConnection[] {
  return resources.pcs.filter((pc) =>
    pc.getTransceivers().some((t) => t.currentDirection === "recvonly")
  );
}

/** `pc`'s packets received of `kind` so far. */
async function received(
  pc: RTCPeerConnection,
  kind: "audio" | "video",
): Promise<number> {
  let count = 0;
  (await pc.getStats()).forEach((entry) => {
    if (entry.type === "inbound-rtp" && entry.kind === kind) {
      count = entry.packetsReceived;
    }
  });
  return count;
}

/**
 * Resolves once `video` plays: its clock moves (sound or frames), which a
 * video element not playing (paused, or nothing it can play yet) never does.
 */
function playing(video: HTMLVideoElement): Promise<true> {
  const from = video.currentTime;
  return within(
    new Promise((resolve) => {
      const check = () => {
        if (video.currentTime <= from) return;
        video.removeEventListener("timeupdate", check);
        resolve(true);
      };
      video.addEventListener("timeupdate", check);
    }),
    () =>
      `the video playing (readyState ${video.readyState}, currentTime ${video.currentTime})`,
  );
}

/**
 * Resolves once `video` shows tracks of exactly `kinds` (sorted, as
 * "audio,video"); else fails naming `what` and what it shows.
 */
function shows(
  video: HTMLVideoElement,
  kinds: string,
  what: string,
): Promise<void> {
  const shown = () =>
    (video.srcObject as MediaStream).getTracks().map((t) => t.kind).sort()
      .join(",");
  return eventually(
    () => shown() === kinds,
    () => `${what} (shown: ${shown()})`,
  );
}

describe("a broadcaster of another make", () => {
  let fake: FakeBroadcaster | undefined;
  afterEach(() => {
    removeLiveElements();
    fake?.close();
  });

  /**
   * A fake broadcaster doing as `ways` say, and a `<live-viewer>` of its
   * stream, live and showing frames.
   */
  async function watching(
    ways: Partial<
      Pick<
        FakeBroadcaster,
        | "streams"
        | "candidatesFirst"
        | "audioOnly"
        | "secondAudio"
        | "cameraOff"
      >
    > = {},
  ): Promise<{
    fake: FakeBroadcaster;
    viewer: ReturnType<typeof addViewer>;
    video: HTMLVideoElement;
  }> {
    const { url } = await startSignaling();
    const streamId = newStreamId();
    const made = fake = new FakeBroadcaster(url, streamId, () => "good");
    Object.assign(made, ways);
    await made.whenReceived("broadcaster-accepted");
    const viewer = addViewer(url, streamId);
    await stateOf(viewer, "live");
    const video = videoOf(viewer);
    // Sound alone presents no frame.
    if (!made.audioOnly && !made.cameraOff) {
      expect(await frames(video)).to.be.greaterThan(0);
    }
    return { fake: made, viewer, video };
  }

  for (
    const [streams, how] of [
      ["none", "in no stream"],
      ["each", "in a stream each"],
    ] as const
  ) {
    it(`sending its tracks ${how}: the viewer shows its video and its audio together`, async () => {
      const { fake, video } = await watching({ streams });
      await shows(video, "audio,video", "audio and video shown");
      // Really so: each track's a=msid names "-" for its stream, or a
      // stream of its own.
      const said = fake.offered[0].match(/^a=msid:.*$/gm) ?? [];
      const ids = said.map((line) => line.split(/[: ]/)[1]);
      expect(ids.length).to.equal(2);
      if (streams === "none") expect(ids).to.deep.equal(["-", "-"]);
      else expect(new Set([...ids, "-"]).size).to.equal(3);
    });
  }

  it("sending audio only: the viewer is live with the sound, on one connection past the wait for a picture", async () => {
    const resources = countResources();
    try {
      const { fake, viewer, video } = await watching({ audioOnly: true });
      const shown = (video.srcObject as MediaStream).getTracks();
      expect(shown.map((t) => t.kind)).to.deep.equal(["audio"]);
      const [pc] = receiving(resources);
      const opened = resources.counts.pcsOpened;
      const heard = await received(pc, "audio");
      expect(heard).to.be.greaterThan(0);
      const states = statesOf(viewer);
      // The fault's own length: past the wait for a picture, after which a
      // viewer with no frame builds a new connection.
      await new Promise((resolve) =>
        setTimeout(resolve, PICTURE_WAIT_MS + 2_000)
      );
      expect(states).to.deep.equal([]);
      expect(fake.joins.length).to.equal(1);
      expect(resources.counts.pcsOpened).to.equal(opened);
      expect(await received(pc, "audio")).to.be.greaterThan(heard);
      expect(video.paused).to.equal(false);
    } finally {
      resources.restore();
    }
  });

  it("sending two audio tracks in one stream (a voice and music): the viewer plays both, with the video", async () => {
    const resources = countResources();
    try {
      const { fake, video } = await watching({ secondAudio: true });
      await shows(
        video,
        "audio,audio,video",
        "both sounds and the video shown",
      );
      // Both really arrive, each on its own receiver.
      const [pc] = receiving(resources);
      const audio = pc.getReceivers().filter((r) => r.track.kind === "audio");
      expect(audio.length).to.equal(2);
      // (Ids: a failure's report cannot carry a track in Firefox.)
      const shown = (video.srcObject as MediaStream).getAudioTracks().map((
        track,
      ) => track.id);
      for (const receiver of audio) {
        expect(shown).to.include(receiver.track.id);
      }
      expect(fake.offered[0].match(/^m=audio/gm)?.length).to.equal(2);
    } finally {
      resources.restore();
    }
  });

  for (
    const [streams, how] of [
      ["one", "in the same stream"],
      ["each", "in a stream of its own"],
    ] as const
  ) {
    it(`removing its video (sent ${how}) by a renegotiation, nothing in its place: the viewer goes on with the sound, live throughout`, async () => {
      await goesOnWithTheSound(streams);
    });
  }

  it("removing its video (sent in no stream) by a renegotiation, nothing in its place: the viewer goes on with the sound, its last frame shown, live throughout", async () => {
    const resources = countResources();
    try {
      const { fake, viewer, video } = await watching({ streams: "none" });
      const states = statesOf(viewer);
      const [pc] = receiving(resources);
      await fake.removeVideo(fake.joins[0].viewerId);
      // No stream says the track left: the renegotiation only stops it.
      const stopped = () =>
        pc.getTransceivers().some((t) =>
          t.receiver.track.kind === "video" && t.currentDirection === "inactive"
        );
      await eventually(stopped, "the video's transceiver inactive");
      const heard = await received(pc, "audio");
      // Past a stall's threshold, twice over: nothing to repair.
      await new Promise((resolve) => setTimeout(resolve, 2 * STALL_AFTER_MS));
      expect(await received(pc, "audio")).to.be.greaterThan(heard);
      expect(states).to.deep.equal([]);
      expect(fake.joins.length).to.equal(1);
      expect(video.paused).to.equal(false);
      // Its last frame, not a black box.
      expect(video.videoWidth).to.be.greaterThan(0);
    } finally {
      resources.restore();
    }
  });

  async function goesOnWithTheSound(
    streams: FakeBroadcaster["streams"],
  ): Promise<void> {
    const resources = countResources();
    try {
      const { fake, viewer, video } = await watching({ streams });
      const states = statesOf(viewer);
      const [pc] = receiving(resources);
      await fake.removeVideo(fake.joins[0].viewerId);
      await shows(video, "audio", "the sound alone shown");
      const heard = await received(pc, "audio");
      // Past a stall's threshold, twice over: nothing to repair.
      await new Promise((resolve) => setTimeout(resolve, 2 * STALL_AFTER_MS));
      expect(await received(pc, "audio")).to.be.greaterThan(heard);
      expect(states).to.deep.equal([]);
      expect(fake.joins.length).to.equal(1);
      expect(video.paused).to.equal(false);
    } finally {
      resources.restore();
    }
  }

  it("stopping its video without renegotiating (replaceTrack(null)) while the sound goes on: live on the same connection throughout, the video shown again when it is back", async () => {
    const resources = countResources();
    try {
      const { fake, viewer, video } = await watching();
      const states = statesOf(viewer);
      const [pc] = receiving(resources);
      const opened = resources.counts.pcsOpened;
      const viewerId = fake.joins[0].viewerId;
      // Its video's packets in a second while it flows, to tell it stopped.
      const start = await received(pc, "video");
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const flowing = await received(pc, "video") - start;
      await fake.videoOff(viewerId, true);
      const heard = await received(pc, "audio");
      const seen = await received(pc, "video");
      // The fault's own length: past a stall, after which a frozen picture
      // asks for a repair (a new join) at once.
      await new Promise((resolve) => setTimeout(resolve, 3 * STALL_AFTER_MS));
      // Really no video (Firefox sends a packet a second), the sound on.
      expect(await received(pc, "video") - seen).to.be.below(flowing / 2);
      expect(await received(pc, "audio")).to.be.greaterThan(heard);
      expect(states).to.deep.equal([]);
      expect(fake.joins.length).to.equal(1);
      await fake.videoOff(viewerId, false);
      expect(await frames(video)).to.be.greaterThan(0);
      expect(viewer.state).to.equal("live");
      expect(states).to.deep.equal([]);
      expect(resources.counts.pcsOpened).to.equal(opened);
    } finally {
      resources.restore();
    }
  });

  it("its camera off (a video sender without a track) when the viewer joins, its sound on: live with the sound on one connection past the wait for a picture, the video shown when the camera comes on", async () => {
    const resources = countResources();
    try {
      const { fake, viewer, video } = await watching({ cameraOff: true });
      const [pc] = receiving(resources);
      const opened = resources.counts.pcsOpened;
      // The sound alone: a video that never had a frame, shown, would
      // hold it (the element's clock would not move).
      await shows(video, "audio", "the sound alone shown");
      expect(await playing(video)).to.equal(true);
      const heard = await received(pc, "audio");
      expect(heard).to.be.greaterThan(0);
      const states = statesOf(viewer);
      // The fault's own length: past the wait for a picture, after which a
      // viewer with no frame builds a new connection.
      await new Promise((resolve) =>
        setTimeout(resolve, PICTURE_WAIT_MS + 2_000)
      );
      expect(await received(pc, "audio")).to.be.greaterThan(heard);
      expect(states).to.deep.equal([]);
      expect(fake.joins.length).to.equal(1);
      await fake.videoOff(fake.joins[0].viewerId, false);
      await shows(video, "audio,video", "the video shown again");
      expect(await frames(video)).to.be.greaterThan(0);
      expect(await playing(video)).to.equal(true);
      expect(states).to.deep.equal([]);
      expect(resources.counts.pcsOpened).to.equal(opened);
    } finally {
      resources.restore();
    }
  });

  it("its camera off when the viewer joins, the person pausing the sound: the camera coming on leaves it paused", async () => {
    const resources = countResources();
    try {
      const { fake, viewer, video } = await watching({ cameraOff: true });
      const [pc] = receiving(resources);
      await shows(video, "audio", "the sound alone shown");
      expect(await playing(video)).to.equal(true);
      video.pause();
      await fake.videoOff(fake.joins[0].viewerId, false);
      await shows(video, "audio,video", "the video shown again");
      // A second of the camera's frames: its first one presented.
      await decodedMore(pc, 30, "frames decoded once the camera is on");
      expect(video.paused).to.equal(true);
      expect(viewer.state).to.equal("live");
      await video.play();
      expect(await frames(video)).to.be.greaterThan(0);
    } finally {
      resources.restore();
    }
  });

  it("its camera off when the viewer joins in a hidden page (the sound shown at once there): the sound plays", async () => {
    // As a background tab says it (the test page itself is visible).
    Object.defineProperty(document, "hidden", {
      configurable: true,
      get: () => true,
    });
    try {
      const { video } = await watching({ cameraOff: true });
      await shows(video, "audio", "the sound alone shown");
      expect(await playing(video)).to.equal(true);
    } finally {
      delete (document as { hidden?: boolean }).hidden;
    }
  });

  it("sending its candidates before its offer (and ignoring the viewer's): the viewer connects with them", async () => {
    const { fake } = await watching({ candidatesFirst: true });
    expect(fake.offered[0]).to.not.match(/^a=candidate:/m);
  });

  it("sending a new connection's candidates before its offer while the old one plays: the viewer moves to the new one with them", async () => {
    const resources = countResources();
    try {
      await movesWithEarlyCandidates(resources);
    } finally {
      resources.restore();
    }
  });

  async function movesWithEarlyCandidates(
    resources: ReturnType<typeof countResources>,
  ): Promise<void> {
    const { fake, viewer } = await watching({ candidatesFirst: true });
    const [viewerFirst] = receiving(resources);
    const first = fake.latest!;
    // A new session (its own o= line) for the same viewer: its candidates
    // come while the first connection, another ufrag, is the viewer's.
    await fake.offer(fake.joins[0].viewerId, "good");
    const second = fake.latest!;
    expect(second).to.not.equal(first);
    await within(
      new Promise<void>((resolve) => {
        const check = () => second.connectionState === "connected" && resolve();
        second.addEventListener("connectionstatechange", check);
        check();
      }),
      () => `the new connection connected (is ${second.connectionState})`,
    );
    // Only the viewer's checks, sent to the candidates it was given, can
    // have made it: the fake broadcaster ignores the viewer's. The viewer's
    // first connection closes once the new one is shown.
    await eventually(
      () => viewerFirst.signalingState === "closed",
      "the new connection took over",
    );
    expect(await frames(videoOf(viewer))).to.be.greaterThan(0);
    expect(viewer.state).to.equal("live");
  }

  for (
    const [streams, how] of [
      ["one", "in the same stream"],
      ["none", "in no stream"],
      ["each", "in a stream of its own"],
    ] as const
  ) {
    it(`replacing its video by a renegotiation (a new track ${how}): the viewer shows the new one, live throughout`, async () => {
      await showsRenegotiatedVideo(streams);
    });
  }

  async function showsRenegotiatedVideo(
    streams: FakeBroadcaster["streams"],
  ): Promise<void> {
    const { fake, viewer, video } = await watching({ streams });
    // Another size, to tell the new track's frames from the old one's.
    const width = video.videoWidth / 2;
    const states = statesOf(viewer);
    await fake.renegotiateVideo(fake.joins[0].viewerId, width);
    await eventually(
      () => video.videoWidth === width,
      () => `the new track shown (${video.videoWidth} wide)`,
    );
    expect(await frames(video)).to.be.greaterThan(0);
    const shown = (video.srcObject as MediaStream).getTracks();
    // The new video with the sound it had: no track lost, none stale.
    expect(shown.map((t) => t.kind).sort()).to.deep.equal(["audio", "video"]);
    for (const track of shown) expect(track.readyState).to.equal("live");
    // The same connection throughout: no new join, no state but live.
    expect(fake.joins.length).to.equal(1);
    expect(states).to.deep.equal([]);
  }

  it("sending sound alone, a new connection offered while one plays (its rebuild after a server restart): the new one takes over once its sound comes, live throughout", async () => {
    const resources = countResources();
    try {
      const { fake, viewer, video } = await watching({ audioOnly: true });
      // Playing the sound: the first connection is live.
      await eventually(
        () => (video.srcObject as MediaStream).getAudioTracks().length > 0,
        "the sound shown",
      );
      const states = statesOf(viewer);
      const [first] = receiving(resources);
      await fake.offer(fake.joins[0].viewerId, "good");
      // The first one is closed once the new one took over.
      await eventually(
        () => first.signalingState === "closed",
        "the new connection took over",
      );
      const [second] = receiving(resources);
      const heard = await received(second, "audio");
      await eventually(
        () =>
          (video.srcObject as MediaStream).getAudioTracks().some((track) =>
            second.getReceivers().some((r) => r.track === track)
          ),
        "the new connection's sound shown",
      );
      // Past a stall's threshold: the new one's sound keeps it live.
      await new Promise((resolve) => setTimeout(resolve, 2 * STALL_AFTER_MS));
      expect(await received(second, "audio")).to.be.greaterThan(heard);
      expect(states).to.deep.equal([]);
      expect(await playing(video)).to.equal(true);
    } finally {
      resources.restore();
    }
  });

  it("a new connection taking over (as at the switch to the SFU) while the person paused the picture: it stays paused", async () => {
    const resources = countResources();
    try {
      const { fake, viewer, video } = await watching();
      const [first] = receiving(resources);
      video.pause();
      await fake.offer(fake.joins[0].viewerId, "good");
      // The first one is closed once the new one is shown.
      await eventually(
        () => first.signalingState === "closed",
        "the new connection took over",
      );
      const [second] = receiving(resources);
      // A second of the new connection's frames: its first one shown, the
      // sound added.
      await decodedMore(second, 30, "frames decoded on the new connection");
      expect(video.paused).to.equal(true);
      expect(viewer.state).to.equal("live");
      await video.play();
      expect(await frames(video)).to.be.greaterThan(0);
    } finally {
      resources.restore();
    }
  });
});
