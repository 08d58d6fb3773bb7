/**
 * Signaling load: R rooms x (1 broadcaster + V viewers), every viewer running
 * the seed's full handshake at once (join, viewer-joined, offer, answer, 4 ICE
 * candidates each way, ~2 KB SDPs). Reports handshake latency (join sent ->
 * both sides have everything), messages routed per wall second and per server
 * CPU second, and server memory per connection.
 *
 *   deno task bench:signaling     # 1,000, 5,000 and 10,000 connections
 *   deno task bench:signaling --connections 200 --viewers 9 --rounds 1
 *   deno task bench:signaling --connections 5000 --warmup 20  # rooms
 *   deno task bench:signaling --log-level warn  # no audit lines (default: info)
 *   BENCH_PROFILE=/tmp/prof deno task bench:signaling --rounds 1
 *     # V8 CPU profile of each measured burst, where it went on stderr
 *   BENCH_V8_FLAGS=--prof deno task bench:signaling --rounds 1
 *     # V8's tick log per server process (node --prof-process reads it):
 *     # the inspector above adds work of its own to our server's frames
 *
 * The load generator is this process, on the `ws` client; the server runs
 * as its own process so /proc gives its RSS and CPU time alone. Client and
 * server share this machine's cores: figures are for comparing
 * runs on one machine, not capacity planning.
 */
import { parseArgs } from "node:util";
// Deno's own WebSocket client leaves TCP_NODELAY off and stalls ~44 ms on
// frames of a few KB (Nagle + delayed ACK): it would measure itself, not
// the server. `ws` sets NODELAY, as browsers do.
import WebSocket from "ws";
import { realisticCandidate, realisticSdp } from "./realistic-sdp.ts";
import {
  BARE_RELAY,
  type ServerProcess,
  startServerProcess,
} from "./server-process.ts";

const CANDIDATES = 4;
const SCENARIO_DEADLINE_MS = 180_000;
/** Sequential handshakes after the burst: latency without queueing. */
const IDLE_SAMPLES = 50;
/**
 * Rooms that handshake, unmeasured, before the measured run (`--warmup`),
 * whatever its size. 300 (2,700 handshakes): with 20, V8 still optimized
 * 76 of our functions during the measured burst at 5,000 connections (~290
 * ms of compiler thread time, a fifth of the burst's CPU) and 46 of the
 * bare relay's; with 300, 20 and 13, as few as with 1,000 (28 and 16). At
 * 1,000 connections a warm-up of 100 rooms left 46 and 22 (half of our
 * burst's CPU). bench/RESULTS.md, issue 24.
 */
export const WARMUP_ROOMS = 300;

export interface Result {
  connections: number;
  rooms: number;
  viewersPerRoom: number;
  connectSeconds: number;
  p50: number;
  p99: number;
  max: number;
  idleP50: number;
  idleP99: number;
  routed: number;
  routedPerWallSecond: number;
  routedPerCpuSecond: number;
  rssConnected: number;
  rssPerConnection: number;
}

interface Pending {
  sentAt: number;
  viewerDone: number;
  broadcasterDone: number;
  answerSeen: boolean;
  /** The viewer got its offer. */
  offerSeen: boolean;
  candidatesFromViewer: number;
  candidatesFromBroadcaster: number;
  complete: PromiseWithResolvers<number>;
}

function newPending(): Pending {
  return {
    sentAt: performance.now(),
    viewerDone: 0,
    broadcasterDone: 0,
    answerSeen: false,
    offerSeen: false,
    candidatesFromViewer: 0,
    candidatesFromBroadcaster: 0,
    complete: Promise.withResolvers<number>(),
  };
}

type Target = "ours" | "bare";

async function scenario(
  rooms: number,
  viewersPerRoom: number,
  target: Target = "ours",
  warmupRooms = WARMUP_ROOMS,
  logLevel = "info",
): Promise<Result> {
  const limits = {
    MAX_CONNECTIONS: "100000",
    // All the load comes from one address, 127.0.0.1.
    MAX_CONNECTIONS_PER_IP: "100000",
    CONNECT_BURST_PER_IP: "100000",
    JOIN_BURST_PER_IP: "100000",
    JOIN_RATE_PER_IP_PER_MINUTE: "6000000",
    MAX_VIEWERS_PER_STREAM: String(Math.max(50, viewersPerRoom)),
    LOG_LEVEL: logLevel,
  };
  await using server = await startServerProcess(
    limits,
    target === "bare" ? BARE_RELAY : undefined,
  );
  // Warm-up, the same for both servers: handshakes that are not measured,
  // so the figures are the steady state and not how much code V8 has to
  // compile on first use.
  // Its clients stay connected, idle: closed, they would leave free memory
  // that the measured connections reused unseen.
  const warm = warmupRooms > 0
    ? await load([server], warmupRooms, viewersPerRoom, "warmup")
    : { sockets: [] };
  const rssBefore = await server.rss();
  const measured = await load([server], rooms, viewersPerRoom, target);
  await Promise.all([...warm.sockets, ...measured.sockets].map(closeSocket));
  const result = measured.result;
  return {
    ...result,
    rssPerConnection: (result.rssConnected - rssBefore) / result.connections,
  };
}

/**
 * Connects `rooms` rooms, runs the burst and the sequential handshakes.
 * With several servers (a cluster), broadcasters alternate between them and
 * every viewer connects to another node than its broadcaster's, so every
 * handshake crosses nodes; routed messages and CPU are summed over them and
 * `extraCpuSeconds` (Redis's). `routedCount`: for servers whose /metrics
 * cannot all be read (PROCESSES=N answer on one port, one at a time), the
 * count measured on another server under the same load.
 */
export async function load(
  servers: ServerProcess[],
  rooms: number,
  viewersPerRoom: number,
  label: string,
  extraCpuSeconds: () => Promise<number> = () => Promise.resolve(0),
  routedCount?: number,
): Promise<{ result: Result; sockets: WebSocket[] }> {
  const urls = servers.map((server) => `ws://127.0.0.1:${server.port}/ws`);
  const nodeOf = (room: number) => room % urls.length;
  const viewerNode = (room: number) =>
    urls.length > 1 ? (nodeOf(room) + 1) % urls.length : 0;
  const sum = async (read: (server: ServerProcess) => Promise<number>) =>
    (await Promise.all(servers.map(read))).reduce((a, b) => a + b, 0);
  const cpuSeconds = async () =>
    await sum((server) => server.cpuSeconds()) + await extraCpuSeconds();
  const sockets: WebSocket[] = [];
  const pending = new Map<string, Pending>();
  const timedOut = Promise.withResolvers<never>();
  // Where a scenario stuck: connecting, or which step of which handshakes.
  const stuck = () => {
    const records = [...pending.values()];
    const open = records.filter((r) => !r.viewerDone || !r.broadcasterDone);
    const count = (test: (r: Pending) => boolean) => open.filter(test).length;
    return `${label}: ${broadcasters.length} of ${rooms} broadcasters and ${viewers.length} of ${total} viewers connected, ${
      records.length - open.length
    } of ${records.length} handshakes done; of the others, ${
      count((r) => r.offerSeen)
    } got the offer, ${
      count((r) => r.candidatesFromBroadcaster === CANDIDATES)
    } all its candidates, ${
      count((r) => r.answerSeen)
    } had the answer reach the broadcaster, ${
      count((r) => r.candidatesFromViewer === CANDIDATES)
    } all the viewer's candidates`;
  };
  const deadline = setTimeout(async () => {
    const where = stuck();
    timedOut.reject(
      new Error(
        `not done in ${SCENARIO_DEADLINE_MS} ms (${where}; ${await drops(
          servers,
        )})`,
      ),
    );
  }, SCENARIO_DEADLINE_MS);
  // The connections too: a connect that never settles ends the scenario.
  const within = <T>(steps: Promise<T>[]) =>
    Promise.race([Promise.all(steps), timedOut.promise]);
  const total = rooms * viewersPerRoom;
  const finish = (record: Pending) => {
    if (record.viewerDone && record.broadcasterDone) {
      record.complete.resolve(
        Math.max(record.viewerDone, record.broadcasterDone) - record.sentAt,
      );
    }
  };

  // Connect everyone first: the measured phase is signaling, not TCP setup.
  const connectStart = performance.now();
  const open = (
    url: string,
    handler: (m: Record<string, unknown>, ws: WebSocket) => void,
  ) =>
    new Promise<{ ws: WebSocket; id: string }>((resolve, reject) => {
      const ws = new WebSocket(url);
      sockets.push(ws);
      ws.on("error", () => reject(new Error("connect failed")));
      ws.on("message", (data: Buffer) => {
        const message = JSON.parse(data.toString());
        if (message.type === "welcome") {
          resolve({ ws, id: message.clientId });
        } else handler(message, ws);
      });
    });
  const broadcasters: { ws: WebSocket; streamId: string }[] = [];
  const viewers: { ws: WebSocket; id: string; streamId: string }[] = [];
  const batch = 200; // concurrent connects, below the listen backlog
  for (let r = 0; r < rooms; r += batch) {
    await within(
      Array.from({ length: Math.min(batch, rooms - r) }, async (_, i) => {
        const streamId = `${label}-${r + i}`;
        const { ws } = await open(
          urls[nodeOf(r + i)],
          (message, socket) => onBroadcasterMessage(message, socket, streamId),
        );
        broadcasters.push({ ws, streamId });
      }),
    );
  }
  const viewerSpecs = Array.from({ length: total }, (_, i) => i);
  for (let v = 0; v < total; v += batch) {
    await within(
      viewerSpecs.slice(v, v + batch).map(async (i) => {
        const streamId = `${label}-${i % rooms}`;
        const { ws, id } = await open(
          urls[viewerNode(i % rooms)],
          (message, socket) => onViewerMessage(message, socket, id, streamId),
        );
        viewers.push({ ws, id, streamId });
      }),
    );
  }
  const connectSeconds = (performance.now() - connectStart) / 1000;
  const rssConnected = await sum((server) => server.rss());

  function onBroadcasterMessage(
    message: Record<string, unknown>,
    ws: WebSocket,
    streamId: string,
  ) {
    const viewerId = message.viewerId as string;
    if (message.type === "viewer-joined") {
      const seed = Number(viewerId.length);
      ws.send(JSON.stringify({
        type: "webrtc-offer",
        streamId,
        viewerId,
        offer: { type: "offer", sdp: realisticSdp("offer", seed) },
      }));
      for (let c = 0; c < CANDIDATES; c++) {
        ws.send(JSON.stringify({
          type: "webrtc-ice-candidate",
          streamId,
          viewerId,
          candidate: realisticCandidate(c, seed),
        }));
      }
      return;
    }
    const record = pending.get(viewerId);
    if (!record) return;
    if (message.type === "webrtc-answer") record.answerSeen = true;
    if (message.type === "webrtc-ice-candidate") record.candidatesFromViewer++;
    if (record.answerSeen && record.candidatesFromViewer === CANDIDATES) {
      record.broadcasterDone = performance.now();
      finish(record);
    }
  }

  function onViewerMessage(
    message: Record<string, unknown>,
    ws: WebSocket,
    id: string,
    streamId: string,
  ) {
    if (message.type === "webrtc-offer") {
      const record = pending.get(id);
      if (record) record.offerSeen = true;
      ws.send(JSON.stringify({
        type: "webrtc-answer",
        streamId,
        viewerId: id,
        answer: { type: "answer", sdp: realisticSdp("answer", id.length) },
      }));
      for (let c = 0; c < CANDIDATES; c++) {
        ws.send(JSON.stringify({
          type: "webrtc-ice-candidate",
          streamId,
          viewerId: id,
          candidate: realisticCandidate(c, id.length),
        }));
      }
    } else if (message.type === "webrtc-ice-candidate") {
      const record = pending.get(id)!;
      if (++record.candidatesFromBroadcaster === CANDIDATES) {
        record.viewerDone = performance.now();
        finish(record);
      }
    }
  }

  for (const { ws, streamId } of broadcasters) {
    ws.send(JSON.stringify({ type: "broadcaster-ready", streamId }));
  }
  // Every viewer joins at once: the handshake phase under full load.
  const routed = () =>
    sum((server) => server.metric("live_messages_routed_total"));
  const routedBefore = routedCount === undefined ? await routed() : 0;
  await servers[0].profile(`${label}-${rooms * (viewersPerRoom + 1)}`);
  const cpuBefore = await cpuSeconds();
  const start = performance.now();
  const handshake = (viewer: typeof viewers[number]) => {
    const record = newPending();
    pending.set(viewer.id, record);
    viewer.ws.send(
      JSON.stringify({ type: "join-stream", streamId: viewer.streamId }),
    );
    return Promise.race([record.complete.promise, timedOut.promise]);
  };
  const latencies = (await Promise.all(viewers.map(handshake)))
    .sort((a, b) => a - b);
  const wall = (performance.now() - start) / 1000;
  const cpu = (await cpuSeconds()) - cpuBefore;
  await servers[0].profileEnd();
  routedCount ??= (await routed()) - routedBefore;

  // One at a time on the loaded server: a re-join asks for a fresh offer.
  const idle: number[] = [];
  for (let i = 0; i < IDLE_SAMPLES; i++) {
    idle.push(await handshake(viewers[(i * 97) % viewers.length]));
  }
  idle.sort((a, b) => a - b);
  clearTimeout(deadline);
  const connections = rooms * (viewersPerRoom + 1);
  const result: Result = {
    connections,
    rooms,
    viewersPerRoom,
    connectSeconds,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies.at(-1)!,
    idleP50: quantile(idle, 0.5),
    idleP99: quantile(idle, 0.99),
    routed: routedCount,
    routedPerWallSecond: routedCount / wall,
    routedPerCpuSecond: routedCount / Math.max(cpu, 0.01),
    rssConnected,
    rssPerConnection: 0, // known only to the caller
  };
  return { result, sockets };
}

/** Frames the servers dropped between nodes, by server and why (a stuck cluster run). */
async function drops(servers: ServerProcess[]): Promise<string> {
  const each = await Promise.all(servers.map(async (server) => {
    try {
      const text = await (await fetch(
        `http://127.0.0.1:${server.port}/metrics`,
      )).text();
      const lines = text.split("\n").filter((line) =>
        line.startsWith("live_cluster_frames_dropped_total")
      );
      return `${server.port}: ${lines.join(", ") || "none"}`;
    } catch (error) {
      return `${server.port}: ${error}`;
    }
  }));
  return `frames dropped between nodes: ${each.join("; ")}`;
}

export function closeSocket(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    ws.on("close", () => resolve());
    ws.close();
  });
}

export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function row(r: Result, name: string): string {
  return `| ${r.connections} | ${name} | ${r.p50.toFixed(1)} | ${
    r.p99.toFixed(1)
  } | ${r.idleP50.toFixed(2)} | ${r.idleP99.toFixed(2)} | ${
    Math.round(r.routedPerWallSecond)
  } | ${Math.round(r.routedPerCpuSecond)} | ${
    (r.rssPerConnection / 1024).toFixed(1)
  } |`;
}

/** Ours against the bare relay, as the targets are put: lower is better for the first two. */
function ratios(ours: Result, bare: Result): string {
  const p99 = ours.p99 / bare.p99;
  const memory = ours.rssPerConnection / bare.rssPerConnection;
  const throughput = ours.routedPerCpuSecond / bare.routedPerCpuSecond;
  const mark = (ok: boolean) => (ok ? "meets" : "misses");
  return `| ${ours.connections} | **ratio** | | ${p99.toFixed(2)}x (${
    mark(p99 <= 1.25)
  } ≤1.25x) | | | | ${throughput.toFixed(2)}x (${
    mark(throughput >= 0.8)
  } ≥0.8x) | ${memory.toFixed(2)}x (${mark(memory <= 1.15)} ≤1.15x) |`;
}

/**
 * Each figure is the median of `rounds` runs, bare and ours alternating, so a
 * burst of noise from a neighbour on this shared machine lands on one round of
 * one side, not on the ratio.
 */
export async function signalingLoad(
  connectionCounts: number[],
  viewersPerRoom: number,
  rounds = 3,
  warmupRooms = WARMUP_ROOMS,
  logLevel = "info",
): Promise<string> {
  const lines = [
    // The server's default level writes an audit line per admission, join
    // and leave; `--log-level warn` measures a server that writes none.
    `Our server at LOG_LEVEL=${logLevel}${
      logLevel === "info" ? " (the default)" : ""
    }.`,
    "",
    "| connections | server | all at once p50 ms | p99 ms | one at a time p50 ms | p99 ms | routed/s (wall) | routed per server CPU-s | server RSS per connection (KiB) |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const connections of connectionCounts) {
    const rooms = Math.max(1, Math.round(connections / (viewersPerRoom + 1)));
    const bare: Result[] = [];
    const ours: Result[] = [];
    for (let round = 0; round < rounds; round++) {
      bare.push(await scenario(rooms, viewersPerRoom, "bare", warmupRooms));
      ours.push(
        await scenario(rooms, viewersPerRoom, "ours", warmupRooms, logLevel),
      );
    }
    lines.push(
      row(median(bare), "bare relay"),
      row(median(ours), "live-widgets"),
      ratios(median(ours), median(bare)),
    );
  }
  return lines.join("\n");
}

/** The median of each figure across rounds, separately. */
export function median(results: Result[]): Result {
  const pick = (key: keyof Result) =>
    quantile(results.map((r) => r[key]).sort((a, b) => a - b), 0.5);
  const out = { ...results[0] };
  for (const key of Object.keys(out) as (keyof Result)[]) out[key] = pick(key);
  return out;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      connections: { type: "string", default: "1000,5000,10000" },
      viewers: { type: "string", default: "9" },
      rounds: { type: "string", default: "3" },
      warmup: { type: "string", default: String(WARMUP_ROOMS) },
      "log-level": { type: "string", default: "info" },
    },
  });
  console.log(
    await signalingLoad(
      values.connections.split(",").map(Number),
      Number(values.viewers),
      Number(values.rounds),
      Number(values.warmup),
      values["log-level"],
    ),
  );
}
