/** Every string `<live-broadcaster>` shows, in English and Simplified Chinese. */
import { BuiltInStrings, COMMON_EN, type CommonStrings } from "./strings.ts";
import { COMMON_ERRORS_EN } from "./error-texts.ts";

export interface BroadcasterStrings extends CommonStrings {
  broadcasterIdle: string;
  broadcasterStartingCamera: string;
  broadcasterConnecting: string;
  broadcasterLive: string;
  broadcasterReconnecting: string;
  broadcasterError: string;
  start: string;
  stop: string;
  retry: string;
  muteMic: string;
  unmuteMic: string;
  cameraOff: string;
  cameraOn: string;
  switchCamera: string;
  torchOn: string;
  torchOff: string;
  /** `{count}` is replaced by the number. */
  viewers: string;
  viewerDetails: string;
  pageHidden: string;
  permissionDenied: string;
  noCamera: string;
  cameraInUse: string;
  insecureContext: string;
  cameraError: string;
  streamTaken: string;
  replaced: string;
  tooManyAttempts: string;
}

export const BROADCASTER_EN: BroadcasterStrings = {
  ...COMMON_EN,
  ...COMMON_ERRORS_EN,
  broadcasterIdle: "Ready to go live",
  broadcasterStartingCamera: "Starting the camera…",
  broadcasterConnecting: "Connecting…",
  broadcasterLive: "Live",
  broadcasterReconnecting: "Connection lost. Reconnecting…",
  broadcasterError: "Cannot go live",
  e2eeError: "End-to-end encryption is not available here.",
  start: "Go live",
  stop: "Stop",
  retry: "Try again",
  muteMic: "Mute microphone",
  unmuteMic: "Unmute microphone",
  cameraOff: "Turn camera off",
  cameraOn: "Turn camera on",
  switchCamera: "Switch camera",
  torchOn: "Turn light on",
  torchOff: "Turn light off",
  viewers: "{count} watching",
  viewerDetails: "Viewers",
  pageHidden:
    "This page is in the background: the camera may pause until you return.",
  permissionDenied:
    "Camera access was denied. Allow the camera in the browser's site settings, then try again.",
  noCamera: "No camera was found. Connect a camera, then try again.",
  cameraInUse:
    "The camera is in use by another application. Close it, then try again.",
  insecureContext: "The camera needs a secure (https) page.",
  cameraError: "The camera could not be started.",
  streamTaken: "Another device is already broadcasting this stream.",
  replaced: "This stream was taken over by your other device or tab.",
  tooManyAttempts: "Too many attempts from this network. Retrying shortly…",
};

/** English here; Chinese a chunk loaded by Chinese pages only. */
export const BROADCASTER_STRINGS: BuiltInStrings<BroadcasterStrings> =
  new BuiltInStrings(
    BROADCASTER_EN,
    async () => (await import("./broadcaster-strings-zh.ts")).BROADCASTER_ZH_CN,
  );
