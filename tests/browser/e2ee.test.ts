/**
 * End-to-end encryption between real elements peer to peer (issue 25): the
 * keyed viewer plays, a wrong key or none shows `cannot-decrypt` with no
 * frame decoded or presented, a key on a viewer of a clear stream refuses
 * its frames, and a rotation mid-stream keeps the picture.
 */
import { expect } from "@open-wc/testing";
import "../../components/live-broadcaster.ts";
import "../../components/live-viewer.ts";
import type { LiveBroadcaster } from "../../components/live-broadcaster.ts";
import type { LiveViewer } from "../../components/live-viewer.ts";
import type { LiveErrorEvent } from "../../components/live-events.ts";
import type { E2eeKey } from "../../components/e2ee/keys.ts";
import {
  countResources,
  frames,
  newStreamId,
  nextEvent,
  removeLiveElements,
  startSignaling,
  stateOf,
  statesOf,
  videoOf,
  within,
} from "./support/helpers.ts";

/** 32 random bytes as base64url, as a backend would render a key. */
function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-")
    .replace(/\//g, "_").replace(/=+$/, "");
}

/** A started broadcaster; `key` set before it is on the page. */
async function broadcast(
  url: string,
  streamId: string,
  key?: E2eeKey,
): Promise<LiveBroadcaster> {
  const element = document.createElement("live-broadcaster");
  element.setAttribute("signaling-url", url);
  element.setAttribute("stream-id", streamId);
  element.setAttribute("ice-servers", "[]");
  if (key) element.e2eeKey = key;
  document.body.append(element);
  await element.start();
  await stateOf(element, "live");
  return element;
}

/** A viewer with `set` applied before it is on the page (its key, say). */
function watch(
  url: string,
  streamId: string,
  set: (viewer: LiveViewer) => void = () => {},
): LiveViewer {
  const element = document.createElement("live-viewer");
  element.setAttribute("signaling-url", url);
  element.setAttribute("stream-id", streamId);
  element.setAttribute("ice-servers", "[]");
  set(element);
  document.body.append(element);
  return element;
}

/** Frames the video presents from now on (requestVideoFrameCallback). */
function presented(video: HTMLVideoElement): { count: number } {
  const seen = { count: 0 };
  const next = () => {
    seen.count++;
    video.requestVideoFrameCallback(next);
  };
  video.requestVideoFrameCallback(next);
  return seen;
}

/** Video packets received and frames decoded over `pcs` (the viewer's, in a page with the broadcaster's). */
async function inbound(pcs: RTCPeerConnection[]) {
  let packets = 0;
  let decoded = 0;
  for (const pc of pcs) {
    if (pc.signalingState === "closed") continue;
    (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") {
        packets += s.packetsReceived ?? 0;
        decoded += s.framesDecoded ?? 0;
      }
    });
  }
  return { packets, decoded };
}

/** Resolves once `check` holds, tried every 100 ms (statistics have no event). */
function until(check: () => Promise<boolean>, what: string): Promise<void> {
  return within(
    (async () => {
      while (!(await check())) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })(),
    what,
  );
}

describe("end-to-end encryption, peer to peer", () => {
  afterEach(removeLiveElements);

  it("a keyed viewer plays an encrypted stream; every sender and receiver has a transform", async () => {
    const resources = countResources();
    try {
      const { url } = await startSignaling();
      const streamId = newStreamId();
      const key = newKey();
      const broadcaster = await broadcast(url, streamId, key);
      const viewer = watch(url, streamId, (v) => (v.e2eeKey = key));
      await stateOf(viewer, "live");
      expect(await frames(videoOf(viewer), 10)).to.be.greaterThan(0);
      // Both ends transform every track: nothing went over the wire clear.
      const senders = resources.pcs.flatMap((pc) =>
        pc.getTransceivers().filter((t) => t.direction === "sendonly")
      );
      const receivers = resources.pcs.flatMap((pc) =>
        pc.getTransceivers().filter((t) => t.currentDirection === "recvonly")
      );
      expect(senders.length).to.equal(2);
      expect(receivers.length).to.equal(2);
      for (const { sender } of senders) {
        expect(sender.transform).to.be.instanceOf(RTCRtpScriptTransform);
      }
      for (const { receiver } of receivers) {
        expect(receiver.transform).to.be.instanceOf(RTCRtpScriptTransform);
      }
      expect(broadcaster.viewerCount).to.equal(1);
    } finally {
      resources.restore();
    }
  });

  it("a wrong key: cannot-decrypt and e2ee-decrypt-failed, no frame decoded or presented", async () => {
    const resources = countResources();
    try {
      const { url } = await startSignaling();
      const streamId = newStreamId();
      await broadcast(url, streamId, newKey());
      const viewer = watch(url, streamId, (v) => (v.e2eeKey = newKey()));
      const failed = nextEvent<LiveErrorEvent>(viewer, "live-error");
      await viewer.updateComplete;
      const shown = presented(videoOf(viewer));
      await stateOf(viewer, "cannot-decrypt");
      expect((await failed).code).to.equal("e2ee-decrypt-failed");
      // Frames did arrive, and none reached the decoder.
      await until(
        async () => (await inbound(resources.pcs)).packets > 100,
        "100 video packets at the viewer",
      );
      expect((await inbound(resources.pcs)).decoded).to.equal(0);
      expect(shown.count).to.equal(0);
      expect(videoOf(viewer).videoWidth).to.equal(0);
      expect(viewer.shadowRoot!.querySelector("[part=status]")!.textContent)
        .to.equal("Cannot decrypt this video.");
    } finally {
      resources.restore();
    }
  });

  it("no key for an encrypted stream: stream-encrypted, cannot-decrypt, no connection", async () => {
    const resources = countResources();
    try {
      const { url } = await startSignaling();
      const streamId = newStreamId();
      await broadcast(url, streamId, newKey());
      const before = resources.counts.pcsOpened;
      const viewer = watch(url, streamId);
      const refused = nextEvent<LiveErrorEvent>(viewer, "live-error");
      await stateOf(viewer, "cannot-decrypt");
      expect((await refused).code).to.equal("stream-encrypted");
      // The server paired nobody: no connection was made for this viewer.
      expect(resources.counts.pcsOpened).to.equal(before);
      expect(videoOf(viewer).videoWidth).to.equal(0);
    } finally {
      resources.restore();
    }
  });

  it("a key on a viewer of a clear stream: its frames are refused (no silent downgrade)", async () => {
    const resources = countResources();
    try {
      const { url } = await startSignaling();
      const streamId = newStreamId();
      await broadcast(url, streamId);
      const viewer = watch(url, streamId, (v) => (v.e2eeKey = newKey()));
      await viewer.updateComplete;
      const shown = presented(videoOf(viewer));
      await stateOf(viewer, "cannot-decrypt");
      await until(
        async () => (await inbound(resources.pcs)).packets > 100,
        "100 video packets at the viewer",
      );
      expect((await inbound(resources.pcs)).decoded).to.equal(0);
      expect(shown.count).to.equal(0);
    } finally {
      resources.restore();
    }
  });

  it("rotation mid-stream: the viewer's provider gives epoch 1, the picture goes on", async () => {
    const { url } = await startSignaling();
    const streamId = newStreamId();
    const key0 = newKey();
    const key1 = newKey();
    const broadcaster = await broadcast(url, streamId, { epoch: 0, key: key0 });
    const asked: [string, number][] = [];
    let answer: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const viewer = watch(url, streamId, (v) => {
      v.e2eeKey = { epoch: 0, key: key0 };
      v.e2eeKeyProvider = (id, epoch) => {
        asked.push([id, epoch]);
        answer();
        return Promise.resolve({ epoch, key: key1 });
      };
    });
    await stateOf(viewer, "live");
    const video = videoOf(viewer);
    await frames(video, 10);
    const states = statesOf(viewer);
    // The longest wait between two presented frames across the rotation.
    let last = performance.now();
    let longest = 0;
    const gap = (now: number) => {
      longest = Math.max(longest, now - last);
      last = now;
      video.requestVideoFrameCallback(gap);
    };
    video.requestVideoFrameCallback(gap);
    broadcaster.e2eeKey = { epoch: 1, key: key1 };
    await within(answered, "the provider to be asked for epoch 1");
    // Frames go on after the rotation: 60 more, and the state never left live.
    expect(await frames(video, 60)).to.be.greaterThan(0);
    expect(asked).to.deep.equal([[streamId, 1]]);
    expect(states).to.deep.equal([]);
    expect(viewer.state).to.equal("live");
    expect(longest).to.be.lessThan(1_000);
  });
});
