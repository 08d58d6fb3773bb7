/** Removing the elements closes every socket, peer connection and track they opened. */
import { expect } from "@open-wc/testing";
import "../../components/live-broadcaster.ts";
import "../../components/live-viewer.ts";
import {
  addBroadcaster,
  addViewer,
  countResources,
  frames,
  newStreamId,
  onePlaying,
  startSignaling,
  stateOf,
  statesOf,
  videoOf,
  within,
} from "./support/helpers.ts";

function allClosed(sockets: WebSocket[]): Promise<void> {
  return within(
    Promise.all(
      sockets.map((socket) =>
        socket.readyState === WebSocket.CLOSED
          ? undefined
          : new Promise((resolve) =>
            socket.addEventListener("close", resolve, { once: true })
          )
      ),
    ).then(() => undefined),
    "every WebSocket to close",
  );
}

describe("removal", () => {
  it("closes every RTCPeerConnection, stops every track and closes every socket", async () => {
    const resources = countResources();
    try {
      const { url } = await startSignaling();
      const streamId = newStreamId();
      const broadcaster = addBroadcaster(url, streamId);
      await broadcaster.start();
      const viewers = [addViewer(url, streamId), addViewer(url, streamId)];
      for (const v of viewers) {
        await stateOf(v, "live");
        await frames(videoOf(v));
      }
      const { counts, pcs, tracks, sockets } = resources;
      expect(counts.pcsOpened).to.equal(4); // one per viewer on each side
      expect(counts.tracksStarted).to.equal(2); // camera and microphone
      expect(sockets.length).to.equal(3);

      for (const v of viewers) v.remove();
      broadcaster.remove();
      // Released once this task's microtasks have run (a move is not a removal).
      await Promise.resolve();
      expect(counts.pcsClosed).to.equal(counts.pcsOpened);
      expect(pcs.every((pc) => pc.signalingState === "closed")).to.equal(true);
      expect(counts.tracksStopped).to.equal(counts.tracksStarted);
      expect(tracks.every((track) => track.readyState === "ended")).to.equal(
        true,
      );
      await allClosed(sockets);
    } finally {
      resources.restore();
    }
  });

  it("leaves no listener on the document (a page that never changes visibility keeps no removed element alive)", async () => {
    const listening = new Set<unknown>();
    const { addEventListener, removeEventListener } = document;
    document.addEventListener = function (
      this: Document,
      ...args: Parameters<Document["addEventListener"]>
    ) {
      if (args[0] === "visibilitychange") listening.add(args[1]);
      return addEventListener.apply(this, args);
    } as Document["addEventListener"];
    document.removeEventListener = function (
      this: Document,
      ...args: Parameters<Document["removeEventListener"]>
    ) {
      if (args[0] === "visibilitychange") listening.delete(args[1]);
      return removeEventListener.apply(this, args);
    } as Document["removeEventListener"];
    try {
      const { broadcaster, viewer } = await onePlaying();
      expect(listening.size).to.be.greaterThan(0);
      viewer.remove();
      broadcaster.remove();
      await Promise.resolve();
      expect(listening.size).to.equal(0);
    } finally {
      document.addEventListener = addEventListener;
      document.removeEventListener = removeEventListener;
    }
  });

  it("a move on the page (out and back in within one task: a list reordered, a portal) keeps the sockets, connections and camera, and the picture", async () => {
    const resources = countResources();
    const elsewhere = document.createElement("div");
    document.body.append(elsewhere);
    try {
      const { broadcaster, viewer } = await onePlaying();
      const { counts, sockets } = resources;
      const before = { ...counts, sockets: sockets.length };
      const states = [statesOf(viewer), statesOf(broadcaster)];
      elsewhere.append(viewer, broadcaster);
      // Frames presented after the move, on the same connection.
      expect(await frames(videoOf(viewer))).to.be.greaterThan(0);
      expect({ ...counts, sockets: sockets.length }).to.deep.equal(before);
      expect(states).to.deep.equal([[], []]);
      expect([viewer.state, broadcaster.state]).to.deep.equal(["live", "live"]);
    } finally {
      elsewhere.remove();
      await Promise.resolve();
      resources.restore();
    }
  });
});
