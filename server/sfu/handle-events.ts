/**
 * What a Janus handle tells the gateway's listeners: its connection came
 * up or was hung up (`media`), a viewer's link loses what Janus sends it
 * (`slowlink`), and which simulcast layer Janus sends a viewer now
 * (`substream`).
 */
import type { Logger } from "../observe/logger.ts";
import type { JanusHandle } from "./janus-client.ts";

/** A connection to Janus came up, or Janus hung it up (`up: false`). */
export interface MediaEvent {
  streamId: string;
  /** The subscriber's viewer, or undefined for the stream's publisher. */
  viewerId: string | undefined;
  /** The client whose connection it is: the viewer, or the publisher when known. */
  clientId: string | undefined;
  up: boolean;
  /** Janus's reason for a hangup ("ICE failed", "DTLS alert", ...). */
  reason?: string;
  /**
   * The publisher's only: whether Janus receives any of its tracks, as
   * Janus's `media` events say (`receiving`, after `no_media_timer`).
   */
  flowing?: boolean;
}

/**
 * Tells `media` listeners when the handle's connection comes up or Janus
 * hangs it up, while it is still the stream's publisher or the viewer's
 * subscriber (`current`: a detached handle says nothing more).
 */
export function watchMedia(
  handle: JanusHandle,
  watch: {
    streamId: string;
    viewerId: string | undefined;
    publisherId?: string;
    current(): boolean;
    events: EventTarget;
    logger: Logger;
  },
): void {
  const { streamId, viewerId, publisherId } = watch;
  const tell = (up: boolean, reason?: string, flowing?: boolean) => {
    if (!watch.current()) return;
    const detail: MediaEvent = {
      streamId,
      viewerId,
      clientId: viewerId ?? publisherId,
      up,
      reason,
      ...(flowing === undefined ? {} : { flowing }),
    };
    watch.events.dispatchEvent(new CustomEvent("media", { detail }));
  };
  handle.events.addEventListener("webrtcup", () => tell(true));
  // What Janus receives of the publisher, track by track and simulcast
  // layer by layer (Janus tells of each; a layer paused or dropped for
  // bandwidth is no silence while another flows). A subscriber sends Janus
  // no media: nothing to follow there.
  if (viewerId === undefined) {
    const receiving = new Map<string, boolean>();
    let flowing = true;
    handle.events.addEventListener("media", (event) => {
      const { mid, type, substream, receiving: now } =
        (event as CustomEvent).detail ?? {};
      receiving.set(`${mid ?? type}/${substream ?? ""}`, now === true);
      const any = [...receiving.values()].some(Boolean);
      if (any === flowing) return;
      flowing = any;
      watch.logger.info("sfu-publisher-media", { streamId, flowing });
      tell(true, undefined, flowing);
    });
  }
  handle.events.addEventListener("hangup", (event) => {
    const reason = (event as CustomEvent).detail?.reason;
    watch.logger.info("sfu-hangup", { streamId, viewerId, reason });
    tell(false, typeof reason === "string" ? reason : "hangup");
  });
}

/**
 * Janus's own count of the packets the viewer asks again for (its NACKs;
 * `slowlink_threshold` in janus.jcfg), as `slowlink` with `{ streamId,
 * viewerId }`. For a subscriber Janus says `uplink: true` (seen here with
 * loss on the viewer's side only). For the publisher (`viewerId`
 * undefined): `upstream-loss` with `{ streamId }`, what Janus lost of the
 * broadcaster's video, which its viewers then miss too.
 */
export function watchSlowlink(
  handle: JanusHandle,
  streamId: string,
  viewerId: string | undefined,
  events: EventTarget,
  logger: Logger,
): void {
  handle.events.addEventListener("slowlink", (event) => {
    const { media, uplink, lost } = (event as CustomEvent).detail;
    logger.debug("sfu-slowlink", { streamId, viewerId, media, uplink, lost });
    if (media !== "video") return;
    if (viewerId === undefined) {
      events.dispatchEvent(
        new CustomEvent("upstream-loss", { detail: { streamId } }),
      );
      return;
    }
    if (uplink !== true) return;
    events.dispatchEvent(
      new CustomEvent("slowlink", { detail: { streamId, viewerId } }),
    );
  });
}

/** Which layer Janus sends a viewer now: `substream`'s detail. */
export interface SubstreamEvent {
  streamId: string;
  viewerId: string;
  /** 0 the smallest. */
  substream: number;
}

/**
 * Janus's VideoRoom event for a subscriber whose simulcast layer changed
 * (once the keyframe a switch waits for came, or when it fell back for
 * want of packets), as `substream` ({@link SubstreamEvent}).
 */
export function watchSubstream(
  handle: JanusHandle,
  streamId: string,
  viewerId: string,
  events: EventTarget,
): void {
  handle.events.addEventListener("event", (event) => {
    const data = (event as CustomEvent).detail?.plugindata?.data;
    if (typeof data?.substream !== "number") return;
    const detail: SubstreamEvent = {
      streamId,
      viewerId,
      substream: data.substream,
    };
    events.dispatchEvent(new CustomEvent("substream", { detail }));
  });
}
