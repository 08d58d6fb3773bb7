import { type CSSResult, unsafeCSS } from "lit";

/**
 * Lit's `css` for a stylesheet without `${…}` (the type allows none): the
 * same CSSResult, made by `unsafeCSS` from our own constant text, so the
 * bundles leave out `css` and its check of interpolated values (~140 B
 * min+gzip each). Named `css` so scripts/minify-templates.ts minifies it.
 */
export const css = (strings: TemplateStringsArray): CSSResult =>
  unsafeCSS(strings[0]);
