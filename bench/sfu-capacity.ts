/**
 * One stream's audience through the SFU (issue 22), for sizing: N
 * receive-only subscribers through one Janus instance, against the same N
 * cascaded over two (SFU_VIEWERS_PER_INSTANCE = N/2), in the same run. Per
 * case: video frames each subscriber received per second over a 5 s window
 * (the fake camera sends 20), the crowd's and Janus's CPU (every
 * instance's process), the broadcaster's upload, the signaling server's CPU
 * per subscriber it set up, and the simulcast layer switches the server made
 * from the first join to the end of the window (`sfu-layer` in its log): how
 * many, by cause, and the most in any one second (a synchronised step-down
 * moves many viewers at once).
 *
 * The subscribers stand in for N viewers on this small machine. By default
 * (`--crowd rtp`) they are bench/rtp-crowd.ts, run by Node: werift
 * connections that count RTP packets and decode nothing, so what gives way
 * is Janus or the path, not the crowd. `--crowd chromium`: bare
 * RTCPeerConnections in one Chromium page, no video element, which Chromium
 * decodes anyway (counted: `framesDecoded`); past 50 that decoding, on the
 * same 2 cores, is what gives way.
 *
 *   deno task bench:capacity [--viewers 20,40] [--instances 1,2]
 *   deno task bench:capacity --viewers 25,50,100,150 --instances 1 \
 *     --first-frames 0   # issue 24's capacity section
 *   deno task bench:capacity --crowd chromium
 */
import * as esbuild from "esbuild";
import { parseArgs } from "node:util";
import { FaultLab, type LabEvent } from "../tests/e2e/support/fault-lab.ts";
import {
  broadcasterPage,
  crowdPage,
  receiverCrowdPage,
} from "../tests/e2e/support/lab-pages.ts";
import { treeCpuSeconds } from "./broadcaster-scaling.ts";
import { quantile } from "./quantile.ts";
import { steadyUpload, uploadKbps } from "./upload-meter.ts";

const CROWD_BUILD = new URL(
  "../node_modules/.cache/live-widgets/rtp-crowd.mjs",
  import.meta.url,
).pathname;
const SETTLE_MS = 2_000;
const WINDOW_MS = 5_000;
const CAMERA_FPS = 20;

interface Case {
  viewers: number;
  instances: number;
  /** Frames received per second, per subscriber, sorted. */
  fps: number[];
  /** Frames decoded per second, per subscriber, sorted (none: rtp crowd). */
  decodedFps: number[];
  crowd: Crowd;
  /** The crowd's CPU over the window (its browser's or rtp-crowd's tree). */
  crowdCores: number;
  janusCores: number;
  uploadKbps: number;
  /** The upload was steady when the window began (upload-meter.ts). */
  steady: boolean;
  /** Signaling server CPU per subscriber, from join to first frames. */
  signalingMs: number;
  switches: Switches;
}

/** The server's layer switches over a case. */
interface Switches {
  total: number;
  byCause: Record<string, number>;
  /** The most switches in any one second. */
  mostInOneSecond: number;
}

/** `sfu-layer` lines of the server's log from `since` (epoch ms). */
function layerSwitches(log: string[], since: number): Switches {
  const byCause: Record<string, number> = {};
  const perSecond = new Map<number, number>();
  let total = 0;
  for (const line of log) {
    if (!line.includes('"event":"sfu-layer"')) continue;
    const entry = JSON.parse(line) as { time: string; cause: string };
    const at = Date.parse(entry.time);
    if (at < since) continue;
    total++;
    byCause[entry.cause] = (byCause[entry.cause] ?? 0) + 1;
    const second = Math.floor(at / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  return {
    total,
    byCause,
    mostInOneSecond: Math.max(0, ...perSecond.values()),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function cpuOf(pids: (number | undefined)[]): Promise<number> {
  let total = 0;
  for (const pid of pids) if (pid) total += await treeCpuSeconds(pid);
  return total;
}

/** Per-address limits that let `viewers` connect and join from one page. */
function perIpLimits(viewers: number): Record<string, string> {
  const room = String(viewers + 10);
  return {
    MAX_CONNECTIONS_PER_IP: room,
    CONNECT_RATE_PER_IP_PER_MINUTE: room,
    CONNECT_BURST_PER_IP: room,
    JOIN_RATE_PER_IP_PER_MINUTE: room,
    JOIN_BURST_PER_IP: room,
  };
}

/** Who receives: bare connections in one Chromium page, or rtp-crowd.ts. */
export type Crowd = "chromium" | "rtp";

/** rtp-crowd.ts built once per run (every case starts the same file). */
let crowdBuilt: Promise<void> | undefined;

/**
 * rtp-crowd.ts for Node: werift under Deno took 3x the CPU (0.14 against
 * 0.05 cores for 50 subscribers) and lost RTP in earlier trials
 * (real-parts.md). Node resolves werift from the checkout's node_modules.
 */
async function buildRtpCrowd(): Promise<void> {
  await esbuild.build({
    entryPoints: [new URL("./rtp-crowd.ts", import.meta.url).pathname],
    bundle: true,
    platform: "node",
    format: "esm",
    packages: "external",
    outfile: CROWD_BUILD,
    logLevel: "warning",
  });
  await esbuild.stop();
}

/**
 * rtp-crowd.ts in host 1's namespace (no browser there), its counts as
 * events in the shape the Chromium crowd reports (`rx` per subscriber).
 */
async function startRtpCrowd(lab: FaultLab, viewers: number) {
  const events: LabEvent[] = [];
  await (crowdBuilt ??= buildRtpCrowd());
  const child = lab.network.command(lab.host(1).ns, "node", [
    CROWD_BUILD,
    "--url",
    lab.signalingUrl,
    "--stream",
    lab.streamId,
    "--count",
    String(viewers),
  ], { stdout: "piped", stderr: "inherit" }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream());
  (async () => {
    let rest = "";
    for await (const chunk of lines) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        const { t, frames } = JSON.parse(line) as {
          t: number;
          frames: Record<string, number>;
        };
        for (const [who, value] of Object.entries(frames)) {
          events.push({ t, kind: "rx", who, value });
        }
      }
    }
  })().catch(() => {});
  return {
    events,
    pid: child.pid,
    async [Symbol.asyncDispose]() {
      child.kill("SIGKILL");
      await child.status;
    },
  };
}

async function oneCase(
  viewers: number,
  instances: number,
  crowd: Crowd,
): Promise<Case> {
  await using lab = await FaultLab.start({
    browsers: ["chromium", "chromium"],
    janus: true,
    janusInstances: instances,
    meter: true,
    env: {
      SFU_AFTER_VIEWERS: "0",
      SFU_VIEWERS_PER_INSTANCE: String(Math.ceil(viewers / instances)),
      MAX_VIEWERS_PER_STREAM: String(viewers),
      // The crowd is one page or process, one address; real viewers come
      // from many.
      ...perIpLimits(viewers),
    },
    pages: [broadcasterPage, receiverCrowdPage(viewers)],
  });
  await lab.openPage(0);
  await lab.until(
    "the broadcaster live",
    () => lab.events("b").some((e) => e.state === "live") || undefined,
  );
  const who = Array.from({ length: viewers }, (_, i) => `v${i + 1}`);
  let rtp: Awaited<ReturnType<typeof startRtpCrowd>> | undefined;
  const reports = () => rtp?.events ?? lab.events("v1");
  const received = (name: string, before = Infinity, kind = "rx") =>
    reports().findLast((e) =>
      e.kind === kind && e.who === name && e.t <= before
    );
  const server0 = await cpuOf([lab.signalingPid]);
  const joinedFrom = Date.now();
  if (crowd === "rtp") rtp = await startRtpCrowd(lab, viewers);
  else await lab.openPage(1);
  await using _crowd = rtp;
  await lab.until(
    () =>
      `${viewers} subscribers receiving (${
        who.filter((name) => (received(name)?.value ?? 0) > 0).length
      })`,
    () => who.every((name) => (received(name)?.value ?? 0) > 0) || undefined,
    120_000,
  );
  const signalingMs = (await cpuOf([lab.signalingPid]) - server0) * 1000 /
    viewers;
  await sleep(SETTLE_MS);
  const steady = await steadyUpload(lab);
  const janusPids = lab.januses.map((janus) => janus.pid);
  const crowdPid = rtp?.pid ?? lab.browserPid(1);
  const janus0 = await cpuOf(janusPids);
  const crowd0 = await cpuOf([crowdPid]);
  const start = Date.now();
  await sleep(WINDOW_MS);
  const janus1 = await cpuOf(janusPids);
  const crowd1 = await cpuOf([crowdPid]);
  const end = Date.now();
  await lab.until(
    "reports past the window",
    () =>
      (who.every((name) => (received(name)?.t ?? 0) > end) &&
        lab.events("b").some((e) => e.kind === "bytes" && e.t > end)) ||
      undefined,
  );
  const rate = (kind: string) =>
    who.map((name) => {
      const a = received(name, start, kind)!;
      const b = received(name, end, kind)!;
      return (b.value! - a.value!) / ((b.t - a.t) / 1000);
    }).sort((x, y) => x - y);
  const fps = rate("rx");
  return {
    viewers,
    instances,
    fps,
    decodedFps: crowd === "rtp" ? [] : rate("decoded"),
    crowd,
    crowdCores: (crowd1 - crowd0) / ((end - start) / 1000),
    janusCores: (janus1 - janus0) / ((end - start) / 1000),
    uploadKbps: uploadKbps(lab, start, end)!,
    steady,
    signalingMs,
    switches: layerSwitches(lab.serverLog, joinedFrom),
  };
}

/**
 * A `<live-viewer>`'s first frame through the origin, then the next one's
 * through an edge (SFU_VIEWERS_PER_INSTANCE=1: the first viewer fills the
 * origin, and the edge is made then), each from its element attached to
 * its first presented frame.
 */
async function edgeFirstFrame(): Promise<{ origin: number; edge: number }> {
  await using lab = await FaultLab.start({
    browsers: ["chromium", "chromium", "chromium"],
    janus: true,
    janusInstances: 2,
    env: { SFU_AFTER_VIEWERS: "0", SFU_VIEWERS_PER_INSTANCE: "1" },
    pages: [broadcasterPage, crowdPage(1), crowdPage(1)],
  });
  await lab.openPage(0);
  await lab.until(
    "the broadcaster live",
    () => lab.events("b").some((e) => e.state === "live") || undefined,
  );
  const firstFrame = async (index: number) => {
    const name = lab.name(index);
    await lab.openPage(index);
    const frame = await lab.until(
      `${name}'s first frame`,
      () => lab.events(name).find((e) => e.kind === "frame"),
      60_000,
    );
    return frame.t - lab.events(name).find((e) => e.kind === "attach")!.t;
  };
  const origin = await firstFrame(1);
  const edge = await firstFrame(2);
  if (!lab.serverLog.some((l) => l.includes('"sfu-cascade"'))) {
    throw new Error("The second viewer did not go through an edge");
  }
  return { origin, edge };
}

export async function sfuCapacity(
  counts: number[],
  firstFrames = 5,
  instanceCounts = [1, 2],
  crowd: Crowd = "rtp",
): Promise<string> {
  const cases: Case[] = [];
  for (const viewers of counts) {
    // Alternating, so a slower moment of the machine hits both.
    for (const instances of instanceCounts) {
      const one = await oneCase(viewers, instances, crowd);
      cases.push(one);
      // Each case as it ends: a later one failing does not lose it.
      console.error(JSON.stringify({
        ...one,
        fps: one.fps.slice(0, 3),
        decodedFps: one.decodedFps.length
          ? quantile(one.decodedFps, 0.5)
          : undefined,
      }));
    }
  }
  const lines = [
    `Crowd: ${
      crowd === "rtp"
        ? "bench/rtp-crowd.ts (werift: receives, decodes nothing)"
        : "bare RTCPeerConnections in one Chromium page (which decodes what it receives)"
    }.`,
    "",
    "| subscribers | Janus instances | frames/s received, slowest / median | delivered (median / 20) | decoded frames/s, median | crowd CPU, cores | Janus CPU, cores (all instances) | per subscriber, ms CPU/s | broadcaster upload kbit/s | signaling CPU per subscriber set up, ms | layer switches (by cause) | most in 1 s |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...cases.map((c) =>
      `| ${c.viewers} | ${c.instances}${
        c.instances > 1
          ? ` (cascade, ${Math.ceil(c.viewers / c.instances)} each)`
          : ""
      } | ${c.fps[0].toFixed(1)} / ${quantile(c.fps, 0.5).toFixed(1)} | ${
        Math.round(quantile(c.fps, 0.5) / CAMERA_FPS * 100)
      }% | ${
        c.decodedFps.length ? quantile(c.decodedFps, 0.5).toFixed(1) : "—"
      } | ${c.crowdCores.toFixed(2)} | ${c.janusCores.toFixed(2)} | ${
        (c.janusCores * 1000 / c.viewers).toFixed(1)
      } | ${Math.round(c.uploadKbps)}${c.steady ? "" : " (never steady)"} | ${
        c.signalingMs.toFixed(1)
      } | ${c.switches.total}${
        c.switches.total
          ? ` (${
            Object.entries(c.switches.byCause).map(([k, v]) => `${k} ${v}`)
              .join(", ")
          })`
          : ""
      } | ${c.switches.mostInOneSecond} |`
    ),
  ];
  if (instanceCounts.includes(1) && instanceCounts.includes(2)) {
    const pairs = counts.map((n) => {
      const one = cases.find((c) => c.viewers === n && c.instances === 1)!;
      const two = cases.find((c) => c.viewers === n && c.instances === 2)!;
      return `${n}: ${(two.uploadKbps / one.uploadKbps).toFixed(2)}x`;
    });
    lines.push(
      "",
      `- Broadcaster upload, cascaded / one instance (target ≤ 1.1x): ${
        pairs.join(", ")
      }.`,
    );
  }
  if (firstFrames === 0) return lines.join("\n");
  const origin: number[] = [];
  const edge: number[] = [];
  for (let i = 0; i < firstFrames; i++) {
    const run = await edgeFirstFrame();
    origin.push(run.origin);
    edge.push(run.edge);
  }
  lines.push(
    "",
    `- First frame of a \`<live-viewer>\` through an edge, against the viewer before it through the origin (${firstFrames} runs): p50 ${
      quantile(edge, 0.5)
    } / ${quantile(origin, 0.5)} ms, **${
      (quantile(edge, 0.5) / quantile(origin, 0.5)).toFixed(2)
    }x**; worst ${Math.max(...edge)} / ${Math.max(...origin)} ms, ${
      (Math.max(...edge) / Math.max(...origin)).toFixed(2)
    }x (target ≤ 1.25x).`,
  );
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      viewers: { type: "string", default: "20,40" },
      "first-frames": { type: "string", default: "5" },
      instances: { type: "string", default: "1,2" },
      crowd: { type: "string", default: "rtp" },
    },
  });
  if (values.crowd !== "rtp" && values.crowd !== "chromium") {
    throw new Error("--crowd is rtp or chromium");
  }
  console.log(
    await sfuCapacity(
      values.viewers.split(",").map(Number),
      Number(values["first-frames"]),
      values.instances.split(",").map(Number),
      values.crowd,
    ),
  );
}
