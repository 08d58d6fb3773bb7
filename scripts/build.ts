/**
 * `deno task build`: writes the bundles of scripts/bundles.ts to `dist/`.
 * Bundling the protocol for `platform: "browser"` also proves it uses no
 * Deno or Node APIs.
 */
import * as esbuild from "esbuild";
import { bundleOptions } from "./bundles.ts";

export async function build(outdir = "dist"): Promise<esbuild.Metafile> {
  const result = await esbuild.build(
    bundleOptions({ outdir, metafile: true }),
  );
  return result.metafile!;
}

if (import.meta.main) {
  const metafile = await build(Deno.args[0]);
  for (const [file, { bytes }] of Object.entries(metafile.outputs)) {
    console.log(`${file}  ${bytes} bytes`);
  }
  await esbuild.stop();
}
