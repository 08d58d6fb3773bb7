/**
 * Autoplay refused: `HTMLMediaElement.play` rejects with NotAllowedError the
 * way browsers do without a user gesture. The viewer must offer a way out.
 */
import { expect } from "@open-wc/testing";
import "../../components/live-broadcaster.ts";
import "../../components/live-viewer.ts";
import {
  addBroadcaster,
  addViewer,
  frames,
  newStreamId,
  removeLiveElements,
  startSignaling,
  stateOf,
  videoOf,
  within,
} from "./support/helpers.ts";

type Policy = "allow" | "muted-only" | "deny";

/** Makes play() follow `policy`, as a browser's autoplay rules would. */
function autoplayPolicy(initial: Policy) {
  const original = HTMLMediaElement.prototype.play;
  const state = { policy: initial };
  HTMLMediaElement.prototype.play = function (this: HTMLMediaElement) {
    const refused = state.policy === "deny" ||
      (state.policy === "muted-only" && !this.muted);
    if (refused) {
      return Promise.reject(
        new DOMException("play() needs a user gesture", "NotAllowedError"),
      );
    }
    return original.call(this);
  };
  return {
    state,
    restore: () => (HTMLMediaElement.prototype.play = original),
  };
}

function button(viewer: HTMLElement, text: string): Promise<HTMLButtonElement> {
  return within(
    new Promise((resolve) => {
      const find = () => {
        const found = [...viewer.shadowRoot!.querySelectorAll("button")]
          .find((b) => b.textContent?.trim() === text);
        if (found) resolve(found);
        else requestAnimationFrame(find);
      };
      find();
    }),
    `a "${text}" button`,
  );
}

describe("autoplay refused", () => {
  afterEach(removeLiveElements);

  it("sound refused: plays muted with a tap-to-unmute button that unmutes", async () => {
    const policy = autoplayPolicy("muted-only");
    try {
      const { url } = await startSignaling();
      const streamId = newStreamId();
      await addBroadcaster(url, streamId).start();
      const viewer = addViewer(url, streamId);
      await stateOf(viewer, "live");
      const unmute = await button(viewer, "Tap to unmute");
      const video = videoOf(viewer);
      expect(video.muted).to.equal(true);
      expect(await frames(video)).to.be.greaterThan(0);
      unmute.click();
      expect(video.muted).to.equal(false);
      await viewer.updateComplete;
      expect(viewer.shadowRoot!.textContent).to.not.contain("Tap to unmute");
    } finally {
      policy.restore();
    }
  });

  it("even muted refused: a click-to-play button that starts the video", async () => {
    const policy = autoplayPolicy("deny");
    try {
      const { url } = await startSignaling();
      const streamId = newStreamId();
      await addBroadcaster(url, streamId).start();
      const viewer = addViewer(url, streamId);
      const play = await button(viewer, "Click to play");
      const video = videoOf(viewer);
      expect(video.paused).to.equal(true);
      // The click is the gesture the browser wanted.
      policy.state.policy = "allow";
      play.click();
      expect(await frames(video)).to.be.greaterThan(0);
      expect(video.paused).to.equal(false);
      await viewer.updateComplete;
      expect(viewer.shadowRoot!.textContent).to.not.contain("Click to play");
    } finally {
      policy.restore();
    }
  });
});
