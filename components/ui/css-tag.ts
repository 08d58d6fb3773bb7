/**
 * Lit's `@lit/reactive-element/css-tag.js` as the self-contained bundles
 * hold it: scripts/bundles.ts resolves Lit's import of that module here
 * (issue 24's budgets: ~190 B min+gzip less in each bundle). The same
 * exports, which are Lit's public API (`lit` re-exports them), doing the
 * same where our elements use them: each stylesheet made once and adopted
 * by every shadow root, or a `<style>` per root (with `litNonce`) where a
 * browser cannot adopt one (Safari before 16.4, Firefox before 101).
 *
 * Left out of Lit's: the check that forbids `new CSSResult()`, its cache of
 * sheets by template (each of our sheets is one object, made once), the
 * ShadyCSS polyfill's test (for browsers without shadow DOM, which cannot
 * run these bundles), and the conversion of a `CSSStyleSheet` in `styles`
 * to text where sheets cannot be adopted (such a browser cannot construct
 * one; our elements never pass one). The npm build (dist/esm) uses Lit's own.
 */
import type { CSSResultGroup, CSSResultOrNative } from "lit";

export const supportsAdoptingStyleSheets: boolean = !!globalThis.ShadowRoot &&
  "adoptedStyleSheets" in Document.prototype &&
  "replace" in CSSStyleSheet.prototype;

/** What Lit's CSSResult and ours have in common. */
interface CSSText {
  ["_$cssResult$"]: boolean;
  cssText: string;
}

/** Stylesheet text, and its sheet once a shadow root adopts it. */
export class CSSResult {
  // Lit's mark of a CSSResult (its `css` accepts only these as values).
  readonly ["_$cssResult$"] = true;
  declare readonly cssText: string;
  #sheet: CSSStyleSheet | undefined;

  constructor(cssText: string) {
    this.cssText = cssText;
  }

  get styleSheet(): CSSStyleSheet | undefined {
    if (supportsAdoptingStyleSheets && !this.#sheet) {
      (this.#sheet = new CSSStyleSheet()).replaceSync(this.cssText);
    }
    return this.#sheet;
  }

  toString(): string {
    return this.cssText;
  }
}

export const unsafeCSS = (value: unknown): CSSResult =>
  new CSSResult(String(value));

/** Lit's `css`: values may only be CSSResults or numbers. */
export const css = (
  strings: TemplateStringsArray,
  ...values: (CSSResultGroup | number)[]
): CSSResult =>
  new CSSResult(values.reduce<string>((text, value, i) => {
    if (typeof value === "number") return text + value + strings[i + 1];
    const result = value as Partial<CSSText>;
    if (result["_$cssResult$"] !== true) {
      throw new Error(
        `Value passed to 'css' function must be a 'css' function result: ${value}. Use 'unsafeCSS' to pass non-literal values, but take care to ensure page security.`,
      );
    }
    return text + result.cssText + strings[i + 1];
  }, strings[0]));

export const adoptStyles = (
  renderRoot: ShadowRoot,
  styles: CSSResultOrNative[],
): void => {
  if (supportsAdoptingStyleSheets) {
    renderRoot.adoptedStyleSheets = styles.map((s) =>
      s instanceof CSSStyleSheet ? s : s.styleSheet!
    );
    return;
  }
  for (const s of styles) {
    const style = document.createElement("style");
    const nonce = (globalThis as { litNonce?: string }).litNonce;
    if (nonce !== undefined) style.setAttribute("nonce", nonce);
    style.textContent = (s as CSSText).cssText;
    renderRoot.appendChild(style);
  }
};

// A function, not an arrow: terser then inlines Lit's one call of this
// identity (it leaves a const arrow called from a class).
export function getCompatibleStyle(s: CSSResultOrNative): CSSResultOrNative {
  return s;
}
