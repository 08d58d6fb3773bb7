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

/** The language in effect for `element`: its own `lang`, an ancestor's, or the page's. */
export function languageOf(element: Element): string | undefined {
  const withLang = element.closest("[lang]");
  return withLang?.getAttribute("lang") ??
    (document.documentElement.lang || navigator.language);
}

/** Whether a BCP 47 tag gets the Chinese set (zh-CN); all else English. */
export function isChinese(lang: string | undefined): boolean {
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
    if (this.#zh || !isChinese(languageOf(element))) return undefined;
    // A chunk that cannot load leaves English.
    return this.#loading ??= this.#loadZh().then(
      (zh) => void (this.#zh = zh),
      () => {},
    );
  }

  /** The strings `element` shows: its language's set, then the page's overrides. */
  for(element: Element, overrides: Partial<T>): T {
    const zh = isChinese(languageOf(element)) ? this.#zh : undefined;
    return { ...(zh ?? this.en), ...overrides };
  }
}
