/**
 * One process of the stack: started with its output kept in a log file of
 * the stack's folder (and the last lines in memory, for an error to show),
 * waited for by a line it prints, stopped by a signal and, past a grace,
 * SIGKILL.
 */

/** Lines kept in memory per process, for an error message. */
const TAIL = 30;

export interface ChildOptions {
  /** What the stack calls it in messages ("redis", "janus-1", "node-2"…). */
  name: string;
  command: string;
  args: string[];
  /** Its output goes here, stdout and stderr interleaved by line. */
  logFile: string;
  env?: Record<string, string>;
  cwd?: string;
  /** Each line as it comes (the stack echoes the nodes' logs). */
  onLine?: (line: string) => void;
}

interface Waiter {
  match: (line: string) => boolean;
  resolve: (line: string) => void;
  reject: (error: Error) => void;
}

export class Child {
  readonly name: string;
  readonly pid: number;
  /** Its status once it has exited, whoever stopped it. */
  readonly exited: Promise<Deno.CommandStatus>;
  #tail: string[] = [];
  #seen: string[] = [];
  #waiters: Waiter[] = [];
  #child: Deno.ChildProcess;
  #stopping = false;

  constructor(options: ChildOptions) {
    this.name = options.name;
    const log = Deno.openSync(options.logFile, {
      create: true,
      append: true,
    });
    // Its own session: a Ctrl-C in the terminal reaches the stack only,
    // which then stops each process in order.
    try {
      this.#child = new Deno.Command(options.command, {
        args: options.args,
        env: options.env,
        cwd: options.cwd,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        detached: true,
      }).spawn();
    } catch (error) {
      log.close();
      throw new Error(
        `${this.name}: cannot run ${options.command} (${
          (error as Error).message
        }); is it installed?`,
      );
    }
    this.pid = this.#child.pid;
    const encoder = new TextEncoder();
    const take = (line: string) => {
      log.writeSync(encoder.encode(`${line}\n`));
      this.#line(line);
      options.onLine?.(line);
    };
    const read = async (stream: ReadableStream<Uint8Array<ArrayBuffer>>) => {
      let rest = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop()!;
        for (const line of parts) take(line);
      }
      if (rest) take(rest);
    };
    const drained = Promise.all([
      read(this.#child.stdout),
      read(this.#child.stderr),
    ]).catch(() => {});
    this.exited = this.#child.status.then(async (status) => {
      await drained;
      log.close();
      const error = new Error(
        `${this.name} exited (${describe(status)}) before it was ready${
          this.#tail.length ? `; its last lines:\n${this.tail()}` : ""
        }`,
      );
      for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
      return status;
    });
  }

  /** Whether it was asked to stop (an exit then is no failure). */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** Its last lines, indented, for an error message. */
  tail(): string {
    return this.#tail.map((line) => `    ${line}`).join("\n");
  }

  /**
   * The first line, printed so far or from now on, that `match` takes.
   * Rejects when the process exits first, after `timeoutMs`, or on `signal`.
   */
  waitFor(
    what: string,
    match: (line: string) => boolean,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<string> {
    const seen = this.#seen.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    const { promise, resolve, reject } = Promise.withResolvers<string>();
    const waiter: Waiter = { match, resolve, reject };
    this.#waiters.push(waiter);
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `${this.name}: no ${what} within ${timeoutMs / 1000} s${
              this.#tail.length ? `; its last lines:\n${this.tail()}` : ""
            }`,
          ),
        ),
      timeoutMs,
    );
    const abort = () => reject(new Error("interrupted"));
    signal?.addEventListener("abort", abort, { once: true });
    if (signal?.aborted) abort();
    return promise.finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", abort);
      this.#waiters = this.#waiters.filter((other) => other !== waiter);
    });
  }

  /** Stops it with `signal`, then SIGKILL after `graceMs`; resolves once gone. */
  async stop(signal: Deno.Signal = "SIGTERM", graceMs = 6_000): Promise<void> {
    this.#stopping = true;
    const send = (which: Deno.Signal) => {
      try {
        this.#child.kill(which);
      } catch {
        // Exited already.
      }
    };
    send(signal);
    const timer = setTimeout(() => send("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  #line(line: string): void {
    this.#tail.push(line);
    if (this.#tail.length > TAIL) this.#tail.shift();
    // The first lines are kept for a wait that starts after them (a node's
    // sfu-up may come before the check asks); later chatter is not.
    if (this.#seen.length < 2_000) this.#seen.push(line);
    for (const waiter of [...this.#waiters]) {
      if (waiter.match(line)) waiter.resolve(line);
    }
  }
}

function describe(status: Deno.CommandStatus): string {
  return status.signal ? `signal ${status.signal}` : `code ${status.code}`;
}
