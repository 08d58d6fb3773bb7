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
  /** End-to-end encryption failed (each element its own text: decrypt, encrypt). */
  e2eeError: string;
}

/** The error texts of {@link CommonStrings}: error-texts.ts. */
export type CommonErrorTexts = Omit<
  CommonStrings,
  "live" | "e2eeError"
>;

export const COMMON_EN: Omit<
  CommonStrings,
  keyof CommonErrorTexts | "e2eeError"
> = {
  live: "LIVE",
};

/**
 * Whether `element` gets the Chinese set (zh-CN): the language in effect for
 * it (its own `lang`, an ancestor's, or the page's) is a BCP 47 tag of
 * Chinese; all else English.
 */
function isChinese(element: Element): boolean {
  const lang = element.closest("[lang]")?.getAttribute("lang") ??
    (document.documentElement.lang || navigator.language);
  return !!lang?.toLowerCase().startsWith("zh");
}

/**
 * An element's built-in strings: English inside the bundle, Chinese a chunk
 * of its own loaded when a page in Chinese needs it (most pages never do).
 * The element waits for it before rendering ({@link ready}), so a Chinese
 * page never shows English first.
 */
export class BuiltInStrings<T> {
  declare readonly en: T;
  #loadZh: () => Promise<T>;
  #zh: T | undefined;
  #loading: Promise<void> | undefined;

  constructor(en: T, loadZh: () => Promise<T>) {
    this.en = en;
    this.#loadZh = loadZh;
  }

  /** Undefined when `element`'s strings are here; else when they will be. */
  ready(element: Element): Promise<void> | undefined {
    if (this.#zh || !isChinese(element)) return undefined;
    // A chunk that cannot load leaves English.
    return this.#loading ??= this.#loadZh().then(
      (zh) => void (this.#zh = zh),
      () => {},
    );
  }

  /** The strings `element` shows: its language's set, then the page's overrides. */
  for(element: Element, overrides: Partial<T>): T {
    return { ...(isChinese(element) && this.#zh || this.en), ...overrides };
  }
}
