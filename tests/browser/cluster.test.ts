/**
 * Two signaling nodes sharing a real Redis: a broadcaster on one, viewers on
 * both, and real video in every viewer (the offers, answers and candidates
 * cross nodes through Redis).
 */
import { expect } from "@open-wc/testing";
import { executeServerCommand } from "@web/test-runner-commands";
import "../../components/live-broadcaster.ts";
import "../../components/live-viewer.ts";
import type { LiveBroadcaster } from "../../components/live-broadcaster.ts";
import {
  addBroadcaster,
  addViewer,
  frames,
  newStreamId,
  stateOf,
  videoOf,
} from "./support/helpers.ts";

describe("a cluster of two nodes", () => {
  let cluster: { redisPort: number; urls: string[] };
  beforeEach(async () => {
    cluster = (await executeServerCommand("cluster-start", { nodes: 2 })) as {
      redisPort: number;
      urls: string[];
    };
  });
  afterEach(async () => {
    document.body.replaceChildren();
    await executeServerCommand("cluster-stop", { port: cluster.redisPort });
  });

  it("plays a broadcaster on node A to viewers on node B and on node A", async () => {
    const [a, b] = cluster.urls;
    const streamId = newStreamId();
    // The viewer on B waits first: it is told when the broadcaster arrives on A.
    const far = addViewer(b, streamId) as HTMLElement & { state: string };
    await stateOf(far, "waiting");
    const broadcaster = addBroadcaster(a, streamId) as LiveBroadcaster;
    await broadcaster.start();
    await stateOf(broadcaster, "live");
    const near = addViewer(a, streamId) as HTMLElement & { state: string };
    await Promise.all([stateOf(far, "live"), stateOf(near, "live")]);
    await frames(videoOf(far));
    await frames(videoOf(near));
    expect(videoOf(far).videoWidth).to.be.greaterThan(0);
    expect(broadcaster.viewerCount).to.equal(2);

    // The viewer on B leaves; the broadcaster on A hears it through Redis.
    const left = new Promise<Event>((resolve) =>
      broadcaster.addEventListener("viewer-left", resolve, { once: true })
    );
    far.remove();
    await left;
    expect(broadcaster.viewerCount).to.equal(1);
  });
});
