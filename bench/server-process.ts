/**
 * The signaling server as its own OS process, so its memory and CPU time can
 * be read from /proc apart from the load generator's.
 */
const MAIN = new URL("../server/main.ts", import.meta.url).pathname;
export const BARE_RELAY = new URL("./bare-relay.ts", import.meta.url).pathname;

export interface ServerProcess extends AsyncDisposable {
  port: number;
  pid: number;
  /** Resident set size in bytes (VmRSS). */
  rss(): Promise<number>;
  /** User + system CPU seconds used so far. */
  cpuSeconds(): Promise<number>;
  metric(name: string): Promise<number>;
  /** With BENCH_PROFILE=<dir>: a V8 CPU profile until profileEnd(). */
  profile(label: string): Promise<void>;
  profileEnd(): Promise<void>;
}

/** `entry` is our server by default; the bench's bare relay for baselines. */
export async function startServerProcess(
  env: Record<string, string> = {},
  entry = MAIN,
): Promise<ServerProcess> {
  const port = freePort();
  const processes = Number(env.PROCESSES ?? 1);
  // BENCH_PROFILE=<dir>: V8 CPU profiles of the measured phases, through the
  // inspector, as .cpuprofile files (Chrome DevTools opens them).
  const profileDir = Deno.env.get("BENCH_PROFILE");
  const inspectPort = profileDir ? freePort() : 0;
  const v8Flags = profileDir ? [`--inspect=127.0.0.1:${inspectPort}`] : [];
  // BENCH_V8_FLAGS, e.g. --prof: V8's own tick log. The inspector above
  // reports each of our server's WebSocket frames to itself (Deno's network
  // bridge), which swamps what it profiles (bench/RESULTS.md).
  const extraV8 = Deno.env.get("BENCH_V8_FLAGS");
  if (extraV8) v8Flags.push(`--v8-flags=${extraV8}`);
  // Its own STATE_DIR (where one node without a secret keeps its resume
  // key), writable as `deno task start` makes its default one.
  const stateDir = env.STATE_DIR ??
    await Deno.makeTempDir({ prefix: "lw-state-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...v8Flags,
      // As `deno task start` (request.signal as Deno's next default).
      "--unstable-no-legacy-abort",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      `--allow-write=${stateDir}`,
      // PROCESSES=N: it starts its N servers as child processes.
      ...(processes > 1 ? ["--allow-run"] : []),
      entry,
    ],
    env: {
      PORT: String(port),
      HOSTNAME: "127.0.0.1",
      // No LOG_LEVEL: the server's default (info: an audit line per
      // admission, join and leave), as most deployments run it.
      STATE_DIR: stateDir,
      ...env,
    },
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitForHealth(port, processes);
  const profiler = profileDir
    ? await Profiler.connect(inspectPort, profileDir)
    : undefined;
  return {
    port,
    pid: child.pid,
    async rss() {
      let bytes = 0;
      for (const pid of await processTree(child.pid)) {
        const status = await Deno.readTextFile(`/proc/${pid}/status`);
        bytes += Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
      }
      return bytes;
    },
    cpuSeconds: () => processCpuSeconds(child.pid),
    async metric(name) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`))
        .text();
      const line = text.split("\n").find((l) => l.startsWith(`${name} `));
      return Number(line?.split(" ")[1] ?? NaN);
    },
    profile: async (label) => await profiler?.start(label),
    profileEnd: async () => await profiler?.stop(),
    async [Symbol.asyncDispose]() {
      profiler?.close();
      try {
        child.kill("SIGTERM");
      } catch {
        // Killed already (the cluster bench kills nodes with SIGKILL).
      }
      await child.status;
      if (!env.STATE_DIR) await Deno.remove(stateDir, { recursive: true });
    },
  };
}

/**
 * User + system CPU seconds process `pid` and its children (PROCESSES=N's
 * servers) have used so far.
 */
export async function processCpuSeconds(pid: number): Promise<number> {
  // schedstat's first field is the thread's time on CPU in ns; /proc/pid/stat
  // counts 10 ms ticks, too coarse for bursts of a tenth of a second.
  let ns = 0;
  for (const one of await processTree(pid)) {
    for await (const task of Deno.readDir(`/proc/${one}/task`)) {
      const text = await Deno.readTextFile(
        `/proc/${one}/task/${task.name}/schedstat`,
      ).catch(() => "0"); // a thread that just ended
      ns += Number(text.split(" ")[0]);
    }
  }
  return ns / 1e9;
}

/** `pid` and its descendants, from /proc/<pid>/task/<tid>/children. */
async function processTree(pid: number): Promise<number[]> {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for await (const task of Deno.readDir(`/proc/${tree[i]}/task`)) {
      const text = await Deno.readTextFile(
        `/proc/${tree[i]}/task/${task.name}/children`,
      ).catch(() => "");
      tree.push(...text.split(" ").filter(Boolean).map(Number));
    }
  }
  return tree;
}

/** /healthz on a connection of its own: the node that answered, if ok. */
async function healthyNode(port: number): Promise<string | undefined> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode("GET /healthz HTTP/1.0\r\n\r\n"),
    );
    const text = await new Response(conn.readable).text();
    if (!text.startsWith("HTTP/1.1 200") && !text.startsWith("HTTP/1.0 200")) {
      return undefined;
    }
    const body = text.slice(text.indexOf("\r\n\r\n") + 4);
    return String(JSON.parse(body).node ?? "one");
  } catch (error) {
    if (error instanceof SyntaxError) return "one";
    throw error;
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Until `processes` servers answer on `port`: with PROCESSES=N (one port,
 * SO_REUSEPORT) each request on a new connection reaches one of them, and
 * /healthz names its node.
 */
async function waitForHealth(port: number, processes = 1): Promise<void> {
  const deadline = Date.now() + 15_000;
  const nodes = new Set<string>();
  for (;;) {
    try {
      const node = await healthyNode(port);
      if (node !== undefined) nodes.add(node);
      if (nodes.size >= processes) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error("server did not start");
    // Often: bench/server-start.ts times the start by this.
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Just enough of the Chrome DevTools Protocol to take CPU profiles. */
class Profiler {
  #socket: WebSocket;
  #next = 0;
  #replies = new Map<number, (result: Record<string, unknown>) => void>();
  #dir: string;
  #label = "";

  private constructor(socket: WebSocket, dir: string) {
    this.#socket = socket;
    this.#dir = dir;
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      this.#replies.get(message.id)?.(message.result);
      this.#replies.delete(message.id);
    };
  }

  static async connect(port: number, dir: string): Promise<Profiler> {
    const [target] = await (await fetch(`http://127.0.0.1:${port}/json/list`))
      .json();
    const socket = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise((resolve) => (socket.onopen = resolve));
    const profiler = new Profiler(socket, dir);
    await profiler.#call("Profiler.enable");
    await profiler.#call("Profiler.setSamplingInterval", { interval: 100 });
    return profiler;
  }

  #call(
    method: string,
    params: Record<string, unknown> = {},
  ): Promise<Record<string, unknown>> {
    const id = ++this.#next;
    this.#socket.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve) => this.#replies.set(id, resolve));
  }

  async start(label: string): Promise<void> {
    this.#label = label;
    await this.#call("Profiler.start");
  }

  /**
   * Writes the profile and prints where the busy time went: by the
   * innermost frame of ours (server/, protocol/, an npm package) on each
   * sample's stack, which includes what it called in the runtime
   * (JSON.parse, a send); samples with none are the runtime's own (the
   * WebSocket read loop, event dispatch, timers) or the collector's. Samples
   * of the inspector reporting each frame to itself (Deno does while one is
   * attached) and idle ones are left out: they are not there unprofiled.
   */
  async stop(): Promise<void> {
    const { profile } = await this.#call("Profiler.stop") as {
      profile: CpuProfile;
    };
    await Deno.writeTextFile(
      `${this.#dir}/${this.#label}.cpuprofile`,
      JSON.stringify(profile),
    );
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes) {
      for (const child of node.children ?? []) parent.set(child, node.id);
    }
    const ours = /\/(server|protocol|node_modules)\//;
    const byFile = new Map<string, number>();
    const byFunction = new Map<string, number>();
    const add = (map: Map<string, number>, key: string, us: number) =>
      map.set(key, (map.get(key) ?? 0) + us);
    let busy = 0;
    let inspector = 0;
    profile.samples.forEach((id, i) => {
      const us = profile.timeDeltas[i];
      const frames: CpuProfile["nodes"][number]["callFrame"][] = [];
      for (let at: number | undefined = id; at !== undefined;) {
        frames.push(byId.get(at)!.callFrame);
        at = parent.get(at);
      }
      const leaf = frames[0].functionName;
      if (leaf === "(idle)") return;
      if (
        leaf === "op_inspector_emit_protocol_event" ||
        frames.some((f) => f.url.endsWith("inspector_network_bridge.js"))
      ) {
        inspector += us;
        return;
      }
      busy += us;
      const mine = frames.find((f) => ours.test(f.url));
      const file = mine
        ? mine.url.replace(/^.*\/(server|protocol|node_modules)\//, "$1/")
          .replace(/^node_modules\/.*node_modules\//, "npm:")
        : leaf.startsWith("(")
        ? leaf
        : "(runtime)";
      add(byFile, file, us);
      add(
        byFunction,
        `${leaf || "(anonymous)"} ${frames[0].url.replace(/^.*\//, "")}:${
          frames[0].lineNumber + 1
        }`,
        us,
      );
    });
    const print = (title: string, map: Map<string, number>, count: number) => {
      console.error(`  ${title}`);
      for (
        const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, count)
      ) {
        console.error(
          `  ${(us / 1000).toFixed(1).padStart(7)} ms ${
            (100 * us / busy).toFixed(1).padStart(5)
          }%  ${key}`,
        );
      }
    };
    console.error(
      `\n${this.#label}: ${(busy / 1000).toFixed(0)} ms busy (${
        (inspector / 1000).toFixed(0)
      } ms of the inspector's own left out)`,
    );
    print(
      "by file of ours (with what it called), else the runtime:",
      byFile,
      15,
    );
    print("by function (self):", byFunction, 20);
  }

  close(): void {
    this.#socket.close();
  }
}

interface CpuProfile {
  nodes: {
    id: number;
    children?: number[];
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  samples: number[];
  timeDeltas: number[];
}
