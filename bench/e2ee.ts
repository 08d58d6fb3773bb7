/**
 * End-to-end encryption's cost (issue 25), against the same without it in
 * the same run, in the fault lab (Janus needs a real network): one
 * `<live-broadcaster>` (640x480) and one `<live-viewer>`, each in its own
 * Chromium, both keyed or both not (made the same way: e2ee-pages.ts),
 * peer to peer (SFU_AFTER_VIEWERS=100) and through Janus
 * (SFU_AFTER_VIEWERS=0), the four cases interleaved per round. Measured:
 * the viewer's time to first frame (element attached to its first
 * presented frame) and the broadcaster's CPU (its browser's process tree,
 * cores) over a 5 s window once the viewer plays.
 *
 *   deno task bench:e2ee              # 5 rounds
 *   deno task bench:e2ee --rounds 1
 */
import * as esbuild from "esbuild";
import { parseArgs } from "node:util";
import { FaultLab } from "../tests/e2e/support/fault-lab.ts";
import {
  e2eeBroadcasterPage,
  e2eeViewerPage,
  newLabKey,
} from "../tests/e2e/support/e2ee-pages.ts";
import { treeCpuSeconds } from "./broadcaster-scaling.ts";
import { quantile } from "./quantile.ts";

const SETTLE_MS = 2_000;
const WINDOW_MS = 5_000;

type Path = "p2p" | "sfu";

interface Sample {
  path: Path;
  e2ee: boolean;
  firstFrameMs: number;
  cpu: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function once(path: Path, e2ee: boolean): Promise<Sample> {
  const key = e2ee ? newLabKey() : null;
  await using lab = await FaultLab.start({
    browsers: ["chromium", "chromium"],
    janus: path === "sfu",
    env: { SFU_AFTER_VIEWERS: path === "p2p" ? "100" : "0" },
    pages: [e2eeBroadcasterPage(key), e2eeViewerPage(key)],
  });
  await esbuild.stop();
  await lab.openPage(0);
  await lab.untilState("b", "live");
  await lab.openPage(1);
  await lab.untilFrames("v1", 10);
  const attached = lab.events("v1").find((e) => e.kind === "attach")!.t;
  const first = lab.events("v1").find((e) => e.kind === "frame")!.t;
  await sleep(SETTLE_MS);
  const pid = lab.browserPid(0);
  const cpu0 = await treeCpuSeconds(pid);
  const start = performance.now();
  await sleep(WINDOW_MS);
  const cpu1 = await treeCpuSeconds(pid);
  const seconds = (performance.now() - start) / 1000;
  // Still playing at the end of the window (a stall would flatter the CPU).
  await lab.untilFrames("v1", 10, Date.now());
  return {
    path,
    e2ee,
    firstFrameMs: first - attached,
    cpu: (cpu1 - cpu0) / seconds,
  };
}

/** Every case `rounds` times, interleaved; the markdown section. */
export async function e2eeCost(rounds: number): Promise<string> {
  const samples: Sample[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const path of ["p2p", "sfu"] as const) {
      // Alternate which goes first: drift favours neither.
      const order = round % 2 ? [true, false] : [false, true];
      for (const e2ee of order) {
        const sample = await once(path, e2ee);
        console.error(
          `round ${round + 1} ${path} e2ee=${e2ee}: first frame ${
            Math.round(sample.firstFrameMs)
          } ms, CPU ${sample.cpu.toFixed(2)}`,
        );
        samples.push(sample);
      }
    }
  }
  const of = (path: Path, e2ee: boolean, pick: (s: Sample) => number) =>
    samples.filter((s) => s.path === path && s.e2ee === e2ee).map(pick);
  const lines = [
    `### End-to-end encryption (issue 25)`,
    ``,
    `One broadcaster and one viewer, each in its own Chromium, keyed or not; ${rounds} rounds, cases interleaved. Targets: first frame ≤ 1.1x, broadcaster CPU ≤ 1.15x.`,
    ``,
    `| path | first frame p50 / max, clear (ms) | with E2EE (ms) | ratio p50 / max | broadcaster CPU p50, clear / E2EE (cores) | ratio |`,
    `|---|---|---|---|---|---|`,
  ];
  for (const path of ["p2p", "sfu"] as const) {
    const clear = of(path, false, (s) => s.firstFrameMs);
    const keyed = of(path, true, (s) => s.firstFrameMs);
    const cpuClear = quantile(of(path, false, (s) => s.cpu), 0.5);
    const cpuKeyed = quantile(of(path, true, (s) => s.cpu), 0.5);
    const p50 = [quantile(clear, 0.5), quantile(keyed, 0.5)];
    const max = [Math.max(...clear), Math.max(...keyed)];
    lines.push(
      `| ${path === "p2p" ? "peer to peer" : "through Janus"} | ${
        Math.round(p50[0])
      } / ${Math.round(max[0])} | ${Math.round(p50[1])} / ${
        Math.round(max[1])
      } | ${(p50[1] / p50[0]).toFixed(2)}x / ${
        (max[1] / max[0]).toFixed(2)
      }x | ${cpuClear.toFixed(2)} / ${cpuKeyed.toFixed(2)} | ${
        (cpuKeyed / cpuClear).toFixed(2)
      }x |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { rounds: { type: "string", default: "5" } },
  });
  console.log(await e2eeCost(Number(values.rounds)));
}
