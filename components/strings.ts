/**
 * Text shared by both elements (errors either may show), and how an element
 * picks its language. Each element's own strings live beside it
 * (viewer-strings.ts, broadcaster-strings.ts), so the viewer bundle does not
 * carry the broadcaster's text.
 */
export interface CommonStrings {
  live: string;
  signalingUnavailable: string;
  streamFull: string;
  invalidStreamId: string;
  missingStreamId: string;
  notAuthorized: string;
  authExpired: string;
  turnAuthFailed: string;
}

export const COMMON_EN: CommonStrings = {
  live: "LIVE",
  signalingUnavailable: "Cannot reach the live server. Retrying…",
  streamFull: "This stream has the maximum number of viewers.",
  invalidStreamId: "This stream id is not valid.",
  missingStreamId: "No stream id was given.",
  notAuthorized: "You do not have access to this stream.",
  authExpired:
    "Your access to this stream has expired. Reload the page to continue.",
  turnAuthFailed:
    "The relay server refused its credentials, so video cannot connect on this network.",
};

export const COMMON_ZH_CN: CommonStrings = {
  live: "直播",
  signalingUnavailable: "无法连接直播服务器，正在重试...",
  streamFull: "此直播观看人数已满。",
  invalidStreamId: "直播编号无效。",
  missingStreamId: "未提供直播编号。",
  notAuthorized: "您无权观看此直播。",
  authExpired: "您的观看权限已过期，请刷新页面。",
  turnAuthFailed: "中继服务器拒绝了凭据，当前网络无法连接视频。",
};

/** The built-in set for a BCP 47 language tag: Chinese gets zh-CN, all else English. */
export function pickStrings<T>(lang: string | undefined, en: T, zh: T): T {
  return lang?.toLowerCase().startsWith("zh") ? zh : en;
}

/** The language in effect for `element`: its own `lang`, an ancestor's, or the page's. */
export function languageOf(element: Element): string | undefined {
  const withLang = element.closest("[lang]");
  return withLang?.getAttribute("lang") ??
    (document.documentElement.lang || navigator.language);
}

/** The strings `element` shows: the built-in set for its language, then the page's overrides. */
export function stringsFor<T>(
  element: Element,
  builtIn: { en: T; zh: T },
  overrides: Partial<T>,
): T {
  return {
    ...pickStrings(languageOf(element), builtIn.en, builtIn.zh),
    ...overrides,
  };
}
