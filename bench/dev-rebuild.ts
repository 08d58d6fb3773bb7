/**
 * How fast `deno task dev` rebuilds the bundles after an edit: appends a
 * comment to a component, times until the in-memory bundles are rebuilt,
 * restores the file. The file is restored even if the run fails.
 *
 *   deno task bench:rebuild
 */
import * as esbuild from "esbuild";
import { createLogger } from "../server/observe/logger.ts";
import { startDevServer } from "../scripts/dev.ts";

const FILE = new URL("../components/live-viewer.ts", import.meta.url).pathname;
const EDITS = 10;

/** Save-to-rebuilt times over `edits` real edits; the file is always restored. */
export async function devRebuild(edits = EDITS): Promise<string> {
  const original = await Deno.readTextFile(FILE);
  const dev = await startDevServer(0, createLogger("warn"));
  const times: number[] = [];
  try {
    for (let i = 0; i < edits; i++) {
      const rebuilt = dev.nextBuild();
      const start = performance.now();
      await Deno.writeTextFile(FILE, `${original}// edit ${i}\n`);
      await rebuilt;
      times.push(performance.now() - start);
    }
  } finally {
    const restored = dev.nextBuild();
    await Deno.writeTextFile(FILE, original);
    await restored;
    await dev.close();
    await esbuild.stop();
  }
  times.sort((a, b) => a - b);
  return `${edits} edits of components/live-viewer.ts, from save to all 4 bundles rebuilt in memory: ` +
    `p50 ${times[Math.floor(edits / 2)].toFixed(0)} ms, max ${
      times.at(-1)!.toFixed(0)
    } ms.`;
}

if (import.meta.main) console.log(await devRebuild());
