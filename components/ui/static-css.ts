import { type CSSResult, unsafeCSS } from "lit";

/**
 * Lit's `css` for a stylesheet without `${…}` (the type allows none): the
 * same CSSResult, made by `unsafeCSS` from our own constant text, so the
 * bundles leave out `css` and its check of interpolated values (~140 B
 * min+gzip each). Named `css` so scripts/minify-templates.ts minifies it.
 *
 * `unsafeCSS` itself: a tag's strings without values are one text, which
 * `String()` (unsafeCSS's for a value not a string) gives as it is; no
 * wrapper taking `strings[0]` (terser left it calling an inlined copy).
 */
export const css: (strings: TemplateStringsArray) => CSSResult = unsafeCSS;
