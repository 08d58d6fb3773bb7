/**
 * Time to first frame: from `<live-viewer>` attached to the page until its
 * video presents the first frame (`requestVideoFrameCallback`), in headless
 * Chromium with the fake camera, against a live `<live-broadcaster>` in the
 * same page. Each join is a new element; the previous one is removed first.
 *
 *   deno task bench:ttff                 # 25 joins
 *   deno task bench:ttff --joins 50
 */
import * as esbuild from "esbuild";
import { parseArgs } from "node:util";
import puppeteer from "puppeteer-core";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../scripts/browsers.ts";
import { DEFAULT_CONFIG } from "../server/config.ts";
import { createLogger } from "../server/logger.ts";
import { startSignalingServer } from "../server/signaling-server.ts";

const PAGE = `<!doctype html>
<meta charset="utf-8">
<script type="module" src="/elements.js"></script>
<body></body>`;

/** Runs in the page: one broadcaster, then `joins` viewers one after another. */
async function measureInPage(signalingUrl: string, joins: number) {
  await customElements.whenDefined("live-viewer");
  const wait = (element: Element, state: string) =>
    new Promise<void>((resolve) => {
      if ((element as unknown as { state: string }).state === state) resolve();
      element.addEventListener("live-state-change", () => {
        if ((element as unknown as { state: string }).state === state) {
          resolve();
        }
      });
    });
  const broadcaster = document.createElement("live-broadcaster");
  broadcaster.setAttribute("stream-id", "bench");
  broadcaster.setAttribute("signaling-url", signalingUrl);
  broadcaster.setAttribute("ice-servers", "[]");
  document.body.append(broadcaster);
  await (broadcaster as unknown as { start(): Promise<void> }).start();
  await wait(broadcaster, "live");
  const results = [];
  for (let i = 0; i < joins; i++) {
    const marks: Record<string, number> = {};
    const viewer = document.createElement("live-viewer");
    viewer.setAttribute("stream-id", "bench");
    viewer.setAttribute("signaling-url", signalingUrl);
    viewer.setAttribute("ice-servers", "[]");
    viewer.addEventListener("live-state-change", (event) => {
      marks[(event as unknown as { state: string }).state] ??= performance
        .now();
    });
    const start = performance.now();
    document.body.append(viewer);
    // Lit renders in a microtask; the clock is already running.
    await (viewer as unknown as { updateComplete: Promise<unknown> })
      .updateComplete;
    const video = viewer.shadowRoot!.querySelector("video")!;
    const first = await new Promise<number>((resolve) =>
      video.requestVideoFrameCallback((now) => resolve(now))
    );
    results.push({
      firstFrame: first - start,
      negotiating: (marks.negotiating ?? NaN) - start,
      live: (marks.live ?? NaN) - start,
      width: video.videoWidth,
      height: video.videoHeight,
    });
    viewer.remove();
  }
  broadcaster.remove();
  return results;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { joins: { type: "string", default: "25" } },
  });
  const joins = Number(values.joins);
  const outdir = await Deno.makeTempDir();
  await esbuild.build({
    entryPoints: {
      elements:
        new URL("../components/live-elements.ts", import.meta.url).pathname,
    },
    outdir,
    bundle: true,
    format: "esm",
    minify: true,
    logLevel: "warning",
  });
  await esbuild.stop();
  const bundle = await Deno.readTextFile(`${outdir}/elements.js`);
  const signaling = await startSignalingServer(
    {
      ...DEFAULT_CONFIG,
      hostname: "127.0.0.1",
      port: 0,
      joinBurstPerIp: 10_000,
      connectBurstPerIp: 10_000,
    },
    { logger: createLogger("warn") },
  );
  const pages = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) =>
      new URL(request.url).pathname === "/elements.js"
        ? new Response(bundle, {
          headers: { "content-type": "text/javascript" },
        })
        : new Response(PAGE, { headers: { "content-type": "text/html" } }),
  );
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${pages.addr.port}/`);
    const results = await page.evaluate(
      measureInPage,
      `ws://127.0.0.1:${signaling.port}/ws`,
      joins,
    );
    const column = (key: "firstFrame" | "negotiating" | "live") =>
      results.map((r) => r[key]);
    const row = (name: string, key: "firstFrame" | "negotiating" | "live") =>
      `| ${name} | ${quantile(column(key), 0.5).toFixed(1)} | ${
        quantile(column(key), 0.9).toFixed(1)
      } | ${Math.max(...column(key)).toFixed(1)} |`;
    console.log(
      `${joins} joins, received ${results[0].width}x${
        results[0].height
      }, Chromium, fake camera, loopback\n`,
    );
    console.log(
      "| from <live-viewer> attached to | p50 ms | p90 ms | max ms |",
    );
    console.log("|---|---|---|---|");
    console.log(row("state negotiating (offer on its way)", "negotiating"));
    console.log(row("state live (connected, track received)", "live"));
    console.log(row("first frame presented", "firstFrame"));
  } finally {
    await browser.close();
    await pages.shutdown();
    await signaling.shutdown();
    await Deno.remove(outdir, { recursive: true });
  }
}
