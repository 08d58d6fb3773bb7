/**
 * How long a single node takes to start, and its memory then: spawn to
 * the first answered `/healthz`, and RSS at that moment, for our server
 * (`server/main.ts`, the default configuration) against the bare relay
 * (bench/bare-relay.ts: the runtime's own floor), interleaved. A restart
 * with the default configuration is this long without a server. Started
 * as the other benches start it (bench/server-process.ts: `deno task
 * start`'s permissions; this shell's environment passes on).
 *
 *   deno task bench:start            # 10 starts each
 *   deno task bench:start --runs 3
 */
import { parseArgs } from "node:util";
import { quantile } from "./quantile.ts";
import { BARE_RELAY, startServerProcess } from "./server-process.ts";

type Which = "ours" | "bare";

/** One start: ms from spawn to a 200 from /healthz, and RSS (MiB) then. */
async function start(which: Which): Promise<{ ms: number; rss: number }> {
  const started = performance.now();
  await using server = which === "ours"
    ? await startServerProcess()
    : await startServerProcess({}, BARE_RELAY);
  const ms = performance.now() - started;
  return { ms, rss: (await server.rss()) / 2 ** 20 };
}

/** The markdown section: `runs` starts of each, interleaved. */
export async function serverStart(runs: number): Promise<string> {
  const got: Record<Which, { ms: number; rss: number }[]> = {
    ours: [],
    bare: [],
  };
  // One start of each, unmeasured: the module cache warm for both.
  await start("bare");
  await start("ours");
  for (let i = 0; i < runs; i++) {
    for (
      const which of i % 2
        ? ["ours", "bare"] as const
        : ["bare", "ours"] as const
    ) {
      got[which].push(await start(which));
    }
  }
  const p50 = (which: Which, key: "ms" | "rss") =>
    quantile(got[which].map((r) => r[key]), 0.5);
  const max = (which: Which, key: "ms" | "rss") =>
    Math.max(...got[which].map((r) => r[key]));
  const line = (which: Which, name: string) =>
    `| ${name} | ${runs} | ${p50(which, "ms").toFixed(0)} / ${
      max(which, "ms").toFixed(0)
    } | ${p50(which, "rss").toFixed(1)} / ${max(which, "rss").toFixed(1)} |`;
  return [
    `### Server start`,
    ``,
    `Spawn to the first answered /healthz, and RSS then; the default configuration, interleaved with the bare relay (the runtime's floor).`,
    ``,
    `| server | starts | ms p50 / max | RSS MiB p50 / max |`,
    `|---|---|---|---|`,
    line("bare", "bare relay"),
    line("ours", "live-widgets"),
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { runs: { type: "string", default: "10" } },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    console.error("--runs must be a whole number of at least 1");
    Deno.exit(2);
  }
  console.log(await serverStart(runs));
}
