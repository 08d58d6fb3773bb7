/**
 * Time to first frame: from `<live-viewer>` attached to the page until its
 * video presents the first frame (`requestVideoFrameCallback`), in headless
 * Chromium with the fake camera, against a live `<live-broadcaster>` in the
 * same page. Each join is a new element; the previous one is removed and the
 * broadcaster has let it go (`viewer-left`) first, as the bare pair closes both
 * ends before its next start.
 *
 *   deno task bench:ttff                 # 25 joins
 *   deno task bench:ttff --joins 50
 */
import * as esbuild from "esbuild";
import { parseArgs } from "node:util";
import puppeteer from "puppeteer-core";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../scripts/browsers.ts";
import { DEFAULT_CONFIG } from "../server/config.ts";
import { createLogger } from "../server/observe/logger.ts";
import { startSignalingServer } from "../server/signaling-server.ts";
import { quantile } from "./quantile.ts";

const PAGE = `<!doctype html>
<meta charset="utf-8">
<script type="module" src="/elements.js"></script>
<body></body>`;

type Mark = "offer" | "answer" | "ice" | "dtls" | "frame";
type Sample = Record<Mark, number> & { width: number; height: number };

/**
 * Runs in the page. `bare`: two RTCPeerConnections exchanging descriptions
 * and candidates by direct calls, a camera track on one, a video element on
 * the other. `element`: a live broadcaster, then viewers one after another.
 * Both are timed the same way, from the start of the join: offer received,
 * answer sent, ICE connected, DTLS connected (connectionState), first frame.
 */
async function measureInPage(
  mode: "bare" | "element",
  signalingUrl: string,
  joins: number,
  width: number,
  height: number,
): Promise<Sample[]> {
  // Timestamps for every receiving connection (the one that gets an offer).
  const marks: Partial<Record<Mark, number>>[] = [];
  const Native = RTCPeerConnection;
  class Timed extends Native {
    #marks: Partial<Record<Mark, number>> | undefined;
    constructor(config?: RTCConfiguration) {
      super(config);
      this.addEventListener("iceconnectionstatechange", () => {
        if (this.#marks && this.iceConnectionState === "connected") {
          this.#marks.ice ??= performance.now();
        }
      });
      this.addEventListener("connectionstatechange", () => {
        if (this.#marks && this.connectionState === "connected") {
          this.#marks.dtls ??= performance.now();
        }
      });
    }
    override setRemoteDescription(description: RTCSessionDescriptionInit) {
      if (description.type === "offer" && !this.#marks) {
        this.#marks = { offer: performance.now() };
        marks.push(this.#marks);
      }
      return super.setRemoteDescription(description);
    }
    override async setLocalDescription(
      description?: RTCLocalSessionDescriptionInit,
    ) {
      await super.setLocalDescription(description);
      if (this.#marks && this.localDescription?.type === "answer") {
        this.#marks.answer ??= performance.now();
      }
    }
  }
  globalThis.RTCPeerConnection = Timed;
  const firstFrame = (video: HTMLVideoElement) =>
    new Promise<number>((resolve) =>
      video.requestVideoFrameCallback((now) => resolve(now))
    );
  const results: Sample[] = [];
  const finish = (start: number, video: HTMLVideoElement, frame: number) => {
    const m = marks.at(-1)!;
    results.push({
      offer: m.offer! - start,
      answer: m.answer! - start,
      ice: m.ice! - start,
      dtls: m.dtls! - start,
      frame: frame - start,
      width: video.videoWidth,
      height: video.videoHeight,
    });
  };

  if (mode === "bare") {
    const camera = await navigator.mediaDevices.getUserMedia({
      video: { width, height },
      audio: true,
    });
    for (let i = 0; i < joins; i++) {
      const start = performance.now();
      const sender = new RTCPeerConnection();
      const receiver = new RTCPeerConnection();
      sender.onicecandidate = (e) =>
        e.candidate && receiver.addIceCandidate(e.candidate);
      receiver.onicecandidate = (e) =>
        e.candidate && sender.addIceCandidate(e.candidate);
      for (const track of camera.getTracks()) sender.addTrack(track, camera);
      const video = document.createElement("video");
      video.muted = true;
      video.playsInline = true;
      document.body.append(video);
      receiver.ontrack = (e) => {
        video.srcObject = e.streams[0];
        video.play();
      };
      const frame = firstFrame(video);
      await sender.setLocalDescription();
      await receiver.setRemoteDescription(sender.localDescription!);
      await receiver.setLocalDescription();
      await sender.setRemoteDescription(receiver.localDescription!);
      finish(start, video, await frame);
      sender.close();
      receiver.close();
      video.remove();
    }
    for (const track of camera.getTracks()) track.stop();
    return results;
  }

  await customElements.whenDefined("live-viewer");
  const stateIs = (element: Element, state: string) =>
    new Promise<void>((resolve) => {
      const check = () =>
        (element as unknown as { state: string }).state === state && resolve();
      check();
      element.addEventListener("live-state-change", check);
    });
  const broadcaster = document.createElement("live-broadcaster");
  for (
    const [name, value] of Object.entries({
      "stream-id": "bench",
      "signaling-url": signalingUrl,
      "ice-servers": "[]",
      "video-width": String(width),
      "video-height": String(height),
    })
  ) {
    broadcaster.setAttribute(name, value);
  }
  document.body.append(broadcaster);
  await (broadcaster as unknown as { start(): Promise<void> }).start();
  await stateIs(broadcaster, "live");
  for (let i = 0; i < joins; i++) {
    const viewer = document.createElement("live-viewer");
    for (
      const [name, value] of Object.entries({
        "stream-id": "bench",
        "signaling-url": signalingUrl,
        "ice-servers": "[]",
      })
    ) {
      viewer.setAttribute(name, value);
    }
    const start = performance.now();
    document.body.append(viewer);
    // Lit renders in a microtask; the clock is already running.
    await (viewer as unknown as { updateComplete: Promise<unknown> })
      .updateComplete;
    const video = viewer.shadowRoot!.querySelector("video")!;
    finish(start, video, await firstFrame(video));
    // The bare pair closes both ends before its next start; so does this: the
    // next join starts once the broadcaster has let this viewer go (else its
    // connection's close ran inside the next join's time: ~10 ms measured).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const left = new Promise((resolve, reject) => {
      broadcaster.addEventListener("viewer-left", resolve, { once: true });
      timer = setTimeout(() => reject(new Error("no viewer-left")), 10_000);
    });
    viewer.remove();
    await left;
    clearTimeout(timer);
  }
  broadcaster.remove();
  return results;
}

const MARKS: [Mark, string][] = [
  ["offer", "offer received"],
  ["answer", "answer sent"],
  ["ice", "ICE connected"],
  ["dtls", "DTLS connected"],
  ["frame", "first frame"],
];

/** Time to first frame, ours against bare connections, per resolution. */
export async function timeToFirstFrame(
  joins: number,
  resolutions: [number, number][],
): Promise<string> {
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
  await Deno.remove(outdir, { recursive: true });
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
  const lines = [
    `| resolution | path | ${
      MARKS.map(([, name]) => `${name} p50 / p90 ms`).join(" | ")
    } | received |`,
    `|---|---|${MARKS.map(() => "---").join("|")}|---|`,
  ];
  try {
    for (const [width, height] of resolutions) {
      const measured: Record<string, Sample[]> = {};
      for (const mode of ["bare", "element"] as const) {
        // A fresh page each time, so one run's connections do not linger into the next.
        const page = await browser.newPage();
        await page.goto(`http://127.0.0.1:${pages.addr.port}/`);
        measured[mode] = await page.evaluate(
          measureInPage,
          mode,
          `ws://127.0.0.1:${signaling.port}/ws`,
          joins,
          width,
          height,
        );
        await page.close();
        const samples = measured[mode];
        const cells = MARKS.map(([mark]) => {
          const values = samples.map((s) => s[mark]);
          return `${quantile(values, 0.5).toFixed(0)} / ${
            quantile(values, 0.9).toFixed(0)
          }`;
        });
        lines.push(
          `| ${width}x${height} | ${
            mode === "bare" ? "bare RTCPeerConnection pair" : "live-widgets"
          } | ${cells.join(" | ")} | ${samples[0].width}x${
            samples[0].height
          } |`,
        );
      }
      const ratio = (q: number) =>
        quantile(measured.element.map((s) => s.frame), q) /
        quantile(measured.bare.map((s) => s.frame), q);
      lines.push(
        `| ${width}x${height} | **first frame ratio** | p50 ${
          ratio(0.5).toFixed(2)
        }x, p90 ${ratio(0.9).toFixed(2)}x | | | | | |`,
      );
    }
  } finally {
    await browser.close();
    await pages.shutdown();
    await signaling.shutdown();
  }
  return `${joins} joins per path and resolution; Chromium, fake camera, loopback, ICE servers [].\n\n${
    lines.join("\n")
  }`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { joins: { type: "string", default: "25" } },
  });
  console.log(
    await timeToFirstFrame(Number(values.joins), [[640, 480], [1280, 720]]),
  );
}
