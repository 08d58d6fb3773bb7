/**
 * aiortc (Debian's python3-aiortc 1.4.0), a second WebRTC stack nobody here
 * wrote, in the lab: one small Python script per role (`aiortc/*.py`), run
 * inside a lab host's namespace with Debian's own `/usr/bin/python3` (not a
 * pyenv one, which has no aiortc). A script reports JSON lines on stdout
 * (`aiortc/common.py` lists them: `frame` for each video frame aiortc
 * decoded, `state`, `signal`, `http`, `error`); this keeps them, lets a
 * test wait on them, stops the script cleanly (SIGTERM: its WHIP/WHEP
 * DELETE or `leave-stream`) and kills it on dispose.
 */
import type { Host, TestNetwork } from "./test-network.ts";
import { splitLines } from "./lines.ts";

/** Debian's interpreter: python3-aiortc and python3-websockets live there. */
export const PYTHON = "/usr/bin/python3";

const SCRIPTS = new URL("./aiortc/", import.meta.url).pathname;

/** Whether Debian's python can import `module` (for `labTest`'s `requires`). */
export function canImport(module: string): boolean {
  try {
    return new Deno.Command(PYTHON, {
      args: ["-c", `import ${module}`],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

/** One role, one script in `aiortc/`. */
export type AiortcRole =
  | "seed_viewer"
  | "seed_broadcaster"
  | "whip_publisher"
  | "whep_player";

/** A line of a script's output, with the time it was read. */
export interface AiortcEvent {
  t: number;
  event: "frame" | "audio" | "sent" | "state" | "signal" | "http" | "error";
  /** `frame`, `audio`, `sent`: how many so far. */
  n?: number;
  width?: number;
  height?: number;
  state?: string;
  /** `state` of a broadcaster's connection: the viewer it serves. */
  peer?: string;
  /** `signal`: the message's type. */
  type?: string;
  viewer?: string;
  method?: string;
  status?: number;
  body?: string;
  message?: string;
  location?: string;
  [key: string]: unknown;
}

export class AiortcPeer implements AsyncDisposable {
  readonly role: AiortcRole;
  readonly events: AiortcEvent[] = [];
  /** stderr, line by line (aiortc's warnings, a traceback). */
  readonly stderr: string[] = [];
  #child: Deno.ChildProcess;
  #exit: Promise<Deno.CommandStatus>;
  #exited: Deno.CommandStatus | undefined;
  #waiters = new Set<() => void>();

  private constructor(role: AiortcRole, child: Deno.ChildProcess) {
    this.role = role;
    this.#child = child;
    this.#read(child.stdout, (line) => {
      try {
        this.events.push({ t: Date.now(), ...JSON.parse(line) });
      } catch {
        this.stderr.push(`(stdout) ${line}`);
      }
    });
    this.#read(child.stderr, (line) => this.stderr.push(line));
    this.#exit = child.status.then((status) => {
      this.#exited = status;
      this.#notify();
      return status;
    });
  }

  /** Runs `role`'s script with `args` inside `host`'s namespace. */
  static start(
    network: TestNetwork,
    host: Host,
    role: AiortcRole,
    args: string[],
  ): AiortcPeer {
    const child = network.command(host.ns, PYTHON, [
      `${SCRIPTS}${role}.py`,
      ...args,
    ], {
      env: { PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new AiortcPeer(role, child);
  }

  /** Video frames aiortc decoded so far (the script's latest count). */
  frames(): number {
    return this.events.findLast((e) => e.event === "frame")?.n ?? 0;
  }

  /** Its events of kind `event`. */
  all(event: AiortcEvent["event"]): AiortcEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  /** The status of each of its HTTP requests, as `METHOD status`. */
  http(): string[] {
    return this.all("http").map((e) => `${e.method} ${e.status}`);
  }

  /**
   * Resolves with `check()`'s value once it has one, checked on every line;
   * rejects when the script exits first or after `timeoutMs`, with what it
   * said.
   */
  until<T>(
    what: string,
    check: () => T | undefined,
    timeoutMs = 30_000,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        cleanup();
        reject(
          new Error(`aiortc ${this.role}: ${why} ${what}; ${this.#tail()}`),
        );
      };
      const attempt = () => {
        const value = check();
        if (value !== undefined) {
          cleanup();
          resolve(value);
        } else if (this.#exited) {
          fail(`exited (${this.#exited.code}) before`);
        }
      };
      const timer = setTimeout(() => fail("timed out waiting for"), timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters.delete(attempt);
      };
      this.#waiters.add(attempt);
      attempt();
    });
  }

  /** Resolves once aiortc decoded `count` video frames. */
  untilFrames(count: number, timeoutMs = 30_000): Promise<true> {
    return this.until(
      `${count} decoded frames (${this.frames()} so far)`,
      () => this.frames() >= count || undefined,
      timeoutMs,
    );
  }

  /** Resolves with the first event that passes `test`. */
  untilEvent(
    what: string,
    test: (event: AiortcEvent) => boolean,
    timeoutMs = 30_000,
  ): Promise<AiortcEvent> {
    return this.until(what, () => this.events.find(test), timeoutMs);
  }

  /**
   * SIGTERM: the script ends cleanly (DELETE, `leave-stream`) and exits;
   * resolves with its exit status.
   */
  async stop(): Promise<Deno.CommandStatus> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // Exited already.
    }
    return await this.#exit;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Exited already.
    }
    await this.#exit;
  }

  /** What it said last: for a failure's message. */
  #tail(): string {
    const events = this.events.filter((e) =>
      e.event !== "frame" && e.event !== "audio" && e.event !== "sent"
    ).slice(-15);
    return `frames ${this.frames()}; events: ${JSON.stringify(events)}; ` +
      `stderr: ${this.stderr.slice(-15).join(" | ")}`;
  }

  #read(
    stream: ReadableStream<Uint8Array<ArrayBuffer>>,
    keep: (line: string) => void,
  ): void {
    (async () => {
      const lines = stream.pipeThrough(new TextDecoderStream()).pipeThrough(
        splitLines(),
      );
      for await (const line of lines) {
        keep(line);
        this.#notify();
      }
    })().catch(() => {});
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
