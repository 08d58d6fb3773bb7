/** Every string `<live-viewer>` shows, in Simplified Chinese (loaded only by Chinese pages). */
import { COMMON_ZH_CN } from "./strings-zh.ts";
import type { ViewerStrings } from "./viewer-strings.ts";

export const VIEWER_ZH_CN: ViewerStrings = {
  ...COMMON_ZH_CN,
  viewerIdle: "未选择直播",
  viewerConnecting: "正在连接直播...",
  viewerWaiting: "直播尚未开始，开始后将自动播放。",
  viewerNegotiating: "正在启动视频...",
  viewerLive: "直播中",
  viewerReconnecting: "连接中断，正在重新连接...",
  viewerEnded: "直播已暂停，恢复后将自动继续。",
  e2eeError: "无法解密此视频。",
  viewerError: "无法显示直播",
  negotiationFailed: "此浏览器无法播放此直播。",
  clickToPlay: "点击播放",
  tapToUnmute: "点击开启声音",
  mute: "静音",
  unmute: "取消静音",
  fullscreen: "全屏",
  pictureInPicture: "画中画",
};
