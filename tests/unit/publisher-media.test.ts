/**
 * What Janus receives of a publisher (server/sfu/handle-events.ts
 * watchMedia): `flowing` false only once no track and no simulcast layer
 * of it is received, true again when one is.
 */
import assert from "node:assert/strict";
import { type MediaEvent, watchMedia } from "../../server/sfu/handle-events.ts";
import type { JanusHandle } from "../../server/sfu/janus-client.ts";
import { createLogger } from "../../server/observe/logger.ts";

function publisher() {
  const handle = { events: new EventTarget() };
  const events = new EventTarget();
  const told: (boolean | undefined)[] = [];
  events.addEventListener("media", (event) => {
    told.push((event as CustomEvent<MediaEvent>).detail.flowing);
  });
  watchMedia(handle as unknown as JanusHandle, {
    streamId: "s",
    viewerId: undefined,
    publisherId: "b",
    current: () => true,
    events,
    logger: createLogger("silent"),
  });
  /** Janus's `media` event for one track (and simulcast layer). */
  const media = (detail: Record<string, unknown>) =>
    handle.events.dispatchEvent(
      new CustomEvent("media", { detail: { janus: "media", ...detail } }),
    );
  return { media, told };
}

Deno.test("a video-only simulcast publisher: one layer stopped while another flows is no silence; all stopped is, and one back ends it", () => {
  const { media, told } = publisher();
  media({ mid: "0", type: "video", substream: 0, receiving: true });
  media({ mid: "0", type: "video", substream: 2, receiving: true });
  // The top layer paused for bandwidth (or by sfu-layers).
  media({ mid: "0", type: "video", substream: 2, receiving: false });
  assert.deepEqual(told, []);
  media({ mid: "0", type: "video", substream: 0, receiving: false });
  assert.deepEqual(told, [false]);
  media({ mid: "0", type: "video", substream: 0, receiving: true });
  assert.deepEqual(told, [false, true]);
});

Deno.test("audio and video: silence once neither is received", () => {
  const { media, told } = publisher();
  media({ mid: "0", type: "audio", receiving: true });
  media({ mid: "1", type: "video", receiving: true });
  media({ mid: "1", type: "video", receiving: false });
  assert.deepEqual(told, []);
  media({ mid: "0", type: "audio", receiving: false });
  assert.deepEqual(told, [false]);
});
