/**
 * `deno task build`: bundles for the browser into `dist/`, each
 * self-contained (Lit inside) for a plain `<script type="module">`:
 * `live-widgets.js` (both elements), `live-viewer.js`, `live-broadcaster.js`,
 * and `protocol.js`. Bundling for `platform: "browser"` also proves the
 * shared protocol module uses no Deno or Node APIs.
 */
import * as esbuild from "esbuild";

const ENTRIES = {
  "live-widgets": "components/live-elements.ts",
  "live-viewer": "components/live-viewer.ts",
  "live-broadcaster": "components/live-broadcaster.ts",
  protocol: "protocol/browser-entry.ts",
};

export async function build(outdir = "dist"): Promise<esbuild.Metafile> {
  const result = await esbuild.build({
    entryPoints: ENTRIES,
    outdir,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    metafile: true,
    logLevel: "warning",
  });
  return result.metafile;
}

if (import.meta.main) {
  const metafile = await build(Deno.args[0]);
  for (const [file, { bytes }] of Object.entries(metafile.outputs)) {
    console.log(`${file}  ${bytes} bytes`);
  }
  await esbuild.stop();
}
