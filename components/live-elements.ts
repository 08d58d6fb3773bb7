/**
 * Both elements: `import "live-widgets"` or one `<script type="module">`
 * defines them. What `live-widgets.js` exports, and the Chinese string sets
 * (in the bundle they are chunks loaded by Chinese pages only).
 */
export * from "./live-widgets-bundle.ts";
export { BROADCASTER_ZH_CN } from "./ui/broadcaster-strings-zh.ts";
export { VIEWER_ZH_CN } from "./ui/viewer-strings-zh.ts";
