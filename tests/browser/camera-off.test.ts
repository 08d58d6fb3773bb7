/**
 * A broadcaster's camera turned off is not a broken connection: the viewer's
 * frame watch must not take the rare (black) frames for a frozen picture and
 * tear the connection down.
 */
import { expect } from "@open-wc/testing";
import "../../components/live-broadcaster.ts";
import "../../components/live-viewer.ts";
import {
  countResources,
  frames,
  onePlaying,
  stateOf,
  videoOf,
} from "./support/helpers.ts";

/** Long enough for every repair step to have run (2 s apart, 4 s wait). */
const CAMERA_OFF_MS = 10_000;

describe("camera off", () => {
  it("10 s with the camera off build no new connection, and the viewer is live after", async () => {
    const resources = countResources();
    try {
      const { broadcaster, viewer } = await onePlaying();
      const opened = resources.counts.pcsOpened;
      broadcaster.setCamera(false);
      // The fault's own length: nothing to wait for but time.
      await new Promise((resolve) => setTimeout(resolve, CAMERA_OFF_MS));
      broadcaster.setCamera(true);
      await stateOf(viewer, "live");
      await frames(videoOf(viewer));
      expect(resources.counts.pcsOpened).to.equal(opened);
      broadcaster.remove();
      viewer.remove();
    } finally {
      resources.restore();
    }
  });
});
