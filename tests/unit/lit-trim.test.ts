/**
 * scripts/lit-trim.ts against the Lit that `deno install` put in
 * node_modules: every text it removes is still there, as often as it says
 * (a Lit upgrade that moves one fails here and in the build, never
 * silently), and a bundle of Lit built with it holds none of the names.
 */
import assert from "node:assert/strict";
import * as esbuild from "esbuild";
import { LIT_TRIMS, litTrim, trimLit } from "../../scripts/lit-trim.ts";

const root = new URL("../../", import.meta.url).pathname;

/** An installed Lit file as `lit` resolves it (its packages beside it). */
async function installed(
  file: string,
): Promise<{ path: string; text: string }> {
  const lit = await Deno.realPath(`${root}node_modules/lit`);
  const path = `${lit.replace(/\/lit$/, "")}${file}`;
  return { path, text: await Deno.readTextFile(path) };
}

for (const trim of LIT_TRIMS) {
  Deno.test(`lit-trim: ${trim.find} is in ${trim.file}`, async () => {
    const { text } = await installed(trim.file);
    assert.equal(text.split(trim.find).length - 1, trim.count ?? 1);
  });
}

Deno.test("lit-trim: a text not found fails, naming it", async () => {
  const { path, text } = await installed(LIT_TRIMS[0].file);
  const changed = text.replace(LIT_TRIMS[0].find, "");
  assert.throws(
    () => trimLit(path, changed),
    (error: Error) => error.message.includes(JSON.stringify(LIT_TRIMS[0].find)),
  );
});

Deno.test("lit-trim: Lit built with it holds no registry, polyfill or hydrate hook", async () => {
  const build = (plugins: esbuild.Plugin[]) =>
    esbuild.build({
      stdin: {
        contents: 'export { LitElement, html } from "lit";',
        resolveDir: root,
      },
      bundle: true,
      format: "esm",
      write: false,
      plugins,
    });
  try {
    // The hooks by name, the two identity functions by their calls.
    const NAMES =
      /Versions|PolyfillSupport|HydrateSupport|\b\w\w?\("finalized"\)|\b\w\w?\(\w+\)\.remove\(\)/;
    const plain = (await build([])).outputFiles[0].text;
    assert.match(plain, NAMES, "the test's names are Lit's");
    const trimmed = (await build([litTrim])).outputFiles[0].text;
    assert.doesNotMatch(trimmed, NAMES);
    // What stays for a page's subclass with decorators.
    assert.match(trimmed, /litPropertyMetadata/);
    assert.match(trimmed, /Symbol\.metadata/);
    assert.match(trimmed, /addInitializer/);
  } finally {
    await esbuild.stop();
  }
});
