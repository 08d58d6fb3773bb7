/**
 * Lit's production files as the self-contained bundles hold them, without
 * the parts no page can reach there (issue 24's budgets). The bundles and
 * the dev server only (scripts/bundles.ts, scripts/dev.ts); the npm build
 * (dist/esm) imports Lit as published, where a page's own Lit may share
 * these registries and hooks.
 *
 * Left out, each an exact text of Lit's minified files:
 * - the version registries (`reactiveElementVersions`, `litHtmlVersions`,
 *   `litElementVersions`): a list on globalThis for Lit's dev-mode warning
 *   about several Lit copies on a page; nothing reads it in production;
 * - the ShadyDOM polyfill hooks (`*PolyfillSupport`): for browsers without
 *   shadow DOM, which cannot run our ES2022 bundles anyway;
 * - the SSR hydration hook (`litElementHydrateSupport`): our elements are
 *   never server-rendered, and for an element that was not, what the hook
 *   installs does what LitElement does;
 * - Lit's two identity functions (`JSCompiler_renameProperty`, lit-html's
 *   `wrap`), left by its build for Closure and ShadyDOM: their calls become
 *   their argument;
 * - lit-html's `mathml` tag where a bundle does not use it (none does): its
 *   making is marked pure, so that esbuild drops the call with the unused
 *   name (it stays, and is made, where a bundle imports it).
 * Decorator support (`Symbol.metadata`, `litPropertyMetadata`,
 * `addInitializer`) and everything else stays: a page may subclass the
 * elements, and Lit's templates from another copy render here.
 *
 * A text not found fails the build (a Lit upgrade must not un-trim it
 * silently); tests/unit/lit-trim.test.ts checks every text against the
 * installed files.
 */
import type * as esbuild from "esbuild";

export interface LitTrim {
  /** The file, by its path's end (the production build, not development/). */
  file: string;
  find: string;
  replace: string;
  /** How many times `find` occurs in the file (1 unless said). */
  count?: number;
}

export const LIT_TRIMS: readonly LitTrim[] = [
  {
    file: "/@lit/reactive-element/reactive-element.js",
    find: "p=a.reactiveElementPolyfillSupport,d=(t,s)=>t,",
    replace: "",
  },
  {
    file: "/@lit/reactive-element/reactive-element.js",
    find:
      ',p?.({ReactiveElement:y}),(a.reactiveElementVersions??=[]).push("2.1.2");',
    replace: ";",
  },
  // JSCompiler_renameProperty's calls.
  ...["elementProperties", "finalized"].map((name) => ({
    file: "/@lit/reactive-element/reactive-element.js",
    find: `d("${name}")`,
    replace: `"${name}"`,
    count: 2,
  })),
  {
    file: "/@lit/reactive-element/reactive-element.js",
    find: 'd("properties")',
    replace: '"properties"',
  },
  {
    file: "/lit-html/lit-html.js",
    find:
      ',B=t.litHtmlPolyfillSupport;B?.(S,k),(t.litHtmlVersions??=[]).push("3.3.3");',
    replace: ";",
  },
  // lit-html's wrap and its calls.
  {
    file: "/lit-html/lit-html.js",
    find: "const t=globalThis,i=t=>t,",
    replace: "const t=globalThis,",
  },
  {
    file: "/lit-html/lit-html.js",
    find: "i(t).",
    replace: "t.",
    count: 2,
  },
  // `mathml`, the third tag.
  {
    file: "/lit-html/lit-html.js",
    find: ",T=x(3),",
    replace: ",T=/* @__PURE__ */x(3),",
  },
  {
    file: "/lit-element/lit-element.js",
    find:
      ",s.litElementHydrateSupport?.({LitElement:i});const o=s.litElementPolyfillSupport;o?.({LitElement:i});",
    replace: ";",
  },
  {
    file: "/lit-element/lit-element.js",
    find: '(s.litElementVersions??=[]).push("4.2.2");',
    replace: "",
  },
];

/** `source` with every trim of `file` applied; throws where a text is not found as often as said. */
export function trimLit(path: string, source: string): string {
  let out = source;
  for (const trim of LIT_TRIMS) {
    if (!path.endsWith(trim.file)) continue;
    const found = out.split(trim.find).length - 1;
    if (found !== (trim.count ?? 1)) {
      throw new Error(
        `lit-trim: ${
          JSON.stringify(trim.find)
        } found ${found} times in ${path}` +
          `, not ${trim.count ?? 1}: Lit changed; update scripts/lit-trim.ts`,
      );
    }
    out = out.replaceAll(trim.find, trim.replace);
  }
  return out;
}

const FILES = [...new Set(LIT_TRIMS.map((trim) => trim.file))];
const FILTER = new RegExp(
  `(${FILES.map((file) => file.replace(/[./]/g, "\\$&")).join("|")})$`,
);

export const litTrim: esbuild.Plugin = {
  name: "lit-trim",
  setup(build) {
    let trimmed = new Set<string>();
    build.onStart(() => {
      trimmed = new Set();
    });
    build.onLoad({ filter: FILTER }, async ({ path }) => {
      const file = FILES.find((end) => path.endsWith(end))!;
      trimmed.add(file);
      return {
        contents: trimLit(path, await Deno.readTextFile(path)),
        loader: "js",
      };
    });
    // A build with Lit in it loads all three files; one not loaded (Lit
    // moved a file) would keep its registries and hooks unnoticed.
    build.onEnd((result) => {
      if (trimmed.size === 0 || trimmed.size === FILES.length) return;
      const missed = FILES.filter((file) => !trimmed.has(file));
      result.errors.push({
        id: "lit-trim",
        pluginName: "lit-trim",
        text: `lit-trim: Lit's ${missed.join(", ")} not loaded: Lit changed; ` +
          "update scripts/lit-trim.ts",
        location: null,
        notes: [],
        detail: undefined,
      });
    });
  },
};
