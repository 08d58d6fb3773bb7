/**
 * `deno task build`: writes the bundles of scripts/bundles.ts (and their
 * lazy chunks) to `dist/`. Bundling the protocol for `platform: "browser"`
 * also proves it uses no Deno or Node APIs.
 */
import * as esbuild from "esbuild";
import { bundleBuilds } from "./bundles.ts";

export async function build(outdir = "dist"): Promise<esbuild.Metafile> {
  const results = await Promise.all(
    bundleBuilds({ outdir, metafile: true }).map((options) =>
      esbuild.build(options)
    ),
  );
  const metafile: esbuild.Metafile = { inputs: {}, outputs: {} };
  for (const { metafile: one } of results) {
    Object.assign(metafile.inputs, one!.inputs);
    Object.assign(metafile.outputs, one!.outputs);
  }
  return metafile;
}

if (import.meta.main) {
  const metafile = await build(Deno.args[0]);
  for (const [file, { bytes }] of Object.entries(metafile.outputs)) {
    console.log(`${file}  ${bytes} bytes`);
  }
  await esbuild.stop();
}
