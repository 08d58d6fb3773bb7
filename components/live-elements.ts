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
export { BROADCASTER_EN } from "./broadcaster-strings.ts";
export { BROADCASTER_ZH_CN } from "./broadcaster-strings-zh.ts";
export type { ViewerStrings } from "./viewer-strings.ts";
export type { LiveErrorCode } from "./error-policy.ts";
export type { TokenProvider } from "./stream-token.ts";
export { VIEWER_EN } from "./viewer-strings.ts";
export { VIEWER_ZH_CN } from "./viewer-strings-zh.ts";
