/** Every string `<live-viewer>` shows, in English and Simplified Chinese. */
import { BuiltInStrings, COMMON_EN, type CommonStrings } from "./strings.ts";

export interface ViewerStrings extends CommonStrings {
  viewerIdle: string;
  viewerConnecting: string;
  viewerWaiting: string;
  viewerNegotiating: string;
  viewerLive: string;
  viewerReconnecting: string;
  viewerEnded: string;
  viewerError: string;
  negotiationFailed: string;
  clickToPlay: string;
  tapToUnmute: string;
  mute: string;
  unmute: string;
  fullscreen: string;
  pictureInPicture: string;
}

export const VIEWER_EN: ViewerStrings = {
  ...COMMON_EN,
  viewerIdle: "No stream selected",
  viewerConnecting: "Connecting to the live stream…",
  viewerWaiting: "Not live yet. The video will start by itself.",
  viewerNegotiating: "Starting video…",
  viewerLive: "Live",
  viewerReconnecting: "Connection lost. Reconnecting…",
  viewerEnded: "The stream is paused. It will resume by itself.",
  // The `cannot-decrypt` state, and each end-to-end encryption error.
  e2eeError: "Cannot decrypt this video.",
  viewerError: "The live stream cannot be shown",
  negotiationFailed: "This browser cannot play this stream.",
  clickToPlay: "Click to play",
  tapToUnmute: "Tap to unmute",
  mute: "Mute",
  unmute: "Unmute",
  fullscreen: "Full screen",
  pictureInPicture: "Picture in picture",
};

/** English here; Chinese a chunk loaded by Chinese pages only. */
export const VIEWER_STRINGS: BuiltInStrings<ViewerStrings> = new BuiltInStrings(
  VIEWER_EN,
  async () => (await import("./viewer-strings-zh.ts")).VIEWER_ZH_CN,
);
