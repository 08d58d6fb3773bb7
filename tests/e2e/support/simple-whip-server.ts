/**
 * Debian's simple-whip-server (Meetecho's WHIP server, Node, Janus's
 * VideoRoom behind it), nobody here wrote it: run from .ci/run's copy
 * (`/opt/simple-whip-server`: the .deb's files, its npm dependencies beside)
 * with a config of our own, inside the lab's hub namespace next to Janus.
 */
import { splitLines } from "./lines.ts";

export const SIMPLE_WHIP_SERVER_DIR = Deno.env.get("SIMPLE_WHIP_SERVER_DIR") ??
  "/opt/simple-whip-server";

export interface SimpleWhipServerOptions {
  netns: string;
  /** Janus's API as the hub sees it. */
  janusUrl: string;
  /** The hub's address (the endpoint's URL for the pages). */
  address: string;
  port: number;
}

export class SimpleWhipServer implements AsyncDisposable {
  readonly log: string[] = [];
  #child: Deno.ChildProcess;
  #dir: string;
  #options: SimpleWhipServerOptions;

  private constructor(
    child: Deno.ChildProcess,
    dir: string,
    options: SimpleWhipServerOptions,
  ) {
    this.#child = child;
    this.#dir = dir;
    this.#options = options;
  }

  /** Whether .ci/run installed it (a test is ignored without it). */
  static installed(): boolean {
    try {
      Deno.statSync(`${SIMPLE_WHIP_SERVER_DIR}/src/server.js`);
      Deno.statSync(`${SIMPLE_WHIP_SERVER_DIR}/node_modules/express`);
      return true;
    } catch {
      return false;
    }
  }

  static async start(
    options: SimpleWhipServerOptions,
  ): Promise<SimpleWhipServer> {
    const dir = await Deno.makeTempDir({ prefix: "simple-whip-server-" });
    for (const file of ["server.js", "whip-janus.js"]) {
      await Deno.copyFile(
        `${SIMPLE_WHIP_SERVER_DIR}/src/${file}`,
        `${dir}/${file}`,
      );
    }
    await Deno.symlink(
      `${SIMPLE_WHIP_SERVER_DIR}/node_modules`,
      `${dir}/node_modules`,
    );
    await Deno.writeTextFile(
      `${dir}/config.js`,
      `module.exports = ${
        JSON.stringify({
          janus: { address: options.janusUrl },
          port: options.port,
          rest: "/whip",
          allowTrickle: true,
          strictETags: false,
          iceServers: [],
        })
      };`,
    );
    const child = new Deno.Command("ip", {
      args: ["netns", "exec", options.netns, "node", "server.js"],
      cwd: dir,
      env: { DEBUG: "whip:info,whip:warn,whip:error" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const server = new SimpleWhipServer(child, dir, options);
    server.#drain(child.stderr);
    const lines = child.stdout.pipeThrough(new TextDecoderStream())
      .pipeThrough(splitLines()).getReader();
    for (;;) {
      const { value, done } = await lines.read();
      if (done) {
        await server[Symbol.asyncDispose]();
        throw new Error(`simple-whip-server exited:\n${server.log.join("\n")}`);
      }
      server.log.push(value);
      if (value.includes("WHIP server prototype started")) break;
    }
    server.#drain(lines);
    return server;
  }

  /** The URL a WHIP client publishes to for endpoint `id`. */
  endpointUrl(id: string): string {
    return `http://${this.#options.address}:${this.#options.port}/whip/endpoint/${id}`;
  }

  /**
   * Its own (non-standard) call that maps endpoint `id` to Janus room
   * `room`, made from inside the hub.
   */
  async createEndpoint(id: string, room: number): Promise<void> {
    const url =
      `http://${this.#options.address}:${this.#options.port}/whip/create`;
    const { success, stderr } = await new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        this.#options.netns,
        Deno.execPath(),
        "eval",
        `const r = await fetch(${
          JSON.stringify(url)
        }, { method: "POST", headers: { "content-type": "application/json" }, body: ${
          JSON.stringify(JSON.stringify({ id, room }))
        } }); if (!r.ok) throw new Error(r.status + " " + await r.text());`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) {
      throw new Error(
        `creating the endpoint failed: ${new TextDecoder().decode(stderr)}`,
      );
    }
  }

  #drain(
    stream:
      | ReadableStream<Uint8Array<ArrayBuffer>>
      | ReadableStreamDefaultReader<string>,
  ): void {
    const reader = stream instanceof ReadableStream
      ? stream.pipeThrough(new TextDecoderStream()).pipeThrough(splitLines())
        .getReader()
      : stream;
    (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        this.log.push(value);
      }
    })().catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Exited already.
    }
    await this.#child.status;
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}
