/**
 * The browser bundles, one definition for `deno task build` (to disk) and
 * `deno task dev` (in memory, rebuilt on change): each self-contained with
 * Lit inside, for a plain `<script type="module">`.
 */
import type * as esbuild from "esbuild";

const root = new URL("..", import.meta.url).pathname;

export const BUNDLES = {
  "live-widgets": `${root}components/live-elements.ts`,
  "live-viewer": `${root}components/live-viewer.ts`,
  "live-broadcaster": `${root}components/live-broadcaster.ts`,
  protocol: `${root}protocol/browser-entry.ts`,
};

export function bundleOptions(
  overrides: esbuild.BuildOptions = {},
): esbuild.BuildOptions {
  return {
    entryPoints: BUNDLES,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "none",
    logLevel: "warning",
    ...overrides,
  };
}
