/**
 * The `live-widgets.js` bundle's entry: both elements and what
 * `live-elements.ts` exports, but the Chinese string sets, which stay chunks
 * of their own in the bundle (loaded by Chinese pages only; importing them
 * here would pull them into a chunk every page loads). The npm package's
 * `live-elements.ts` exports this and them.
 */
export { LiveBroadcaster } from "./live-broadcaster.ts";
export type { BroadcasterState } from "./live-broadcaster.ts";
export { LiveViewer } from "./live-viewer.ts";
export type { ViewerState } from "./live-viewer.ts";
export {
  LiveErrorEvent,
  LiveStateChangeEvent,
  ViewerEvent,
} from "./live-events.ts";
export type { BroadcasterStrings } from "./ui/broadcaster-strings.ts";
export { BROADCASTER_EN } from "./ui/broadcaster-strings.ts";
export type { ViewerStrings } from "./ui/viewer-strings.ts";
export type { LiveErrorCode } from "./session/error-policy.ts";
export type { TokenProvider } from "./session/stream-token.ts";
export type { E2eeKey, E2eeKeyProvider } from "./e2ee/keys.ts";
export { VIEWER_EN } from "./ui/viewer-strings-en.ts";
