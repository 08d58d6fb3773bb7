/** Camera refused or missing: a clear state, an event, and a retry that works. */
import { expect } from "@open-wc/testing";
import "../../components/live-broadcaster.ts";
import type { LiveErrorEvent } from "../../components/live-events.ts";
import {
  addBroadcaster,
  newStreamId,
  nextEvent,
  startSignaling,
  stateOf,
} from "./support/helpers.ts";

function refuseCamera(name: string) {
  const original = navigator.mediaDevices.getUserMedia;
  navigator.mediaDevices.getUserMedia = () =>
    Promise.reject(new DOMException("refused", name));
  return () => (navigator.mediaDevices.getUserMedia = original);
}

describe("camera errors", () => {
  afterEach(() => {
    for (const element of document.querySelectorAll("live-broadcaster")) {
      element.remove();
    }
  });

  for (
    const [name, code, text] of [
      ["NotAllowedError", "permission-denied", "Camera access was denied"],
      ["NotFoundError", "no-camera", "No camera was found"],
      ["NotReadableError", "camera-in-use", "in use by another application"],
    ]
  ) {
    it(`${name}: state error, live-error ${code}, message, no exception in the page`, async () => {
      const restore = refuseCamera(name);
      try {
        const { url } = await startSignaling();
        const broadcaster = addBroadcaster(url, newStreamId());
        const error = nextEvent<LiveErrorEvent>(broadcaster, "live-error");
        await broadcaster.start();
        expect(broadcaster.state).to.equal("error");
        expect((await error).code).to.equal(code);
        const message = broadcaster.shadowRoot!.querySelector(
          "[part=message]",
        )!;
        expect(message.textContent).to.contain(text);
        expect(broadcaster.getAttribute("state")).to.equal("error");
      } finally {
        restore();
      }
    });
  }

  it("retry after the camera is allowed goes live", async () => {
    const restore = refuseCamera("NotAllowedError");
    const { url } = await startSignaling();
    const broadcaster = addBroadcaster(url, newStreamId());
    await broadcaster.start();
    expect(broadcaster.state).to.equal("error");
    restore();
    const retry = broadcaster.shadowRoot!.querySelector<HTMLButtonElement>(
      "[part=message] button",
    )!;
    expect(retry.textContent).to.equal("Try again");
    retry.click();
    await stateOf(broadcaster, "live");
  });
});
