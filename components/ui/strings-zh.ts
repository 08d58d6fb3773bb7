/** Text both elements share, in Simplified Chinese (loaded only by Chinese pages). */
import type { CommonStrings } from "./strings.ts";

export const COMMON_ZH_CN: Omit<CommonStrings, "e2eeError"> = {
  live: "直播",
  signalingUnavailable: "无法连接直播服务器，正在重试...",
  streamFull: "此直播观看人数已满。",
  invalidStreamId: "直播编号无效。",
  missingStreamId: "未提供直播编号。",
  notAuthorized: "您无权观看此直播。",
  authExpired: "您的观看权限已过期，请刷新页面。",
  turnAuthFailed: "中继服务器拒绝了凭据，当前网络无法连接视频。",
};
