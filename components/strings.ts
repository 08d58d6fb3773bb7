/**
 * Every visible string of both elements, in English and Simplified Chinese.
 * An element picks the set from its `lang` (or the nearest ancestor's, or
 * the page's); its `strings` property overrides any of them.
 */
export interface LiveStrings {
  // <live-viewer> states
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
  exitFullscreen: string;
  pictureInPicture: string;
  // <live-broadcaster> states and controls
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
  live: string;
  /** `{count}` is replaced by the number. */
  viewers: string;
  viewerDetails: string;
  pageHidden: string;
  // errors
  permissionDenied: string;
  noCamera: string;
  cameraInUse: string;
  insecureContext: string;
  cameraError: string;
  signalingUnavailable: string;
  streamTaken: string;
  streamFull: string;
  invalidStreamId: string;
  missingStreamId: string;
  notAuthorized: string;
  authExpired: string;
  replaced: string;
  turnAuthFailed: string;
  tooManyAttempts: string;
}

export const EN: LiveStrings = {
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
  exitFullscreen: "Exit full screen",
  pictureInPicture: "Picture in picture",
  broadcasterIdle: "Ready to go live",
  broadcasterStartingCamera: "Starting the camera…",
  broadcasterConnecting: "Connecting…",
  broadcasterLive: "Live",
  broadcasterReconnecting: "Connection lost. Reconnecting…",
  broadcasterError: "Cannot go live",
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
  live: "LIVE",
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
  signalingUnavailable: "Cannot reach the live server. Retrying…",
  streamTaken: "Another device is already broadcasting this stream.",
  streamFull: "This stream has the maximum number of viewers.",
  invalidStreamId: "This stream id is not valid.",
  missingStreamId: "No stream id was given.",
  notAuthorized: "You do not have access to this stream.",
  authExpired:
    "Your access to this stream has expired. Reload the page to continue.",
  replaced: "This stream was taken over by your other device or tab.",
  turnAuthFailed:
    "The relay server refused its credentials, so video cannot connect on this network.",
  tooManyAttempts: "Too many attempts from this network. Retrying shortly…",
};

export const ZH_CN: LiveStrings = {
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
  exitFullscreen: "退出全屏",
  pictureInPicture: "画中画",
  broadcasterIdle: "准备开始直播",
  broadcasterStartingCamera: "正在启动摄像头...",
  broadcasterConnecting: "正在连接...",
  broadcasterLive: "直播中",
  broadcasterReconnecting: "连接中断，正在重新连接...",
  broadcasterError: "无法开始直播",
  start: "开始直播",
  stop: "停止",
  retry: "重试",
  muteMic: "关闭麦克风",
  unmuteMic: "打开麦克风",
  cameraOff: "关闭摄像头",
  cameraOn: "打开摄像头",
  switchCamera: "切换摄像头",
  torchOn: "打开闪光灯",
  torchOff: "关闭闪光灯",
  live: "直播",
  viewers: "{count} 人观看",
  viewerDetails: "观众",
  pageHidden: "页面在后台运行，摄像头可能会暂停，返回页面后恢复。",
  permissionDenied:
    "摄像头权限被拒绝。请在浏览器网站设置中允许使用摄像头后重试。",
  noCamera: "未找到摄像头。请连接摄像头后重试。",
  cameraInUse: "摄像头正被其他应用使用。请关闭该应用后重试。",
  insecureContext: "摄像头需要安全 (https) 页面。",
  cameraError: "无法启动摄像头。",
  signalingUnavailable: "无法连接直播服务器，正在重试...",
  streamTaken: "已有其他设备在直播此订单。",
  streamFull: "此直播观看人数已满。",
  invalidStreamId: "直播编号无效。",
  missingStreamId: "未提供直播编号。",
  notAuthorized: "您无权观看此直播。",
  authExpired: "您的观看权限已过期，请刷新页面。",
  replaced: "此直播已由您的其他设备或页面接管。",
  turnAuthFailed: "中继服务器拒绝了凭据，当前网络无法连接视频。",
  tooManyAttempts: "当前网络尝试次数过多，稍后自动重试...",
};

/** The built-in set for a BCP 47 language tag: Chinese gets zh-CN, all else English. */
export function builtInStrings(lang: string | undefined): LiveStrings {
  return lang?.toLowerCase().startsWith("zh") ? ZH_CN : EN;
}

/** The language in effect for `element`: its own `lang`, an ancestor's, or the page's. */
export function languageOf(element: Element): string | undefined {
  const withLang = element.closest("[lang]");
  return withLang?.getAttribute("lang") ??
    (document.documentElement.lang || navigator.language);
}

/** Message text for a server or camera error code. */
export function errorText(strings: LiveStrings, code: string): string {
  switch (code) {
    case "permission-denied":
      return strings.permissionDenied;
    case "no-camera":
      return strings.noCamera;
    case "camera-in-use":
      return strings.cameraInUse;
    case "insecure-context":
      return strings.insecureContext;
    case "signaling-unavailable":
      return strings.signalingUnavailable;
    case "stream-taken":
      return strings.streamTaken;
    case "stream-full":
      return strings.streamFull;
    case "invalid-stream-id":
      return strings.invalidStreamId;
    case "missing-stream-id":
      return strings.missingStreamId;
    case "token-expired":
      return strings.authExpired;
    case "replaced":
      return strings.replaced;
    case "turn-auth-failed":
      return strings.turnAuthFailed;
    case "join-rate-limited":
      return strings.tooManyAttempts;
    default:
      return code.startsWith("token-")
        ? strings.notAuthorized
        : strings.cameraError;
  }
}
