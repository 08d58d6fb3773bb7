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
export type { LiveStrings } from "./strings.ts";
export { EN, ZH_CN } from "./strings.ts";
