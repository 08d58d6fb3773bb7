/**
 * `deno task build`: bundles for the browser into `dist/`. Today that is the
 * protocol module (what the elements import); bundling it for
 * `platform: "browser"` also proves it uses no Deno or Node APIs.
 */
import * as esbuild from "esbuild";

const ENTRIES = { protocol: "protocol/browser-entry.ts" };

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
