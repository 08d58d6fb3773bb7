/**
 * End-to-end encryption's cost (issue 25), against the same without it in
 * the same run, in the fault lab (Janus needs a real network): one
 * `<live-broadcaster>` (640x480) and one `<live-viewer>`, each in its own
 * Chromium, both keyed or both not (made the same way: e2ee-pages.ts),
 * peer to peer (SFU_AFTER_VIEWERS=100) and through Janus
 * (SFU_AFTER_VIEWERS=0), the four cases interleaved per round. Measured:
 * the viewer's time to first frame (element attached to its first
 * presented frame) and the broadcaster's CPU (its browser's process tree,
 * cores) over a 5 s window once the viewer plays, and the part of it on
 * the encryption worker's thread. Each lab opens the
 * viewer `--opens` times (a fresh Chromium and profile each time, as a
 * customer's first visit): the first open is the stream's first viewer
 * (through Janus: the broadcaster publishes to it then), the later ones
 * join a stream already served (through Janus: the publisher is there);
 * both are reported, and together. More samples per lab started: the
 * spread between rounds (300-950 ms for the same case) needs them.
 *
 *   deno task bench:e2ee              # 5 rounds, 3 opens each
 *   deno task bench:e2ee --rounds 1 --opens 1
 *   deno task bench:e2ee --settle 10000  # CPU once simulcast settled
 *
 * Through Janus the broadcaster starts with every simulcast layer and
 * pauses the ones no viewer gets a few seconds later (issue 24): a window
 * soon after the first frame holds that start, a later one the steady state.
 */
import * as esbuild from "esbuild";
import { parseArgs } from "node:util";
import { FaultLab } from "../tests/e2e/support/fault-lab.ts";
import {
  e2eeBroadcasterPage,
  e2eeViewerPage,
  newLabKey,
} from "../tests/e2e/support/e2ee-pages.ts";
import { treeCpu } from "./broadcaster-scaling.ts";
import { quantile } from "./quantile.ts";

/** From the first frame to the CPU window (`--settle`). */
const SETTLE_MS = 2_000;
const WINDOW_MS = 5_000;

type Path = "p2p" | "sfu";

interface Sample {
  path: Path;
  e2ee: boolean;
  /** 0: the stream's first viewer; later: a viewer joining it served. */
  open: number;
  firstFrameMs: number;
  /** The broadcaster's CPU (first open only). */
  cpu?: number;
  /** Of it, its encryption worker's thread (the only worker of the page). */
  workerCpu?: number;
  /** The round it was taken in (0-based). */
  round?: number;
}

/** Chromium's name for a dedicated worker's thread (in /proc, task comm). */
const WORKER_THREAD = "DedicatedWorker";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function once(
  path: Path,
  e2ee: boolean,
  opens: number,
  settleMs: number,
): Promise<Sample[]> {
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
  const samples: Sample[] = [];
  for (let open = 0; open < opens; open++) {
    // A fresh browser: the one before is killed (its socket drops, the
    // server tells the broadcaster), its reports are all older than this.
    if (open > 0) await lab.closeBrowser(1);
    const since = Date.now();
    await lab.openPage(1);
    await lab.untilFrames("v1", 10, since);
    const events = lab.events("v1").filter((e) => e.t >= since);
    const attached = events.find((e) => e.kind === "attach")!.t;
    const first = events.find((e) => e.kind === "frame" && e.t >= attached)!.t;
    const sample: Sample = { path, e2ee, open, firstFrameMs: first - attached };
    if (open === 0) {
      await sleep(settleMs);
      const pid = lab.browserPid(0);
      const before = await treeCpu(pid, WORKER_THREAD);
      const start = performance.now();
      await sleep(WINDOW_MS);
      const after = await treeCpu(pid, WORKER_THREAD);
      const seconds = (performance.now() - start) / 1000;
      // Still playing at the end of the window (a stall would flatter the CPU).
      await lab.untilFrames("v1", 10, Date.now());
      sample.cpu = (after.total - before.total) / seconds;
      sample.workerCpu = (after.thread - before.thread) / seconds;
    }
    samples.push(sample);
  }
  return samples;
}

/** Every case `rounds` times, interleaved; the markdown section. */
export async function e2eeCost(
  rounds: number,
  opens: number,
  settleMs = SETTLE_MS,
): Promise<string> {
  const samples: Sample[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const path of ["p2p", "sfu"] as const) {
      // Alternate which goes first: drift favours neither.
      const order = round % 2 ? [true, false] : [false, true];
      for (const e2ee of order) {
        const got = await once(path, e2ee, opens, settleMs);
        console.error(
          `round ${round + 1} ${path} e2ee=${e2ee}: first frame ${
            got.map((s) => Math.round(s.firstFrameMs)).join(", ")
          } ms, CPU ${got[0].cpu!.toFixed(2)} (worker ${
            got[0].workerCpu!.toFixed(3)
          })`,
        );
        samples.push(...got.map((sample) => ({ ...sample, round })));
      }
    }
  }
  const pick = (
    path: Path,
    e2ee: boolean,
    opened: (open: number) => boolean,
  ) =>
    samples.filter((s) => s.path === path && s.e2ee === e2ee && opened(s.open))
      .map((s) => s.firstFrameMs);
  const lines = [
    `### End-to-end encryption (issue 25)`,
    ``,
    `One broadcaster and one viewer, each in its own Chromium, keyed or not; ${rounds} rounds, cases interleaved, the viewer opened ${opens} times per lab (a fresh browser each time; "first": the stream's first viewer, "later": a viewer joining it served); the broadcaster's CPU over 5 s from ${settleMs} ms after the first frame. Targets: first frame ≤ 1.1x, broadcaster CPU ≤ 1.15x.`,
    ``,
    `| path | viewers | samples per case | first frame p50 / max, clear (ms) | with E2EE (ms) | ratio p50 / max |`,
    `|---|---|---|---|---|---|`,
  ];
  const groups = [
    ["all", () => true],
    ["first", (open: number) => open === 0],
    ["later", (open: number) => open > 0],
  ] as const;
  for (const path of ["p2p", "sfu"] as const) {
    for (const [group, opened] of groups) {
      const clear = pick(path, false, opened);
      const keyed = pick(path, true, opened);
      if (clear.length === 0 || keyed.length === 0) continue;
      const p50 = [quantile(clear, 0.5), quantile(keyed, 0.5)];
      const max = [Math.max(...clear), Math.max(...keyed)];
      lines.push(
        `| ${path === "p2p" ? "peer to peer" : "through Janus"} | ${group} | ${
          Math.min(clear.length, keyed.length)
        } | ${Math.round(p50[0])} / ${Math.round(max[0])} | ${
          Math.round(p50[1])
        } / ${Math.round(max[1])} | ${(p50[1] / p50[0]).toFixed(2)}x / ${
          (max[1] / max[0]).toFixed(2)
        }x |`,
      );
    }
  }
  // The same case against itself: how far a ratio moves by chance here.
  const floor = rounds < 2 ? [] : (["p2p", "sfu"] as const).map((path) => {
    const half = (odd: number) =>
      quantile(
        samples.filter((s) =>
          s.path === path && !s.e2ee && (s.round ?? 0) % 2 === odd
        ).map((s) => s.firstFrameMs),
        0.5,
      );
    return `${path === "p2p" ? "peer to peer" : "through Janus"} ${
      (half(1) / half(0)).toFixed(2)
    }x`;
  });
  if (rounds > 1) {
    lines.push(
      ``,
      `Noise floor, the clear case against itself (first frame p50 of the odd rounds' labs over the even rounds'): ${
        floor.join(", ")
      }. A ratio above is that far from 1 by chance alone.`,
    );
  }
  lines.push(
    ``,
    `Broadcaster CPU, its whole process tree; and the part of the keyed one spent on its encryption worker's thread (what E2EE adds there; the tree's figure moves ±10% between labs of the same case):`,
    ``,
    `| path | broadcaster CPU p50, clear / E2EE (cores) | ratio | E2EE worker thread p50 (cores) | clear + worker, ratio |`,
    `|---|---|---|---|---|`,
  );
  for (const path of ["p2p", "sfu"] as const) {
    const cpu = (e2ee: boolean, part: "cpu" | "workerCpu" = "cpu") =>
      quantile(
        samples.filter((s) => s.path === path && s.e2ee === e2ee && s.cpu)
          .map((s) => s[part]!),
        0.5,
      );
    const [clear, keyed, worker] = [
      cpu(false),
      cpu(true),
      cpu(true, "workerCpu"),
    ];
    lines.push(
      `| ${path === "p2p" ? "peer to peer" : "through Janus"} | ${
        clear.toFixed(2)
      } / ${keyed.toFixed(2)} | ${(keyed / clear).toFixed(2)}x | ${
        worker.toFixed(3)
      } | ${((clear + worker) / clear).toFixed(2)}x |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rounds: { type: "string", default: "5" },
      opens: { type: "string", default: "3" },
      settle: { type: "string", default: String(SETTLE_MS) },
    },
  });
  console.log(
    await e2eeCost(
      Number(values.rounds),
      Number(values.opens),
      Number(values.settle),
    ),
  );
}
