/**
 * Bundle sizes: minified and min+gzip (level 9) for each bundle, with Lit
 * inside as shipped, and of our own code alone (Lit left out as external).
 *
 *   deno task bench:size
 */
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { bundleBuilds } from "../scripts/bundles.ts";

const LIT = [
  "lit",
  "lit/*",
  "lit-html",
  "lit-html/*",
  "lit-element",
  "lit-element/*",
  "@lit/*",
];

async function sizes(
  external: string[],
): Promise<Map<string, { min: number; gzip: number }>> {
  const out = new Map<string, { min: number; gzip: number }>();
  for (
    const options of bundleBuilds({ outdir: "/sizes", write: false, external })
  ) {
    const bundle = `${Object.keys(options.entryPoints as object)[0]}.js`;
    const result = await esbuild.build(options);
    for (const file of result.outputFiles ?? []) {
      const name = file.path.split("/").pop()!;
      // A lazy chunk by its bundle and module, without the hash.
      const key = name === bundle
        ? bundle
        : `${bundle}, lazy: ${name.replace(/-[A-Z0-9]{8}\.js$/, "")}`;
      out.set(key, {
        min: file.contents.length,
        gzip: gzipSync(file.contents, { level: 9 }).length,
      });
    }
  }
  return out;
}

export async function bundleSizes(): Promise<string> {
  const shipped = await sizes([]);
  const own = await sizes(LIT);
  await esbuild.stop();
  const lines = [
    "| bundle | minified B | min+gzip B | our code alone, min+gzip B | Lit's share of min+gzip |",
    "|---|---|---|---|---|",
  ];
  for (const [name, s] of shipped) {
    const o = own.get(name)!;
    lines.push(
      `| \`${name}\` | ${s.min} | ${s.gzip} | ${o.gzip} | ${
        Math.round((1 - o.gzip / s.gzip) * 100)
      }% |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) console.log(await bundleSizes());
