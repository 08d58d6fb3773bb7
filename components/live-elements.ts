/** Both elements: `import "live-widgets"` or one `<script type="module">` defines them. */
export { LiveBroadcaster } from "./live-broadcaster.ts";
export type { BroadcasterState } from "./live-broadcaster.ts";
export { LiveViewer } from "./live-viewer.ts";
export type { ViewerState } from "./live-viewer.ts";
export {
  LiveErrorEvent,
  LiveStateChangeEvent,
  ViewerEvent,
} from "./live-events.ts";
export type { BroadcasterStrings } from "./broadcaster-strings.ts";
export { BROADCASTER_EN, BROADCASTER_ZH_CN } from "./broadcaster-strings.ts";
export type { ViewerStrings } from "./viewer-strings.ts";
export type { LiveErrorCode } from "./error-policy.ts";
export type { TokenProvider } from "./stream-token.ts";
export { VIEWER_EN, VIEWER_ZH_CN } from "./viewer-strings.ts";
