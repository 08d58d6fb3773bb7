/** Viewers and broadcaster recover by themselves: late start, restart, server restart. */
import { expect } from "@open-wc/testing";
import "../../components/live-broadcaster.ts";
import "../../components/live-viewer.ts";
import type { ViewerEvent } from "../../components/live-events.ts";
import {
  addBroadcaster,
  addViewer,
  countResources,
  eventually,
  frames,
  newStreamId,
  nextEvent,
  onePlaying,
  removeLiveElements,
  restartSignaling,
  startSignaling,
  stateOf,
  statesOf,
  stopSignaling,
  videoOf,
  within,
} from "./support/helpers.ts";

describe("recovery", () => {
  afterEach(removeLiveElements);

  it("the broadcaster checks its socket every 2 s, not a viewer's 10 s: its socket carries every viewer's recovery", async () => {
    const resources = countResources();
    try {
      const { url } = await startSignaling();
      await addBroadcaster(url, newStreamId()).start();
      const pongs = () =>
        resources.received.filter((m) => m.type === "pong").length;
      // Two pongs within 5 s of its start: pings 2 s apart.
      await within(
        new Promise<void>((resolve) => {
          resources.sockets[0].addEventListener("message", () => {
            if (pongs() >= 2) resolve();
          });
        }),
        () => `two pongs (${pongs()} came)`,
        5_000,
      );
    } finally {
      resources.restore();
    }
  });

  it("a viewer who arrives first waits, then plays when the broadcaster starts", async () => {
    const { url } = await startSignaling();
    const streamId = newStreamId();
    const viewer = addViewer(url, streamId);
    await stateOf(viewer, "waiting");
    const status =
      viewer.shadowRoot!.querySelector("[part=status]")!.textContent;
    expect(status).to.contain("Not live yet");

    const broadcaster = addBroadcaster(url, streamId);
    await broadcaster.start();
    await stateOf(viewer, "live");
    expect(await frames(videoOf(viewer))).to.be.greaterThan(0);
  });

  it("the broadcaster stops and starts again: viewers keep the last frame, then resume", async () => {
    const { url } = await startSignaling();
    const streamId = newStreamId();
    const broadcaster = addBroadcaster(url, streamId);
    await broadcaster.start();
    const viewers = [addViewer(url, streamId), addViewer(url, streamId)];
    for (const v of viewers) {
      await stateOf(v, "live");
      await frames(videoOf(v));
    }

    broadcaster.stop();
    for (const v of viewers) {
      await stateOf(v, "ended");
      // Never a black box: the last frame stays, drawn on the canvas.
      const canvas = v.shadowRoot!.querySelector("canvas")!;
      expect(canvas.hidden).to.equal(false);
      expect(canvas.width).to.be.greaterThan(0);
    }

    const restarted = viewers.map((v) => nextEvent(videoOf(v), "loadstart"));
    await broadcaster.start();
    await Promise.all(restarted);
    for (const v of viewers) {
      await stateOf(v, "live");
      expect(await frames(videoOf(v))).to.be.greaterThan(0);
    }
  });

  it("the signaling server restarts mid-stream (no secret): both sides come back under their ids, on the connection they had", async () => {
    const resources = countResources();
    try {
      await serverRestartKeepsIds(resources);
    } finally {
      resources.restore();
    }
  });

  /** The test above, its resources counted. */
  async function serverRestartKeepsIds(
    resources: ReturnType<typeof countResources>,
  ): Promise<void> {
    const { port, broadcaster, viewer } = await onePlaying();
    const before = broadcaster.viewers[0].viewerId;
    const trackBefore = (videoOf(viewer).srcObject as MediaStream)
      .getVideoTracks()[0];
    const states = statesOf(viewer);

    // The same viewer, named again after the reconnection: no new one.
    let joinedEvents = 0;
    broadcaster.addEventListener("viewer-joined", () => joinedEvents++);
    const joins = () =>
      resources.received.filter((m) => m.type === "viewer-joined");
    const joinsBefore = joins().length;
    await restartSignaling(port);
    await stateOf(broadcaster, "reconnecting");
    await stateOf(broadcaster, "live");
    // The key kept in STATE_DIR honours their claims: the same ids, the
    // viewer named again to the broadcaster.
    await eventually(
      () => joins().length > joinsBefore,
      () => `the viewer named again (${JSON.stringify(joins())})`,
    );
    expect(new Set(joins().map((m) => m.viewerId))).to.deep.equal(
      new Set([before]),
    );
    expect(broadcaster.viewers.map((v) => v.viewerId)).to.deep.equal([before]);
    expect(joinedEvents).to.equal(0);
    expect(await frames(videoOf(viewer))).to.be.greaterThan(0);
    // The same connection: its track still on screen.
    // (Ids: a failure's report cannot carry a track in Firefox.)
    expect(
      (videoOf(viewer).srcObject as MediaStream).getVideoTracks()[0]?.id,
    ).to.equal(trackBefore.id);
    expect(states).to.deep.equal([]);
  }

  it("the signaling server restarts with its resume key rotated: new ids, a new connection played once it decodes, the old one playing until then", async () => {
    const { port, broadcaster, viewer } = await onePlaying();
    const before = broadcaster.viewers[0].viewerId;
    const trackOf = () =>
      (videoOf(viewer).srcObject as MediaStream).getVideoTracks()[0];
    const trackBefore = trackOf();
    const states = statesOf(viewer);

    const rejoined = nextEvent<ViewerEvent>(broadcaster, "viewer-joined");
    const left = nextEvent<ViewerEvent>(broadcaster, "viewer-left");
    await restartSignaling(port, { rotateKey: true });
    await stateOf(broadcaster, "reconnecting");
    await stateOf(broadcaster, "live");
    // Every claim refused: the viewer comes back under a new id, and the
    // broadcaster builds it a new connection, and the viewer plays it once
    // it decodes (make before break); the old one is closed.
    const { viewerId } = await rejoined;
    expect(viewerId).to.not.equal(before);
    await eventually(
      () =>
        broadcaster.viewers.length === 1 &&
        broadcaster.viewers[0].viewerId === viewerId &&
        broadcaster.viewers[0].state === "connected",
      () =>
        `one connection, to ${viewerId}: ${
          JSON.stringify(broadcaster.viewers)
        }`,
    );
    // The new connection's track replaces the old one in the same video.
    await eventually(
      () => trackOf() !== trackBefore,
      "the new connection's track on screen",
    );
    expect(await frames(videoOf(viewer))).to.be.greaterThan(0);
    // The old connection played on meanwhile.
    expect(states).to.deep.equal([]);
    expect(viewer.state).to.equal("live");
    // The page heard the old id leave (nobody else will say it).
    expect((await left).viewerId).to.equal(before);
  });

  it("the signaling server is down at start: a clear error, then live once it is up", async () => {
    const { url, port } = await startSignaling();
    await stopSignaling(port);
    const broadcaster = addBroadcaster(url, newStreamId());
    const error = nextEvent<Event & { code: string }>(
      broadcaster,
      "live-error",
    );
    await broadcaster.start();
    await stateOf(broadcaster, "error");
    expect((await error).code).to.equal("signaling-unavailable");
    const message =
      broadcaster.shadowRoot!.querySelector("[part=message]")!.textContent;
    expect(message).to.contain("Cannot reach the live server");

    await restartSignaling(port);
    // The retry button reconnects at once instead of waiting out the backoff.
    broadcaster.shadowRoot!.querySelector<HTMLButtonElement>(
      "[part=message] button",
    )!.click();
    await stateOf(broadcaster, "live");
  });
});
