/**
 * A real `redis-server` (Debian's) on a free loopback port, for one test:
 * started, stopped and restarted on the same port (state is not saved, so a
 * restart is an empty Redis), and inspected with its own client. Also a
 * replica of another (`replicaOf`) or a Sentinel watching one
 * ({@link RedisProcess.sentinel}), whose log lines a test can wait for.
 */
import { Redis } from "ioredis";
import { splitLines } from "../../e2e/support/lines.ts";

export class RedisProcess implements AsyncDisposable {
  readonly port: number;
  #child: Deno.ChildProcess | undefined;
  #inspector: Redis | undefined;
  /** Run inside this network namespace (its own loopback). */
  #netns: string | undefined;
  /** Its arguments beyond the port's and persistence's. */
  #extra: string[];
  /** A Sentinel's configuration directory (Sentinel rewrites its file). */
  #dir: string | undefined;
  /** Its own directory, removed with it (a Sentinel's, a replica's). */
  #removeDir: string | undefined;
  /** Every line it logged, and who waits for one. */
  #lines: string[] = [];
  #waiting = new Set<(line: string) => void>();

  private constructor(port: number, netns?: string, extra: string[] = []) {
    this.port = port;
    this.#netns = netns;
    this.#extra = extra;
  }

  static async start(
    options: { netns?: string; replicaOf?: RedisProcess } = {},
  ): Promise<RedisProcess> {
    const { replicaOf } = options;
    const dir = replicaOf && await Deno.makeTempDir({ prefix: "lw-replica-" });
    // Its copy of the primary's data comes through a file in its own
    // directory (never the working directory, where any later redis-server
    // would load it), sent at once rather than after the default 5 s wait
    // for more replicas.
    if (replicaOf) {
      await replicaOf.inspector.config("SET", "repl-diskless-sync-delay", "0");
    }
    const redis = new RedisProcess(
      freePort(),
      options.netns,
      replicaOf
        ? ["--replicaof", "127.0.0.1", String(replicaOf.port), "--dir", dir!]
        : [],
    );
    redis.#removeDir = dir;
    await redis.restart();
    return redis;
  }

  /**
   * A Sentinel watching `primary` under `name` (quorum 1: it alone decides),
   * taking it for down after `downAfterMs` without an answer.
   */
  static async sentinel(
    primary: RedisProcess,
    name: string,
    downAfterMs = 500,
  ): Promise<RedisProcess> {
    const dir = await Deno.makeTempDir({ prefix: "lw-sentinel-" });
    const port = freePort();
    const file = `${dir}/sentinel.conf`;
    await Deno.writeTextFile(
      file,
      [
        `port ${port}`,
        "bind 127.0.0.1",
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${primary.port} 1`,
        `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
        `sentinel failover-timeout ${name} 10000`,
        "",
      ].join("\n"),
    );
    const sentinel = new RedisProcess(port, undefined, [file, "--sentinel"]);
    sentinel.#dir = sentinel.#removeDir = dir;
    await sentinel.restart();
    return sentinel;
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
    const args = this.#dir ? this.#extra : [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      ...this.#extra,
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
    // A Sentinel is ready once it watches its primary.
    const ready = this.#dir ? "+monitor master" : "Ready to accept connections";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error("redis-server exited before it was ready");
      this.#lines.push(value);
      if (value.includes(ready)) break;
    }
    // Keep reading its output so it never blocks on a full pipe.
    (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        this.#lines.push(value);
        for (const waiter of this.#waiting) waiter(value);
      }
    })().catch(() => {});
  }

  /** What it logged so far, for a failing test to print. */
  get lines(): readonly string[] {
    return this.#lines;
  }

  /** Resolves with the first line it logged (or logs) that holds `text`. */
  logged(text: string): Promise<string> {
    const seen = this.#lines.find((line) => line.includes(text));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const waiter = (line: string) => {
        if (!line.includes(text)) return;
        this.#waiting.delete(waiter);
        resolve(line);
      };
      this.#waiting.add(waiter);
    });
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
    if (this.#removeDir) {
      await Deno.remove(this.#removeDir, { recursive: true });
    }
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
