/**
 * Cluster: the signaling load of bench/signaling-load.ts spread over 2 nodes
 * sharing a real Redis (every viewer on the other node than its
 * broadcaster, so every handshake crosses nodes), against 1 node in memory
 * in the same run; the same nodes with NODE_LINKS=off (frames through
 * Redis pub/sub, as before the node links); PROCESSES=2 (two processes of
 * one server on one port) against the one node; and how long the cluster
 * takes to notice a node killed with SIGKILL.
 *
 *   deno task bench:cluster                 # 5,000 connections, 10 kills
 *   deno task bench:cluster --connections 200 --kills 2
 *
 * Server CPU for the cluster is both nodes' plus Redis's. Everything shares
 * this machine's 2 cores with the load generator: compare within a run.
 */
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { RedisProcess } from "../tests/server/support/redis-process.ts";
import {
  processCpuSeconds,
  type ServerProcess,
  startServerProcess,
} from "./server-process.ts";
import {
  closeSocket,
  load,
  median,
  quantile,
  type Result,
  WARMUP_ROOMS,
} from "./signaling-load.ts";

const LIMITS = {
  MAX_CONNECTIONS: "100000",
  MAX_CONNECTIONS_PER_IP: "100000",
  CONNECT_BURST_PER_IP: "100000",
  JOIN_BURST_PER_IP: "100000",
  JOIN_RATE_PER_IP_PER_MINUTE: "6000000",
};
/**
 * How the load is served: one node in memory; two nodes over Redis with
 * every handshake crossing them, frames over their node links (the default)
 * or over Redis pub/sub (NODE_LINKS=off, the path before the links); two
 * processes of one server on one port (PROCESSES=2, the kernel spreading
 * connections, so about half the handshakes cross).
 */
export type Topology = "one" | "nodes" | "pubsub" | "processes";

/** One measured load on `topology`. */
async function scenario(
  topology: Topology,
  rooms: number,
  viewersPerRoom: number,
  routedCount?: number,
): Promise<Result> {
  const redis = topology === "one" ? undefined : await RedisProcess.start();
  const env: Record<string, string> = {
    ...LIMITS,
    MAX_VIEWERS_PER_STREAM: String(Math.max(50, viewersPerRoom)),
    ...(redis ? { REDIS_URL: redis.url } : {}),
    ...(topology === "pubsub" ? { NODE_LINKS: "off" } : {}),
    ...(topology === "processes" ? { PROCESSES: "2" } : {}),
  };
  const servers: ServerProcess[] = [];
  try {
    const nodes = topology === "nodes" || topology === "pubsub" ? 2 : 1;
    for (let i = 0; i < nodes; i++) servers.push(await startServerProcess(env));
    const redisCpu = () =>
      redis ? processCpuSeconds(redis.pid) : Promise.resolve(0);
    // The same warm-up as bench:signaling: V8 done optimizing before.
    const warm = await load(
      servers,
      Math.min(rooms, WARMUP_ROOMS),
      viewersPerRoom,
      "warmup",
      redisCpu,
      topology === "processes" ? 0 : undefined,
    );
    const measured = await load(
      servers,
      rooms,
      viewersPerRoom,
      topology,
      redisCpu,
      routedCount,
    );
    await Promise.all(
      [...warm.sockets, ...measured.sockets].map(closeSocket),
    );
    return measured.result;
  } finally {
    await Promise.all(servers.map((server) => server[Symbol.asyncDispose]()));
    await redis?.[Symbol.asyncDispose]();
  }
}

/**
 * Kills a node with SIGKILL `kills` times; each time a viewer on a surviving
 * node waits for `broadcaster-left` of the broadcaster that was on the dead
 * one. Default NODE_TTL_MS (5,000).
 */
export async function nodeDeathNotice(kills: number): Promise<number[]> {
  await using redis = await RedisProcess.start();
  const env = { ...LIMITS, REDIS_URL: redis.url };
  await using survivor = await startServerProcess(env);
  const times: number[] = [];
  for (let k = 0; k < kills; k++) {
    const doomed = await startServerProcess(env);
    const streamId = `kill-${k}`;
    const broadcaster = await connect(doomed.port);
    const accepted = nextOf(broadcaster, "broadcaster-accepted");
    broadcaster.send(JSON.stringify({ type: "broadcaster-ready", streamId }));
    await accepted;
    const viewer = await connect(survivor.port);
    // Listening before the join: the two replies race.
    const joined = Promise.all([
      nextOf(viewer, "join-accepted"),
      nextOf(broadcaster, "viewer-joined"),
    ]);
    viewer.send(JSON.stringify({ type: "join-stream", streamId }));
    await joined;
    const left = nextOf(viewer, "broadcaster-left");
    const killedAt = performance.now();
    Deno.kill(doomed.pid, "SIGKILL");
    await left;
    times.push(performance.now() - killedAt);
    await doomed[Symbol.asyncDispose]();
    await closeSocket(viewer);
  }
  return times.sort((a, b) => a - b);
}

function connect(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    ws.once("error", reject);
    ws.once("message", () => resolve(ws)); // the welcome
  });
}

function nextOf(ws: WebSocket, type: string): Promise<void> {
  return new Promise((resolve) => {
    const listener = (data: Buffer) => {
      if (JSON.parse(data.toString()).type !== type) return;
      ws.off("message", listener);
      resolve();
    };
    ws.on("message", listener);
  });
}

function row(r: Result, name: string): string {
  return `| ${r.connections} | ${name} | ${r.idleP50.toFixed(2)} | ${
    r.idleP99.toFixed(2)
  } | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${
    Math.round(r.routedPerWallSecond)
  } | ${Math.round(r.routedPerCpuSecond)} |`;
}

export async function clusterLoad(
  connectionCounts: number[],
  viewersPerRoom: number,
  rounds: number,
  kills: number,
): Promise<string> {
  const mark = (ok: boolean) => (ok ? "meets" : "misses");
  const lines = [
    "| connections | servers | one at a time p50 ms | p99 ms | all at once p50 ms | p99 ms | routed/s (wall) | routed per server CPU-s |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const connections of connectionCounts) {
    const rooms = Math.max(1, Math.round(connections / (viewersPerRoom + 1)));
    const runs: Record<Topology, Result[]> = {
      one: [],
      nodes: [],
      pubsub: [],
      processes: [],
    };
    for (let round = 0; round < rounds; round++) {
      const one = await scenario("one", rooms, viewersPerRoom);
      runs.one.push(one);
      runs.nodes.push(await scenario("nodes", rooms, viewersPerRoom));
      runs.pubsub.push(await scenario("pubsub", rooms, viewersPerRoom));
      // Its routed count cannot be read (one port, two /metrics): the same
      // load routes the same messages as on the one node.
      runs.processes.push(
        await scenario("processes", rooms, viewersPerRoom, one.routed),
      );
    }
    const one = median(runs.one);
    const two = median(runs.nodes);
    const pubsub = median(runs.pubsub);
    const processes = median(runs.processes);
    const burst = two.p99 / one.p99;
    lines.push(
      row(one, "1 node, in memory"),
      row(two, "2 nodes + Redis, node links (every handshake crosses nodes)"),
      row(pubsub, "2 nodes + Redis, NODE_LINKS=off (frames over pub/sub)"),
      `| ${connections} | **cluster (links)** | ${two.idleP50.toFixed(2)} (${
        mark(two.idleP50 <= 1)
      } ≤ 1 ms) | | | ${burst.toFixed(2)}x (${mark(burst <= 1.5)} ≤ 1.5x) | | ${
        (two.routedPerCpuSecond / one.routedPerCpuSecond).toFixed(2)
      }x |`,
      row(processes, "PROCESSES=2 on one port + Redis"),
      `| ${connections} | **2 processes / 1** | | | ${
        (processes.p50 / one.p50).toFixed(2)
      }x | ${(processes.p99 / one.p99).toFixed(2)}x | ${
        (processes.routedPerWallSecond / one.routedPerWallSecond).toFixed(2)
      }x | ${
        (processes.routedPerCpuSecond / one.routedPerCpuSecond).toFixed(2)
      }x |`,
    );
  }
  const times = await nodeDeathNotice(kills);
  const p50 = quantile(times, 0.5);
  const p95 = quantile(times, 0.95);
  lines.push(
    "",
    `A node killed with SIGKILL, noticed by a viewer on another node (\`broadcaster-left\`), default NODE_TTL_MS 5,000, ${kills} kills: p50 ${
      (p50 / 1000).toFixed(2)
    } s, p95 ${(p95 / 1000).toFixed(2)} s, max ${
      (times.at(-1)! / 1000).toFixed(2)
    } s (${mark(times.at(-1)! <= 10_000)} ≤ 10 s).`,
  );
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      connections: { type: "string", default: "5000" },
      viewers: { type: "string", default: "9" },
      rounds: { type: "string", default: "3" },
      kills: { type: "string", default: "10" },
    },
  });
  console.log(
    await clusterLoad(
      values.connections.split(",").map(Number),
      Number(values.viewers),
      Number(values.rounds),
      Number(values.kills),
    ),
  );
}
