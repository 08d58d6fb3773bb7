/**
 * Does one abusive client slow down other streams? Measures the seed
 * handshake on streams B (ten of them, each one broadcaster and one viewer;
 * 4 candidates each way, ~1.8 KB SDPs), one handshake at a time, first with
 * the server idle, then
 * while F flooders on stream A send 60 KB answers as fast as they can and
 * reconnect whenever the server drops them. Reports p50/p99 and the ratio.
 * The flooders run in a process of their own, so the measuring client's
 * event loop is not theirs.
 *
 *   deno task bench:abuse
 *
 * All clients share 127.0.0.1, so the per-IP caps are raised here: what is
 * measured is what the per-connection limits (size, rate, outbound buffer)
 * and the single event loop do under load. Against a real attacker the
 * per-IP caps would stop most of this flood before it starts.
 */
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { realisticCandidate, realisticSdp } from "./realistic-sdp.ts";
import { startServerProcess } from "./server-process.ts";
import { quantile } from "./quantile.ts";

const CANDIDATES = 4;
/** Streams B measured side by side (each a broadcaster and a viewer). */
const PAIRS = 10;

type Message = Record<string, unknown>;

function connect(
  url: string,
  onMessage: (m: Message) => void,
): Promise<{ ws: WebSocket; id: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on("error", reject);
    ws.on("message", (data: Buffer) => {
      const message = JSON.parse(data.toString());
      if (message.type === "welcome") resolve({ ws, id: message.clientId });
      else onMessage(message);
    });
  });
}

/** A stream B: a broadcaster and a viewer that re-join to trigger each handshake. */
async function handshakePair(url: string, streamId: string) {
  let done: (() => void) | undefined;
  let fromViewer = 0;
  let toViewer = 0;
  let answered = false;
  const check = () => {
    if (answered && fromViewer === CANDIDATES && toViewer === CANDIDATES) {
      done?.();
    }
  };
  const refused = (m: Message) => {
    throw new Error(`stream ${streamId} refused: ${JSON.stringify(m)}`);
  };
  const send = (ws: WebSocket, message: Message) =>
    ws.send(JSON.stringify(message));
  const broadcaster = await connect(url, (m) => {
    if (m.type === "viewer-joined") {
      const { viewerId } = m;
      send(broadcaster.ws, {
        type: "webrtc-offer",
        streamId,
        viewerId,
        offer: { type: "offer", sdp: realisticSdp("offer", 1) },
      });
      for (let c = 0; c < CANDIDATES; c++) {
        send(broadcaster.ws, {
          type: "webrtc-ice-candidate",
          streamId,
          viewerId,
          candidate: realisticCandidate(c, 1),
        });
      }
    } else if (m.type === "webrtc-answer") {
      answered = true;
      check();
    } else if (m.type === "webrtc-ice-candidate") {
      fromViewer++;
      check();
    } else if (m.type === "error") refused(m);
  });
  send(broadcaster.ws, { type: "broadcaster-ready", streamId });
  const viewer = await connect(url, (m) => {
    if (m.type === "webrtc-offer") {
      send(viewer.ws, {
        type: "webrtc-answer",
        streamId,
        answer: { type: "answer", sdp: realisticSdp("answer", 2) },
      });
      for (let c = 0; c < CANDIDATES; c++) {
        send(viewer.ws, {
          type: "webrtc-ice-candidate",
          streamId,
          candidate: realisticCandidate(c, 2),
        });
      }
    } else if (m.type === "webrtc-ice-candidate") {
      toViewer++;
      check();
    } else if (m.type === "error") refused(m);
  });
  return {
    /** One full handshake; resolves with its duration in ms. */
    run(): Promise<number> {
      fromViewer = 0;
      toViewer = 0;
      answered = false;
      const start = performance.now();
      return new Promise((resolve, reject) => {
        const lost = setTimeout(
          () => reject(new Error(`handshake on ${streamId} did not finish`)),
          10_000,
        );
        done = () => {
          clearTimeout(lost);
          resolve(performance.now() - start);
        };
        send(viewer.ws, { type: "join-stream", streamId });
      });
    },
    close() {
      broadcaster.ws.close();
      viewer.ws.close();
    },
  };
}

/** F connections blasting stream A with 60 KB answers until stopped. */
function flood(url: string, flooders: number) {
  const answer = JSON.stringify({
    type: "webrtc-answer",
    streamId: "a",
    answer: { type: "answer", sdp: "v=0\r\n" + "a=x:" + "y".repeat(60_000) },
  });
  let running = true;
  const stats = { sent: 0, dropped: 0 };
  const sockets = new Set<WebSocket>();
  const one = () => {
    if (!running) return;
    const ws = new WebSocket(url);
    sockets.add(ws);
    const blast = () => {
      // Keep ~1 MB in the client's buffer: as fast as the socket drains.
      while (
        running && ws.readyState === WebSocket.OPEN &&
        ws.bufferedAmount < 1_000_000
      ) {
        ws.send(answer);
        stats.sent++;
      }
      if (running && ws.readyState === WebSocket.OPEN) setTimeout(blast, 1);
    };
    ws.on("open", () => {
      ws.send(JSON.stringify({ type: "join-stream", streamId: "a" }));
      blast();
    });
    ws.on("message", () => {});
    ws.on("error", () => {});
    ws.on("close", () => {
      sockets.delete(ws);
      stats.dropped++;
      one();
    });
  };
  for (let i = 0; i < flooders; i++) one();
  return {
    stats,
    stop() {
      running = false;
      for (const ws of sockets) ws.terminate();
    },
  };
}

type Pair = Awaited<ReturnType<typeof handshakePair>>;

/**
 * `count` handshakes one at a time, round robin over the pairs, so that no
 * connection of ours runs into its own message rate limit.
 */
async function sample(pairs: Pair[], count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    times.push(await pairs[i % pairs.length].run());
  }
  return times;
}

/** Stream B's handshake idle and under a flood of `flooders` connections on stream A. */
export async function abuseIsolation(
  flooders: number,
  count: number,
  serverEnv: Record<string, string> = {},
): Promise<string> {
  const out: string[] = [];
  await using server = await startServerProcess({
    ...serverEnv,
    MAX_CONNECTIONS_PER_IP: "100000",
    JOIN_BURST_PER_IP: "100000",
    JOIN_RATE_PER_IP_PER_MINUTE: "6000000",
  });
  const url = `ws://127.0.0.1:${server.port}/ws`;
  const pairs: Pair[] = [];
  for (let i = 0; i < PAIRS; i++) pairs.push(await handshakePair(url, `b${i}`));
  await sample(pairs, 50); // warm-up
  const idle = await sample(pairs, count);
  const attacker = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--flood-url",
      url,
      "--flooders",
      String(flooders),
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  // Let the flood reach full speed before measuring.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const received = () => server.metric("live_messages_received_total");
  const refusedUpgrades = () => server.metric("live_connections_refused_total");
  const drops = () =>
    server.metric('live_connections_dropped_total{reason="rate-limited"}');
  const cpuBefore = await server.cpuSeconds();
  const receivedBefore = await received();
  const refusedBefore = await refusedUpgrades();
  const dropsBefore = await drops();
  const start = performance.now();
  const loaded = await sample(pairs, count);
  const seconds = (performance.now() - start) / 1000;
  const cpu = (await server.cpuSeconds()) - cpuBefore;
  // Each measured handshake is 11 frames of ours: a join and 5 each way.
  const flooded = (await received()) - receivedBefore - count * 11;
  const refused = (await refusedUpgrades()) - refusedBefore;
  const dropped = (await drops()) - dropsBefore;
  attacker.kill();
  await attacker.status;
  for (const pair of pairs) pair.close();
  out.push(`| stream B handshake | p50 ms | p99 ms |`);
  out.push(`|---|---|---|`);
  out.push(
    `| idle | ${quantile(idle, 0.5).toFixed(2)} | ${
      quantile(idle, 0.99).toFixed(2)
    } |`,
  );
  out.push(
    `| during the flood on stream A | ${quantile(loaded, 0.5).toFixed(2)} | ${
      quantile(loaded, 0.99).toFixed(2)
    } |`,
  );
  out.push(
    `| ratio | ${(quantile(loaded, 0.5) / quantile(idle, 0.5)).toFixed(2)}x | ${
      (quantile(loaded, 0.99) / quantile(idle, 0.99)).toFixed(2)
    }x |`,
  );
  out.push(
    `\nWhile B was measured (${
      seconds.toFixed(1)
    } s), ${flooders} flooders got ` +
      `${flooded} frames (${
        Math.round(flooded / seconds)
      }/s, most of 60 KB) into the server; ` +
      `${refused} of their reconnections were refused (429) and ${dropped} of their ` +
      `connections closed for the rate limit. Server CPU: ${
        (cpu / seconds * 100).toFixed(0)
      }% of a core.`,
  );
  return out.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      flooders: { type: "string", default: "20" },
      handshakes: { type: "string", default: "1000" },
      "flood-url": { type: "string" },
    },
  });
  if (values["flood-url"]) {
    // The child process: flood until killed.
    flood(values["flood-url"], Number(values.flooders));
    await new Promise(() => {});
  }
  console.log(
    await abuseIsolation(
      Number(values.flooders),
      Number(values.handshakes),
      // Extra server settings to compare, e.g. BENCH_SERVER_ENV='{"RATE_LIMIT_MAX_REFUSALS":"20"}'.
      JSON.parse(Deno.env.get("BENCH_SERVER_ENV") ?? "{}"),
    ),
  );
}
