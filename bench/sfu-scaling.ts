/**
 * Through the SFU (issue 13), against peer to peer in the same run, in the
 * fault lab (Janus needs a real network: each browser in its own namespace,
 * Janus and the server in the hub). One `<live-broadcaster>` (640x480) in
 * Chromium and N `<live-viewer>`s in one other Chromium page, joining one
 * at a time; peer to peer (SFU_AFTER_VIEWERS=100) and through Janus
 * (SFU_AFTER_VIEWERS=0): with the layers nobody gets paused (the default:
 * measured once the server asked for the top layer alone), and with every
 * layer sent (SFU_LAYER_PAUSE_AFTER_MS=600000, issue 24's baseline). Per N:
 * the broadcaster's upload (video bytes sent by all its connections) and
 * CPU (its browser's process tree) over a 5 s window once the upload is
 * steady, the viewers' fps, and each viewer's time to first frame (element
 * attached to its first presented frame). Then the switch: a stream with
 * SFU_AFTER_VIEWERS=1, one viewer watching peer to peer, a second one
 * joining moves the stream; the first viewer's longest gap between
 * presented frames across the switch, against the same in a window without
 * a switch.
 *
 *   deno task bench:sfu
 */
import * as esbuild from "esbuild";
import { parseArgs } from "node:util";
import { FaultLab } from "../tests/e2e/support/fault-lab.ts";
import {
  broadcasterPage,
  crowdPage,
  type LabPage,
  whepCrowdPage,
} from "../tests/e2e/support/lab-pages.ts";
import { treeCpuSeconds } from "./broadcaster-scaling.ts";
import { quantile } from "./quantile.ts";
import { steadyUpload, uploadKbps } from "./upload-meter.ts";

const SETTLE_MS = 2_000;
const WINDOW_MS = 5_000;
/** Peer to peer; the SFU with unwatched layers paused; with every layer. */
type Mode = "p2p" | "sfu" | "sfu-all";

interface Row {
  mode: Mode;
  viewers: number;
  uploadKbps: number;
  cpu: number;
  minFps: number;
  medianFps: number;
  firstFrameMs: number[];
  /** The upload was steady when the window began ({@link steadyUpload}). */
  steady: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const names = (count: number) =>
  Array.from({ length: count }, (_, i) => `v${i + 1}`);

/** Frames `who` presented in the crowd page between `from` and `to`. */
function frameTimes(lab: FaultLab, who: string, from = 0, to = Infinity) {
  return lab.events("v1").filter((e) =>
    e.kind === "frame" && e.who === who && e.t >= from && e.t <= to
  ).map((e) => e.t);
}

function longestGap(times: number[]): number {
  let longest = 0;
  for (let i = 1; i < times.length; i++) {
    longest = Math.max(longest, times[i] - times[i - 1]);
  }
  return longest;
}

/** Resolves once the reports of `who` (and the meter's) reach past `t`. */
function reportedPast(
  lab: FaultLab,
  t: number,
  who: string[],
  metered = true,
): Promise<true> {
  return lab.until(
    "reports past the window",
    () =>
      ((!metered ||
        lab.events("b").some((e) => e.kind === "bytes" && e.t > t)) &&
        who.every((name) => frameTimes(lab, name, t).length > 0)) ||
      undefined,
  );
}

async function scenario(mode: Mode, viewers: number): Promise<Row> {
  await using lab = await FaultLab.start({
    browsers: ["chromium", "chromium"],
    janus: true,
    meter: true,
    env: {
      SFU_AFTER_VIEWERS: mode === "p2p" ? "100" : "0",
      ...(mode === "sfu-all" ? { SFU_LAYER_PAUSE_AFTER_MS: "600000" } : {}),
    },
    pages: [broadcasterPage, crowdPage(viewers)],
  });
  await esbuild.stop();
  await lab.openPages();
  const who = names(viewers);
  await lab.until(
    () => `${viewers} viewers playing (${mode})`,
    () => who.every((name) => frameTimes(lab, name).length >= 10) || undefined,
    120_000,
  );
  if (mode === "sfu") {
    // Every viewer on the top layer: the others paused.
    await lab.until(
      "the server to ask for the top layer alone",
      () =>
        lab.serverLog.some((l) =>
          l.includes('"sfu-layers-wanted"') && l.includes('"rids":["h"]')
        ) || undefined,
      30_000,
    );
  }
  await sleep(SETTLE_MS);
  const steady = await steadyUpload(lab);
  const pid = lab.browserPid(0);
  const cpu0 = await treeCpuSeconds(pid);
  const start = Date.now();
  await sleep(WINDOW_MS);
  const cpu1 = await treeCpuSeconds(pid);
  const end = Date.now();
  await reportedPast(lab, end, who);
  const fps = who.map((name) =>
    frameTimes(lab, name, start, end).length / ((end - start) / 1000)
  ).sort((a, b) => a - b);
  const firstFrameMs = who.map((name) => {
    const attached = lab.events("v1").find((e) =>
      e.kind === "attach" && e.who === name
    )!.t;
    return frameTimes(lab, name)[0] - attached;
  });
  return {
    mode,
    viewers,
    uploadKbps: uploadKbps(lab, start, end)!,
    steady,
    cpu: (cpu1 - cpu0) / ((end - start) / 1000),
    minFps: fps[0],
    medianFps: quantile(fps, 0.5),
    firstFrameMs,
  };
}

/**
 * One switch: v1 watches peer to peer, v2 joins and the stream moves. The
 * longest gap at v1 within 1.5 s either side of its move, and (baseline) in
 * as long a window before v2 joined.
 */
async function oneSwitch(): Promise<{ gap: number; baseline: number }> {
  await using lab = await FaultLab.start({
    browsers: ["chromium", "chromium"],
    janus: true,
    env: { SFU_AFTER_VIEWERS: "1" },
    pages: [broadcasterPage, crowdPage(2)],
  });
  await esbuild.stop();
  await lab.openPages();
  const movedAt = await lab.until("v1 moved to the SFU", () => {
    const line = lab.serverLog.find((l) => l.includes('"sfu-viewer-moved"'));
    return line ? Date.parse(JSON.parse(line).time) : undefined;
  }, 60_000);
  await reportedPast(lab, movedAt + 1_500, ["v1"], false);
  const joined =
    lab.events("v1").find((e) => e.kind === "attach" && e.who === "v2")!.t;
  return {
    gap: longestGap(frameTimes(lab, "v1", movedAt - 1_500, movedAt + 1_500)),
    baseline: longestGap(frameTimes(lab, "v1", joined - 3_000, joined)),
  };
}

/**
 * Issue 14: first frames of `count` WHEP players (our /whep) and of `count`
 * `<live-viewer>`s through the SFU, each joining a live stream one after
 * another, in labs of the same shape.
 */
async function whepFirstFrames(count: number) {
  const run = async (page: (p: LabPage) => string) => {
    await using lab = await FaultLab.start({
      browsers: ["chromium", "chromium"],
      janus: true,
      env: { SFU_AFTER_VIEWERS: "0" },
      pages: [broadcasterPage, page],
    });
    await esbuild.stop();
    await lab.openPage(0);
    await lab.until(
      "the broadcaster live",
      () => lab.events("b").some((e) => e.state === "live") || undefined,
    );
    await lab.openPage(1);
    const who = names(count);
    await lab.until(
      () => `${count} players playing`,
      () =>
        who.every((name) => frameTimes(lab, name).length >= 10) || undefined,
      120_000,
    );
    return who.map((name) =>
      frameTimes(lab, name)[0] -
      lab.events("v1").find((e) => e.kind === "attach" && e.who === name)!.t
    );
  };
  return {
    whep: await run(whepCrowdPage(count)),
    element: await run(crowdPage(count)),
  };
}

export async function sfuScaling(
  counts: number[],
  switches: number,
  players: number,
): Promise<string> {
  const rows: Row[] = [];
  for (const viewers of counts) {
    for (const mode of ["p2p", "sfu", "sfu-all"] as const) {
      rows.push(await scenario(mode, viewers));
    }
  }
  const first = await whepFirstFrames(players);
  const gaps: number[] = [];
  const baselines: number[] = [];
  for (let i = 0; i < switches; i++) {
    const { gap, baseline } = await oneSwitch();
    gaps.push(gap);
    baselines.push(baseline);
  }
  const row = (mode: Mode, viewers: number) =>
    rows.find((r) => r.mode === mode && r.viewers === viewers)!;
  const kbps = (r: Row) =>
    `${Math.round(r.uploadKbps)}${r.steady ? "" : " (never steady)"}`;
  const lines = [
    "| viewers | upload kbit/s, peer to peer | upload kbit/s, SFU (unwatched layers paused) | SFU, every layer sent | broadcaster CPU (cores), peer to peer | CPU, SFU paused / every layer | fps slowest / median, peer to peer | fps, SFU |",
    "|---|---|---|---|---|---|---|---|",
    ...counts.map((n) => {
      const p = row("p2p", n);
      const s = row("sfu", n);
      const a = row("sfu-all", n);
      return `| ${n} | ${kbps(p)} | ${kbps(s)} | ${kbps(a)} | ${
        p.cpu.toFixed(2)
      } | ${s.cpu.toFixed(2)} / ${a.cpu.toFixed(2)} | ${
        p.minFps.toFixed(1)
      } / ${p.medianFps.toFixed(1)} | ${s.minFps.toFixed(1)} / ${
        s.medianFps.toFixed(1)
      } |`;
    }),
  ];
  const lowest = Math.min(...counts);
  const highest = Math.max(...counts);
  const ratio = row("sfu", highest).uploadKbps / row("sfu", lowest).uploadKbps;
  // Issue 24's target: six viewers on the top layer against one peer to peer.
  const six = counts.includes(6) ? 6 : highest;
  const onePeer = row("p2p", lowest).uploadKbps;
  const ttff = (mode: Mode) =>
    rows.filter((r) => r.mode === mode).flatMap((r) => r.firstFrameMs);
  // The first frames through the SFU: both ways of it.
  const sfuFirstFrames = [...ttff("sfu"), ...ttff("sfu-all")];
  const p2pFirst = quantile(ttff("p2p"), 0.5);
  const sfuFirst = quantile(sfuFirstFrames, 0.5);
  lines.push(
    "",
    `- SFU upload, ${six} viewers all on the top layer (the others paused) / ${lowest} viewer peer to peer: ${
      Math.round(row("sfu", six).uploadKbps)
    } / ${Math.round(onePeer)} kbit/s, **${
      (row("sfu", six).uploadKbps / onePeer).toFixed(2)
    }x** (target ≤ 1.5x); with every layer sent: ${
      Math.round(row("sfu-all", six).uploadKbps)
    } kbit/s, ${(row("sfu-all", six).uploadKbps / onePeer).toFixed(2)}x.`,
    `- SFU upload at ${highest} viewers / at ${lowest}: **${
      ratio.toFixed(2)
    }x** (target ≤ 1.2x).`,
    `- Time to first frame, p50 over every viewer of every run (${
      ttff("p2p").length
    } / ${sfuFirstFrames.length}): peer to peer ${p2pFirst} ms, SFU ${sfuFirst} ms: **${
      (sfuFirst / p2pFirst).toFixed(2)
    }x** (target ≤ 1.5x); p90 ${quantile(ttff("p2p"), 0.9)} / ${
      quantile(sfuFirstFrames, 0.9)
    } ms.`,
    `- Switch to the SFU (${switches} switches): longest gap between presented frames at the viewer that switched, p50 / max **${
      quantile(gaps, 0.5)
    } / ${
      Math.max(...gaps)
    } ms** (target ≤ 100 ms); baseline, the same viewer over 3 s before the switch: ${
      quantile(baselines, 0.5)
    } / ${Math.max(...baselines)} ms.`,
  );
  lines.push(
    `- WHEP (issue 14): first frame of a standard WHEP player (bare RTCPeerConnection, candidates gathered before the POST, through our \`/whep\` and the SDP bridge) p50 ${
      quantile(first.whep, 0.5)
    } ms (p90 ${
      quantile(first.whep, 0.9)
    }) against a \`<live-viewer>\` through the SFU p50 ${
      quantile(first.element, 0.5)
    } ms (p90 ${
      quantile(first.element, 0.9)
    }), ${first.whep.length} players each, joining a live stream one after another: **${
      (quantile(first.whep, 0.5) / quantile(first.element, 0.5)).toFixed(2)
    }x**.`,
  );
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      viewers: { type: "string", default: "1,4,6,8,12" },
      switches: { type: "string", default: "10" },
      players: { type: "string", default: "10" },
    },
  });
  console.log(
    await sfuScaling(
      values.viewers.split(",").map(Number),
      Number(values.switches),
      Number(values.players),
    ),
  );
}
