/**
 * Broadcaster scaling: one `<live-broadcaster>` (1280x720 requested, default
 * 4,000 kbit/s budget) and N = 1, 2, 4, 8, 12 viewers, each in a Chromium
 * process of its own, all joining at once. Per N: the broadcaster's CPU per
 * viewer (its whole process tree, from /proc), its upload per viewer against
 * the budget's share, the frames per second each viewer presents, and the
 * slowest first frame. From it: how many viewers this machine serves at 15+
 * fps. Everything shares this machine's cores, viewers included.
 *
 *   deno task bench:scaling
 */
import { parseArgs } from "node:util";
import puppeteer, { type Browser } from "puppeteer-core";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../scripts/browsers.ts";
import { serveBundles } from "../tests/e2e/support/bundle-site.ts";

const WINDOW_MS = 5_000;
const TICKS = 100; // USER_HZ

/** User + system CPU seconds of `pid` and all its descendants. */
export async function treeCpuSeconds(pid: number): Promise<number> {
  return (await treeCpu(pid)).total;
}

/**
 * One read of `pid`'s tree: its CPU seconds (`total`) and, with `thread`,
 * the part on its threads of that name (e.g. `DedicatedWorker`), from the
 * same moment.
 */
export async function treeCpu(
  pid: number,
  thread?: string,
): Promise<{ total: number; thread: number }> {
  const parents = new Map<number, number>();
  const cpu = new Map<number, number>();
  for await (const entry of Deno.readDir("/proc")) {
    const id = Number(entry.name);
    if (!Number.isInteger(id)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${id}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parents.set(id, Number(fields[1]));
      cpu.set(id, cpuOf(fields));
    } catch {
      // Gone meanwhile.
    }
  }
  const inTree = (id: number): boolean => {
    for (let at = id; at > 1; at = parents.get(at) ?? 0) {
      if (at === pid) return true;
    }
    return false;
  };
  const sum = { total: 0, thread: 0 };
  for (const [id, seconds] of cpu) {
    if (!inTree(id)) continue;
    sum.total += seconds;
    if (thread) sum.thread += await threadsCpuSeconds(id, thread);
  }
  return sum;
}

/** utime + stime of a /proc stat line's fields after the name, in seconds. */
function cpuOf(fields: string[]): number {
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** CPU seconds of process `id`'s threads named `name`. */
async function threadsCpuSeconds(id: number, name: string): Promise<number> {
  let total = 0;
  try {
    for await (const task of Deno.readDir(`/proc/${id}/task`)) {
      const stat = await Deno.readTextFile(`/proc/${id}/task/${task.name}/stat`)
        .catch(() => "");
      const open = stat.indexOf("(");
      const close = stat.lastIndexOf(")");
      if (open < 0 || stat.slice(open + 1, close) !== name) continue;
      total += cpuOf(stat.slice(close + 2).split(" "));
    }
  } catch {
    // Gone meanwhile.
  }
  return total;
}

function launch(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

interface Row {
  viewers: number;
  cpuPerViewer: number;
  uploadPerViewerKbps: number;
  shareKbps: number;
  minFps: number;
  medianFps: number;
  slowestFirstFrameMs: number;
}

async function scenario(base: string, viewers: number): Promise<Row> {
  const sender = await launch();
  const browsers: Browser[] = [];
  try {
    const page = await sender.newPage();
    await page.goto(`${base}/send.html`);
    await page.waitForFunction(
      () =>
        (document.querySelector("live-broadcaster") as unknown as {
          state: string;
        }).state === "live",
      { timeout: 20_000 },
    );
    for (let i = 0; i < viewers; i++) browsers.push(await launch());
    // All join at once: navigations started together, timed by the wall clock.
    const start = Date.now();
    const pages = await Promise.all(browsers.map(async (browser) => {
      const watcher = await browser.newPage();
      await watcher.goto(`${base}/watch.html?start=${start}`);
      return watcher;
    }));
    const firstFrames = await Promise.all(
      pages.map((watcher) =>
        watcher.waitForFunction(
          () => (window as unknown as { firstFrameAt?: number }).firstFrameAt,
          {
            timeout: 30_000,
          },
        )
          .then((handle) => handle.jsonValue() as Promise<number>)
      ),
    );
    // Settle, then measure a window: CPU, bytes sent per viewer, frames presented.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const senderPid = sender.process()!.pid!;
    const bytes = () =>
      page.evaluate(async () => {
        const host = document.querySelector("live-broadcaster") as unknown as {
          viewers: unknown[];
        };
        void host;
        const pcs = (window as unknown as { pcs: RTCPeerConnection[] }).pcs
          .filter((pc) => pc.connectionState === "connected");
        let sent = 0;
        for (const pc of pcs) {
          (await pc.getStats()).forEach((s: Record<string, unknown>) => {
            if (s.type === "outbound-rtp" && s.kind === "video") {
              sent += s.bytesSent as number;
            }
          });
        }
        return { sent, connections: pcs.length };
      });
    const cpu0 = await treeCpuSeconds(senderPid);
    const bytes0 = await bytes();
    const frames0 = await Promise.all(
      pages.map((w) =>
        w.evaluate(() => (window as unknown as { frames: number }).frames)
      ),
    );
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = await treeCpuSeconds(senderPid);
    const bytes1 = await bytes();
    const frames1 = await Promise.all(
      pages.map((w) =>
        w.evaluate(() => (window as unknown as { frames: number }).frames)
      ),
    );
    const fps = frames1.map((f, i) => (f - frames0[i]) / seconds).sort((a, b) =>
      a - b
    );
    return {
      viewers,
      cpuPerViewer: (cpu1 - cpu0) / seconds / viewers,
      uploadPerViewerKbps: ((bytes1.sent - bytes0.sent) * 8 / 1000) / seconds /
        Math.max(1, bytes1.connections),
      shareKbps: Math.min(1500, Math.max(150, 4000 / viewers)),
      minFps: fps[0],
      medianFps: fps[Math.floor(fps.length / 2)],
      slowestFirstFrameMs: Math.max(...firstFrames) - start,
    };
  } finally {
    await Promise.all(browsers.map((b) => b.close()));
    await sender.close();
  }
}

const PAGES = {
  "send.html": `<!doctype html><script>
  // Keep the broadcaster's connections at hand for getStats.
  window.pcs = [];
  const Native = RTCPeerConnection;
  window.RTCPeerConnection = class extends Native { constructor(c) { super(c); pcs.push(this); } };
</script>
<script type="module" src="/live-broadcaster.js"></script>
<live-broadcaster stream-id="scaling" ice-servers="[]" autostart></live-broadcaster>`,
  "watch.html":
    `<!doctype html><script type="module" src="/live-viewer.js"></script>
<live-viewer stream-id="scaling" ice-servers="[]"></live-viewer>
<script type="module">
  window.frames = 0;
  const viewer = document.querySelector("live-viewer");
  await customElements.whenDefined("live-viewer");
  await viewer.updateComplete;
  const video = viewer.shadowRoot.querySelector("video");
  const count = (now) => {
    window.frames++;
    window.firstFrameAt ??= Date.now();
    video.requestVideoFrameCallback(count);
  };
  video.requestVideoFrameCallback(count);
</script>`,
};

export async function broadcasterScaling(counts: number[]): Promise<string> {
  await using site = await serveBundles(PAGES, {
    maxConnectionsPerIp: 10_000,
    connectBurstPerIp: 10_000,
    joinBurstPerIp: 10_000,
  });
  const rows: Row[] = [];
  for (const viewers of counts) rows.push(await scenario(site.base, viewers));
  const lines = [
    "| viewers | broadcaster CPU per viewer (cores) | upload per viewer kbit/s | budget share kbit/s | fps per viewer, slowest / median | slowest first frame ms (all joined at once) |",
    "|---|---|---|---|---|---|",
    ...rows.map((r) =>
      `| ${r.viewers} | ${r.cpuPerViewer.toFixed(3)} | ${
        Math.round(r.uploadPerViewerKbps)
      } | ${Math.round(r.shareKbps)} | ${r.minFps.toFixed(1)} / ${
        r.medianFps.toFixed(1)
      } | ${Math.round(r.slowestFirstFrameMs)} |`
    ),
  ];
  const served = rows.filter((r) => r.minFps >= 15).map((r) => r.viewers);
  lines.push(
    "",
    served.length
      ? `Every viewer got 15+ fps up to **${
        Math.max(...served)
      } viewers** on this machine (viewers' browsers share its 2 cores with the broadcaster's).`
      : "No viewer count reached 15+ fps for every viewer on this machine.",
  );
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { viewers: { type: "string", default: "1,2,4,8,12" } },
  });
  console.log(await broadcasterScaling(values.viewers.split(",").map(Number)));
}
