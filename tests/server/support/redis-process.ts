/**
 * A real `redis-server` (Debian's) on a free loopback port, for one test:
 * started, stopped and restarted on the same port (state is not saved, so a
 * restart is an empty Redis), and inspected with its own client.
 */
import { Redis } from "ioredis";
import { splitLines } from "../../e2e/support/lines.ts";

export class RedisProcess implements AsyncDisposable {
  readonly port: number;
  #child: Deno.ChildProcess | undefined;
  #inspector: Redis | undefined;
  /** Run inside this network namespace (its own loopback). */
  #netns: string | undefined;

  private constructor(port: number, netns?: string) {
    this.port = port;
    this.#netns = netns;
  }

  static async start(options: { netns?: string } = {}): Promise<RedisProcess> {
    const redis = new RedisProcess(freePort(), options.netns);
    await redis.restart();
    return redis;
  }

  /** The running redis-server's process id. */
  get pid(): number {
    return this.#child!.pid;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** A client for looking at what the nodes stored. */
  get inspector(): Redis {
    if (!this.#inspector) {
      this.#inspector = new Redis(this.url);
      this.#inspector.on("error", () => {});
    }
    return this.#inspector;
  }

  /** Every key, sorted (a test's view of what Redis holds). */
  async keys(prefix = "lw:"): Promise<string[]> {
    if (!this.#netns) return (await this.inspector.keys(`${prefix}*`)).sort();
    return (await this.cli("--scan", "--pattern", `${prefix}*`)).split("\n")
      .filter(Boolean).sort();
  }

  /** A hash's fields and values (`HGETALL`). */
  async hgetall(key: string): Promise<Record<string, string>> {
    if (!this.#netns) return await this.inspector.hgetall(key);
    const lines = (await this.cli("HGETALL", key)).split("\n")
      .filter(Boolean);
    const hash: Record<string, string> = {};
    for (let i = 0; i + 1 < lines.length; i += 2) hash[lines[i]] = lines[i + 1];
    return hash;
  }

  /** redis-cli inside its namespace (its loopback is the namespace's). */
  async cli(...args: string[]): Promise<string> {
    const { stdout } = await new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        this.#netns!,
        "redis-cli",
        "-p",
        String(this.port),
        ...args,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    return new TextDecoder().decode(stdout);
  }

  /** Starts (again) on the same port; resolves once it accepts connections. */
  async restart(): Promise<void> {
    const args = [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
    ];
    const child = new Deno.Command(this.#netns ? "ip" : "redis-server", {
      args: this.#netns
        ? ["netns", "exec", this.#netns, "redis-server", ...args]
        : args,
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#child = child;
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .pipeThrough(splitLines()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error("redis-server exited before it was ready");
      if (value.includes("Ready to accept connections")) break;
    }
    // Keep draining its output so it never blocks on a full pipe.
    (async () => {
      while (!(await reader.read()).done);
    })().catch(() => {});
  }

  /** Freezes it (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void {
    this.#child?.kill("SIGSTOP");
  }

  /** Thaws it (SIGCONT). */
  resume(): void {
    this.#child?.kill("SIGCONT");
  }

  /** Stops it the hard way (SIGKILL): connections drop without a word. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child) return;
    child.kill("SIGKILL");
    await child.status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#inspector?.disconnect();
    await this.kill();
  }
}

/** Ports handed out by this process (see freePort). */
const handedOut = new Set<number>();

/**
 * A loopback port nobody listens on right now, and never one handed out
 * before by this process: a port is bound only later by whoever asked (often
 * in another namespace), and the kernel may pick the same free port twice.
 */
export function freePort(): number {
  for (;;) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = listener.addr as Deno.NetAddr;
    listener.close();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}
