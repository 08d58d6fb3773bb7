/** Every string `<live-viewer>` shows, in English and Simplified Chinese. */
import { COMMON_EN, COMMON_ZH_CN, type CommonStrings } from "./strings.ts";

export interface ViewerStrings extends CommonStrings {
  viewerIdle: string;
  viewerConnecting: string;
  viewerWaiting: string;
  viewerNegotiating: string;
  viewerLive: string;
  viewerReconnecting: string;
  viewerEnded: string;
  viewerError: string;
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
  viewerError: "The live stream cannot be shown",
  clickToPlay: "Click to play",
  tapToUnmute: "Tap to unmute",
  mute: "Mute",
  unmute: "Unmute",
  fullscreen: "Full screen",
  pictureInPicture: "Picture in picture",
};

export const VIEWER_ZH_CN: ViewerStrings = {
  ...COMMON_ZH_CN,
  viewerIdle: "未选择直播",
  viewerConnecting: "正在连接直播...",
  viewerWaiting: "直播尚未开始，开始后将自动播放。",
  viewerNegotiating: "正在启动视频...",
  viewerLive: "直播中",
  viewerReconnecting: "连接中断，正在重新连接...",
  viewerEnded: "直播已暂停，恢复后将自动继续。",
  viewerError: "无法显示直播",
  clickToPlay: "点击播放",
  tapToUnmute: "点击开启声音",
  mute: "静音",
  unmute: "取消静音",
  fullscreen: "全屏",
  pictureInPicture: "画中画",
};

/** Both languages, for `stringsFor`. */
export const VIEWER_STRINGS = { en: VIEWER_EN, zh: VIEWER_ZH_CN };
