/**
 * The demo as `deno task dev` serves it (demo/ pages and the bundles of
 * scripts/bundles.ts at `/`), written once into a folder for the nodes'
 * STATIC_DIR: unminified with inline source maps, as dev builds them.
 */
import * as esbuild from "esbuild";
import { bundleBuilds } from "../bundles.ts";

const DEMO = new URL("../../demo", import.meta.url).pathname;

/** Builds the bundles into `dir` and copies the demo pages beside them. */
export async function buildSite(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  try {
    await Promise.all(
      bundleBuilds({ outdir: dir, minify: false, sourcemap: "inline" })
        .map((options) => esbuild.build(options)),
    );
  } finally {
    // esbuild's service process would keep this one alive.
    await esbuild.stop();
  }
  for (const entry of Deno.readDirSync(DEMO)) {
    if (entry.isFile) {
      await Deno.copyFile(`${DEMO}/${entry.name}`, `${dir}/${entry.name}`);
    }
  }
}
