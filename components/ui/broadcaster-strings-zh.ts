/** Every string `<live-broadcaster>` shows, in Simplified Chinese (loaded only by Chinese pages). */
import { COMMON_ZH_CN } from "./strings-zh.ts";
import type { BroadcasterStrings } from "./broadcaster-strings.ts";

export const BROADCASTER_ZH_CN: BroadcasterStrings = {
  ...COMMON_ZH_CN,
  broadcasterIdle: "准备开始直播",
  broadcasterStartingCamera: "正在启动摄像头...",
  broadcasterConnecting: "正在连接...",
  broadcasterLive: "直播中",
  broadcasterReconnecting: "连接中断，正在重新连接...",
  broadcasterError: "无法开始直播",
  e2eeError: "此处无法使用端到端加密。",
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
  viewers: "{count} 人观看",
  viewerDetails: "观众",
  pageHidden: "页面在后台运行，摄像头可能会暂停，返回页面后恢复。",
  permissionDenied:
    "摄像头权限被拒绝。请在浏览器网站设置中允许使用摄像头后重试。",
  noCamera: "未找到摄像头。请连接摄像头后重试。",
  cameraInUse: "摄像头正被其他应用使用。请关闭该应用后重试。",
  insecureContext: "摄像头需要安全 (https) 页面。",
  cameraError: "无法启动摄像头。",
  streamTaken: "已有其他设备在直播此订单。",
  replaced: "此直播已由您的其他设备或页面接管。",
  tooManyAttempts: "当前网络尝试次数过多，稍后自动重试...",
};
