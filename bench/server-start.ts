/**
 * How long a single node takes to start, and its memory then: spawn to
 * the first answered `/healthz`, and RSS at that moment, for our server
 * (`server/main.ts`, the default configuration) against the bare relay
 * (bench/bare-relay.ts: the runtime's own floor), interleaved. A restart
 * with the default configuration is this long without a server.
 *
 *   deno task bench:start            # 10 starts each
 *   deno task bench:start --runs 3
 */
import { parseArgs } from "node:util";
import { quantile } from "./quantile.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const ENTRIES = {
  ours: `${ROOT}server/main.ts`,
  bare: `${ROOT}bench/bare-relay.ts`,
} as const;

type Which = keyof typeof ENTRIES;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** One start: ms from spawn to a 200 from /healthz, and RSS (MiB) then. */
async function start(which: Which): Promise<{ ms: number; rss: number }> {
  const port = freePort();
  const stateDir = await Deno.makeTempDir({ prefix: "lw-start-" });
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--unstable-no-legacy-abort", "-A", ENTRIES[which]],
    // The default configuration: nothing of this shell's (REDIS_URL,
    // PROCESSES...) but what Deno needs to find its cache.
    clearEnv: true,
    env: {
      ...pick("PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"),
      PORT: String(port),
      HOSTNAME: "127.0.0.1",
      STATE_DIR: stateDir,
      LOG_LEVEL: "warn",
    },
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  const status = child.status.finally(() => {
    exited = true;
  });
  try {
    for (;;) {
      if (exited) throw new Error(`${which} exited before it answered`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`)
        .then(async (response) => {
          await response.body?.cancel();
          return response.ok;
        }, () => false);
      if (ok) break;
      if (performance.now() - started > 30_000) {
        throw new Error(`${which} did not start in 30 s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const ms = performance.now() - started;
    const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
    return { ms, rss };
  } finally {
    if (!exited) child.kill("SIGKILL");
    await status;
    await Deno.remove(stateDir, { recursive: true });
  }
}

/** These variables of this process, where set. */
function pick(...names: string[]): Record<string, string> {
  return Object.fromEntries(
    names.flatMap((name) => {
      const value = Deno.env.get(name);
      return value === undefined ? [] : [[name, value]];
    }),
  );
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
