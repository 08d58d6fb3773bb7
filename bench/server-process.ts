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
}

/** `entry` is our server by default; the bench's bare relay for baselines. */
export async function startServerProcess(
  env: Record<string, string> = {},
  entry = MAIN,
): Promise<ServerProcess> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", entry],
    env: {
      PORT: String(port),
      HOSTNAME: "127.0.0.1",
      LOG_LEVEL: "warn",
      ...env,
    },
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitForHealth(port);
  const clockTicks = 100; // USER_HZ on Linux
  return {
    port,
    pid: child.pid,
    async rss() {
      const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
    },
    async cpuSeconds() {
      const stat = await Deno.readTextFile(`/proc/${child.pid}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return (Number(fields[11]) + Number(fields[12])) / clockTicks;
    },
    async metric(name) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`))
        .text();
      const line = text.split("\n").find((l) => l.startsWith(`${name} `));
      return Number(line?.split(" ")[1] ?? NaN);
    },
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function waitForHealth(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error("server did not start");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
