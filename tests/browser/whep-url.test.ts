/**
 * `<live-viewer whep-url>` changed or taken away while it plays (the
 * endpoints are in the page: support/whep-endpoint.ts).
 */
import { expect } from "@open-wc/testing";
import "../../components/live-broadcaster.ts";
import "../../components/live-viewer.ts";
import {
  addBroadcaster,
  frames,
  newStreamId,
  removeLiveElements,
  startSignaling,
  stateOf,
  videoOf,
} from "./support/helpers.ts";
import { inPageWhep, WHEP_ORIGIN } from "./support/whep-endpoint.ts";

type Viewer = HTMLElement & { state: string; whepUrl: string | null };

/** A viewer of `whepUrl`, on the page; its socket (if any) is `url`'s. */
function addWhepViewer(whepUrl: string, url = "ws://127.0.0.1:9/ws"): Viewer {
  const viewer = document.createElement("live-viewer") as Viewer;
  viewer.setAttribute("signaling-url", url);
  viewer.setAttribute("whep-url", whepUrl);
  viewer.setAttribute("ice-servers", "[]");
  document.body.append(viewer);
  return viewer;
}

describe("whep-url changed while playing", () => {
  afterEach(removeLiveElements);

  it("taken away: the picture goes and the viewer is idle (not reconnecting); a stream-id then plays over the socket", async () => {
    const endpoint = inPageWhep();
    try {
      const { url } = await startSignaling();
      const streamId = newStreamId();
      await addBroadcaster(url, streamId).start();
      const viewer = addWhepViewer(`${WHEP_ORIGIN}/whep/one`, url);
      await stateOf(viewer, "live");
      const video = videoOf(viewer);
      expect(await frames(video)).to.be.greaterThan(0);
      viewer.removeAttribute("whep-url");
      await stateOf(viewer, "idle");
      expect(video.srcObject).to.equal(null);
      viewer.setAttribute("stream-id", streamId);
      await stateOf(viewer, "live");
      expect(await frames(video)).to.be.greaterThan(0);
    } finally {
      endpoint.undo();
    }
  });

  it("pointed at another endpoint: plays that one, and was never reconnecting", async () => {
    const endpoint = inPageWhep();
    try {
      const viewer = addWhepViewer(`${WHEP_ORIGIN}/whep/one`);
      await stateOf(viewer, "live");
      const states: string[] = [];
      viewer.addEventListener("live-state-change", () => {
        states.push(viewer.state);
      });
      viewer.whepUrl = `${WHEP_ORIGIN}/whep/two`;
      await stateOf(viewer, "connecting");
      await stateOf(viewer, "live");
      expect(await frames(videoOf(viewer))).to.be.greaterThan(0);
      // Neither frozen nor empty meanwhile: connecting, then live.
      expect(states).to.not.include("reconnecting");
      expect(states).to.not.include("idle");
    } finally {
      endpoint.undo();
    }
  });
});
