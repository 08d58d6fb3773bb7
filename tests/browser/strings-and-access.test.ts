/** Language, replaceable strings, accessibility and keyboard use. */
import { expect, fixture, html } from "@open-wc/testing";
import "../../components/live-broadcaster.ts";
import "../../components/live-viewer.ts";
import type { LiveBroadcaster } from "../../components/live-broadcaster.ts";
import type { LiveViewer } from "../../components/live-viewer.ts";
import {
  countResources,
  newStreamId,
  startSignaling,
  stateOf,
} from "./support/helpers.ts";

function statusOf(element: HTMLElement): string {
  return element.shadowRoot!.querySelector("[role=status]")!.textContent!
    .trim();
}

describe("strings and accessibility", () => {
  it("a Chinese page gets Chinese text (the seed's 正在连接直播...)", async () => {
    const viewer = await fixture<LiveViewer>(html`
      <div lang="zh-CN">
        <live-viewer stream-id="order-1"
          signaling-url="ws://127.0.0.1:9/ws"></live-viewer>
      </div>
    `).then((div) => div.querySelector("live-viewer")!);
    // The first render waits for the Chinese strings (a chunk of their own).
    await viewer.updateComplete;
    expect(statusOf(viewer)).to.equal("正在连接直播...");
    viewer.remove();
  });

  it("any string can be replaced through the strings property", async () => {
    const { url } = await startSignaling();
    const viewer = await fixture<LiveViewer>(html`
      <live-viewer stream-id=${newStreamId()} signaling-url=${url}
        .strings=${{
          viewerWaiting: "Your technician has not started yet",
        }}></live-viewer>
    `);
    await stateOf(viewer, "waiting");
    await viewer.updateComplete;
    expect(statusOf(viewer)).to.equal("Your technician has not started yet");
    viewer.remove();
  });

  it("both elements pass axe, announce state politely, and are keyboard operable", async () => {
    const { url } = await startSignaling();
    const streamId = newStreamId();
    const broadcaster = await fixture<LiveBroadcaster>(html`
      <live-broadcaster stream-id=${streamId} signaling-url=${url}
        ice-servers="[]"></live-broadcaster>
    `);
    const viewer = await fixture<LiveViewer>(html`
      <live-viewer stream-id=${streamId} signaling-url=${url}
        ice-servers="[]"></live-viewer>
    `);
    await expect(broadcaster).to.be.accessible();
    await expect(viewer).to.be.accessible();
    for (const element of [broadcaster, viewer]) {
      const region = element.shadowRoot!.querySelector("[role=status]")!;
      expect(region.getAttribute("aria-live")).to.equal("polite");
    }
    // The start button is a real button: focus plus Enter starts.
    const start = broadcaster.shadowRoot!.querySelector<HTMLButtonElement>(
      "[part=start-button]",
    )!;
    expect(start.localName).to.equal("button");
    start.focus();
    expect(broadcaster.shadowRoot!.activeElement).to.equal(start);
    start.click();
    await stateOf(broadcaster, "live");
    await stateOf(viewer, "live");
    await expect(broadcaster).to.be.accessible();
    await expect(viewer).to.be.accessible();
    broadcaster.remove();
    viewer.remove();
  });
});

describe("defaults", () => {
  it("without signaling-url, connects to /ws on the origin the script came from", () => {
    const resources = countResources();
    try {
      const viewer = document.createElement("live-viewer");
      viewer.setAttribute("stream-id", "order-1");
      document.body.append(viewer);
      expect(resources.sockets.map((s) => s.url)).to.deep.equal([
        `ws://${location.host}/ws`,
      ]);
      viewer.remove();
    } finally {
      resources.restore();
    }
  });
});
