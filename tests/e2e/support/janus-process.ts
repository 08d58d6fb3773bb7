/**
 * A real Janus (Debian's 1.1.2) for one test: its own config folder with
 * only the VideoRoom plugin and the WebSocket transport (API and admin API)
 * on free loopback ports, started and killed by the test.
 *
 * On loopback in the root namespace its API works but it gathers no ICE
 * candidates (../shared/design/real-parts.md): tests that send media run it
 * inside a namespace (`netns`) with `iceInterface` set.
 */
import { freePort } from "../../server/support/redis-process.ts";
import { splitLines } from "./lines.ts";

const LIB = "/usr/lib/x86_64-linux-gnu/janus";
export const ADMIN_SECRET = "janus-test-admin-secret";
const COULD_NOT_LISTEN = "janus could not listen on its ports";

export interface JanusOptions {
  /** Seconds of silence before Janus drops a session (its default: 60). */
  sessionTimeout?: number;
  /** Run inside this network namespace. */
  netns?: string;
  /** The only interface Janus gathers ICE candidates on. */
  iceInterface?: string;
  /**
   * The API (not the admin API) on every address of its namespace, for a
   * page in another namespace to speak Janus's API itself.
   */
  apiOnAllAddresses?: boolean;
  /** Its RTP ports (several instances in one namespace need their own). */
  rtpPortRange?: string;
  /**
   * Seconds a session outlives its link, for another node to `claim` it
   * (its default: 0, the session dies with the link).
   */
  reclaimSessionTimeout?: number;
  /**
   * Lost packets per second that make Janus report a viewer's link
   * (`slowlink`): 4 unless set; 0, Janus's own default, reports none.
   */
  slowlinkThreshold?: number;
}

export class JanusProcess implements AsyncDisposable {
  readonly port: number;
  readonly adminPort: number;
  #dir: string;
  #child: Deno.ChildProcess | undefined;
  #options: JanusOptions;
  /** Janus's log lines so far (for a failing test to show). */
  readonly log: string[] = [];

  private constructor(dir: string, options: JanusOptions) {
    this.#dir = dir;
    this.#options = options;
    this.port = freePort();
    this.adminPort = freePort();
  }

  static async start(options: JanusOptions = {}): Promise<JanusProcess> {
    // Another process may take a free port before Janus binds it: then
    // fresh ports, a few times.
    for (let attempt = 1;; attempt++) {
      const janus = new JanusProcess(
        await Deno.makeTempDir({ prefix: "janus-" }),
        options,
      );
      await janus.#writeConfig();
      try {
        await janus.restart();
        return janus;
      } catch (error) {
        await janus[Symbol.asyncDispose]();
        if (attempt === 3 || !String(error).includes(COULD_NOT_LISTEN)) {
          throw error;
        }
      }
    }
  }

  /** The WebSocket API's URL (from inside its namespace, when it has one). */
  get url(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  /** Janus's process id while it runs (for its CPU time). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get adminUrl(): string {
    return `ws://127.0.0.1:${this.adminPort}/`;
  }

  /** Starts (again) on the same ports; resolves once the API listens. */
  async restart(): Promise<void> {
    const janus = ["janus", "-F", this.#dir, "-C", `${this.#dir}/janus.jcfg`];
    const command = this.#options.netns
      ? ["ip", "netns", "exec", this.#options.netns, ...janus]
      : janus;
    const child = new Deno.Command(command[0], {
      args: command.slice(1),
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    const lines = child.stdout.pipeThrough(new TextDecoderStream())
      .pipeThrough(splitLines()).getReader();
    child.stderr.cancel().catch(() => {});
    for (;;) {
      const { value, done } = await lines.read();
      if (done) {
        throw new Error(`janus exited at start:\n${this.log.join("\n")}`);
      }
      this.log.push(value);
      // A port taken by someone else: Janus logs it and runs on without
      // that listener, where a client would see only a closed connection.
      if (value.includes("Error creating vhost")) {
        await this.kill();
        throw new Error(`${COULD_NOT_LISTEN}:\n${this.log.join("\n")}`);
      }
      // Its listeners accept connections once its service thread runs.
      if (value.includes("WebSockets thread started")) {
        break;
      }
    }
    (async () => {
      for (;;) {
        const { value, done } = await lines.read();
        if (done) return;
        this.log.push(value);
      }
    })().catch(() => {});
  }

  /** Kills it with SIGKILL (a crash, as far as its clients can tell). */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child) return;
    try {
      child.kill("SIGKILL");
    } catch {
      // Exited already.
    }
    await child.status;
  }

  /** Sessions Janus holds now, from its admin API. */
  async sessions(): Promise<number[]> {
    const reply = await this.admin({ janus: "list_sessions" });
    return (reply.sessions as number[]) ?? [];
  }

  /** Handles in `session`, from its admin API. */
  async handles(session: number): Promise<number[]> {
    const reply = await this.admin({
      janus: "list_handles",
      session_id: session,
    });
    return (reply.handles as number[]) ?? [];
  }

  /**
   * Every handle Janus holds now, over all its sessions (the server's own,
   * with its control handle, and one per stream).
   */
  async allHandles(): Promise<number[]> {
    const handles: number[] = [];
    for (const session of await this.sessions()) {
      handles.push(...await this.handles(session));
    }
    return handles;
  }

  /** VideoRoom rooms Janus holds now (asked through the admin API). */
  async rooms(): Promise<number[]> {
    const reply = await this.admin({
      janus: "message_plugin",
      plugin: "janus.plugin.videoroom",
      request: { request: "list" },
    });
    const data = reply.response as { list?: { room: number }[] } | undefined;
    return (data?.list ?? []).map((room) => room.room);
  }

  /**
   * One admin request. Inside a namespace the request is made from inside
   * it (a child process there), since its loopback is its own.
   */
  async admin(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (!this.#options.netns) return await adminRequest(this.adminUrl, body);
    const { stdout, success } = await new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        this.#options.netns,
        Deno.execPath(),
        "run",
        "-A",
        new URL(import.meta.url).pathname,
        this.adminUrl,
        JSON.stringify(body),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!success) {
      throw new Error(
        `the Janus admin request to ${this.adminUrl} failed; its log ends:\n${
          this.log.slice(-20).join("\n")
        }`,
      );
    }
    return JSON.parse(new TextDecoder().decode(stdout));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }

  async #writeConfig(): Promise<void> {
    const { sessionTimeout = 60, iceInterface, reclaimSessionTimeout = 0 } =
      this.#options;
    const disabled = (kind: string, keep: string[]) =>
      [...Deno.readDirSync(`${LIB}/${kind}`)]
        .map((entry) => entry.name)
        .filter((name) => name.endsWith(".so") && !keep.includes(name))
        .join(",");
    await Deno.writeTextFile(
      `${this.#dir}/janus.jcfg`,
      `general: {
  configs_folder = "${this.#dir}"
  plugins_folder = "${LIB}/plugins"
  transports_folder = "${LIB}/transports"
  events_folder = "${LIB}/events"
  loggers_folder = "${LIB}/loggers"
  debug_level = 4
  session_timeout = ${sessionTimeout}
  reclaim_session_timeout = ${reclaimSessionTimeout}
  admin_secret = "${ADMIN_SECRET}"
}
media: {
  rtp_port_range = "${this.#options.rtpPortRange ?? "20000-20999"}"
  # Lost packets per second that make Janus report a viewer's link (slowlink).
  slowlink_threshold = ${this.#options.slowlinkThreshold ?? 4}
}
nat: {
  # Connectivity checks as keepalives: a peer gone without a goodbye (a WHEP
  # player crashed or off the network) fails ICE and is hung up ~60 s later.
  ice_keepalive_conncheck = true
${iceInterface ? `  ice_enforce_list = "${iceInterface}"` : ""}
}
plugins: {
  disable = "${
        disabled("plugins", ["libjanus_videoroom.so", "libjanus_streaming.so"])
      }"
}
transports: {
  disable = "${disabled("transports", ["libjanus_websockets.so"])}"
}
events: {
  broadcast = false
  disable = "${disabled("events", [])}"
}
loggers: {
  disable = "${disabled("loggers", [])}"
}
`,
    );
    await Deno.writeTextFile(
      `${this.#dir}/janus.transport.websockets.jcfg`,
      `general: {
  json = "plain"
  ws = true
  ws_port = ${this.port}
${this.#options.apiOnAllAddresses ? "" : '  ws_ip = "127.0.0.1"'}
  wss = false
}
admin: {
  admin_ws = true
  admin_ws_port = ${this.adminPort}
  admin_ws_ip = "127.0.0.1"
  admin_wss = false
}
`,
    );
    for (const plugin of ["videoroom", "streaming"]) {
      await Deno.writeTextFile(
        `${this.#dir}/janus.plugin.${plugin}.jcfg`,
        "general: {\n}\n",
      );
    }
  }
}

/** One request to the admin API (sub-protocol `janus-admin-protocol`). */
async function adminRequest(
  url: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const socket = new WebSocket(url, "janus-admin-protocol");
  try {
    await new Promise((resolve, reject) => {
      socket.addEventListener("open", resolve, { once: true });
      socket.addEventListener("error", reject, { once: true });
    });
    const reply = new Promise<Record<string, unknown>>((resolve) =>
      socket.addEventListener(
        "message",
        (event) => resolve(JSON.parse(event.data as string)),
        { once: true },
      )
    );
    socket.send(
      JSON.stringify({ ...body, transaction: "a", admin_secret: ADMIN_SECRET }),
    );
    return await reply;
  } finally {
    socket.close();
  }
}

// `deno run janus-process.ts <admin url> <json>`: one admin request, the
// reply on stdout (how a test asks a Janus inside a namespace).
if (import.meta.main) {
  const [url, body] = Deno.args;
  console.log(JSON.stringify(await adminRequest(url, JSON.parse(body))));
}
