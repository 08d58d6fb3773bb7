/**
 * The browser bundles, one definition for `deno task build` (to disk) and
 * `deno task dev` (in memory, rebuilt on change): each self-contained with
 * Lit inside, for a plain `<script type="module">`. Each is built on its own
 * (a shared build would move Lit into a chunk every bundle imports), with
 * code splitting for what only some pages need: the WHIP/WHEP client is a
 * chunk beside the bundle, loaded by `import()` when an element is given
 * `whip-url` or `whep-url`.
 *
 * The end-to-end encryption worker is one file of its own, `e2ee-worker.js`,
 * shared by every bundle: a worker is started from a URL, not imported, so
 * it cannot be a chunk; it holds nothing of Lit or of the elements (only
 * the frame format), so one build serves all three; and each bundle's e2ee
 * chunk finds it beside itself (`new URL("./e2ee-worker.js",
 * import.meta.url)`, which esbuild leaves as written), wherever the bundles
 * are served from (dist/, the dev server's root, a CDN path).
 */
import type * as esbuild from "esbuild";
import { minifyTemplates } from "./minify-templates.ts";
import { terserPass } from "./terser-pass.ts";
import { INTERNAL_PROPS_PATTERN } from "./internal-props.ts";
import { litTrim } from "./lit-trim.ts";

const root = new URL("..", import.meta.url).pathname;

/**
 * Lit's css-tag.js replaced by components/ui/css-tag.ts (the same exports,
 * smaller: that file says what it leaves out), in every bundle, minified or
 * not; the dev server (scripts/dev.ts) keeps the bundles' plugins, so that
 * dev and production run the same code.
 */
export const litCssTag: esbuild.Plugin = {
  name: "lit-css-tag",
  setup(build) {
    build.onResolve(
      { filter: /^(\.\/|@lit\/reactive-element\/)css-tag\.js$/ },
      ({ importer, path }) =>
        path.startsWith("@lit/") || /\/@lit\/reactive-element\//.test(importer)
          ? { path: `${root}components/ui/css-tag.ts` }
          : undefined,
    );
  },
};

/**
 * live-widgets.js only: the viewer's English error texts and `errorKey`, a
 * chunk in live-viewer.js (ui/viewer-strings.ts imports them lazily), are
 * inside this bundle already (the broadcaster's strings and `VIEWER_EN`
 * hold the texts, the broadcaster reads `errorKey`), and esbuild would make
 * that lazy import a chunk the bundle imports statically. Here it becomes the module the bundle holds. A text not found
 * fails the build.
 */
export const errorTextsInBundle: esbuild.Plugin = {
  name: "error-texts-in-bundle",
  setup(build) {
    build.onLoad(
      { filter: /\/components\/ui\/viewer-strings\.ts$/ },
      async ({ path }) => {
        const source = await Deno.readTextFile(path);
        const lazy = 'import("./viewer-error-texts.ts")';
        if (source.split(lazy).length !== 2) {
          throw new Error(`error-texts-in-bundle: ${lazy} not once in ${path}`);
        }
        return {
          // A named import: a namespace object would need esbuild's export
          // helper, a chunk shared with the e2ee one.
          contents: "import { errorKey as key, VIEWER_ERROR_TEXTS_EN } " +
            'from "./viewer-error-texts.ts";\n' +
            source.replace(
              lazy,
              "Promise.resolve({ VIEWER_ERROR_TEXTS_EN, errorKey: key })",
            ),
          loader: "ts",
        };
      },
    );
  },
};

export const BUNDLES = {
  "live-widgets": `${root}components/live-widgets-bundle.ts`,
  "live-viewer": `${root}components/live-viewer.ts`,
  "live-broadcaster": `${root}components/live-broadcaster.ts`,
  protocol: `${root}protocol/browser-entry.ts`,
  "e2ee-worker": `${root}components/e2ee/e2ee-worker.ts`,
};

/** One build per bundle, `overrides` applied to each. */
export function bundleBuilds(
  overrides: esbuild.BuildOptions = {},
): esbuild.BuildOptions[] {
  return Object.entries(BUNDLES).map(([name, entry]) => ({
    entryPoints: { [name]: entry },
    bundle: true,
    splitting: true,
    chunkNames: "[name]-[hash]",
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "none",
    // Readable templates and names where the build is not minified (the
    // stack's site).
    plugins: [
      litCssTag,
      litTrim,
      ...name === "live-widgets" ? [errorTextsInBundle] : [],
      ...overrides.minify === false ? [] : [minifyTemplates, terserPass],
    ],
    // Our own internal property names shortened (scripts/internal-props.ts).
    mangleProps: overrides.minify === false
      ? undefined
      : INTERNAL_PROPS_PATTERN,
    logLevel: "warning",
    ...overrides,
  }));
}
