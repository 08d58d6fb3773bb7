/**
 * Debian's `simple-whip-client` (binary `whip-client`, GStreamer), a WHIP
 * implementation nobody here wrote, publishing a live test pattern. As
 * installed it aborts at start (it links libsoup2 while libnice pulls
 * libsoup3 in through libgupnp-igd): a stand-in libgupnp-igd with the four
 * functions libnice uses (built here with gcc) lets libnice run without
 * UPnP. See ../shared/design/real-parts.md.
 */
const STUB = `
void *gupnp_simple_igd_thread_new(void) { return 0; }
unsigned long gupnp_simple_igd_get_type(void) { return 0; }
void gupnp_simple_igd_add_port(void) {}
void gupnp_simple_igd_remove_port_local(void) {}
`;

let stubDir: Promise<string> | undefined;

/** A directory holding the stand-in library, built once per process. */
function stub(): Promise<string> {
  stubDir ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "whip-client-stub-" });
    await Deno.writeTextFile(`${dir}/stub.c`, STUB);
    const { success, stderr } = await new Deno.Command("gcc", {
      args: [
        "-shared",
        "-fPIC",
        "-Wl,-soname,libgupnp-igd-1.0.so.4",
        "-o",
        `${dir}/libgupnp-igd-1.0.so.4`,
        `${dir}/stub.c`,
      ],
      stderr: "piped",
    }).output();
    if (!success) throw new Error(new TextDecoder().decode(stderr));
    return dir;
  })();
  return stubDir;
}

/** The pipeline that published in real-parts.md: VP8 test pattern. */
const VIDEO = "videotestsrc is-live=true pattern=ball ! videoconvert ! " +
  "queue ! vp8enc deadline=1 ! rtpvp8pay pt=96 ssrc=2 ! queue ! " +
  "application/x-rtp,media=video,encoding-name=VP8,payload=96";

/**
 * H.264 as OBS sends it by default (constrained baseline, no B-frames,
 * packetization mode 1), at the payload type Janus numbers H.264 (107).
 */
const H264 = "videotestsrc is-live=true pattern=ball ! videoconvert ! " +
  "video/x-raw,format=I420 ! queue ! x264enc tune=zerolatency " +
  "speed-preset=ultrafast key-int-max=30 bitrate=800 ! " +
  "video/x-h264,profile=constrained-baseline ! " +
  "rtph264pay pt=107 ssrc=2 config-interval=-1 aggregate-mode=zero-latency ! " +
  "queue ! application/x-rtp,media=video,encoding-name=H264,payload=107";

export interface WhipClientOptions {
  url: string;
  /** Its video codec (VP8 unless said). */
  codec?: "vp8" | "h264";
  token?: string;
  /** Runs it inside this network namespace. */
  netns?: string;
}

/** A running `whip-client`; its output lines are kept (it exits 0 on errors). */
export class WhipClient implements AsyncDisposable {
  readonly log: string[] = [];
  #child: Deno.ChildProcess;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    for (const stream of [child.stdout, child.stderr]) {
      (async () => {
        const lines = stream.pipeThrough(new TextDecoderStream());
        for await (const chunk of lines) this.log.push(...chunk.split("\n"));
      })().catch(() => {});
    }
  }

  static async start(options: WhipClientOptions): Promise<WhipClient> {
    const dir = await stub();
    const args = [
      "-u",
      options.url,
      "-V",
      options.codec === "h264" ? H264 : VIDEO,
      ...(options.token ? ["-t", options.token] : []),
    ];
    const command = options.netns
      ? ["ip", "netns", "exec", options.netns, "whip-client", ...args]
      : ["whip-client", ...args];
    const child = new Deno.Command(command[0], {
      args: command.slice(1),
      env: { LD_LIBRARY_PATH: dir },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new WhipClient(child);
  }

  /** Stops it with SIGINT: it sends the WHIP DELETE first. */
  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGINT");
    } catch {
      // Exited already.
    }
    await this.#child.status;
  }

  /** Kills it (SIGKILL): gone without a DELETE, as a crashed encoder. */
  async kill(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Exited already.
    }
    await this.#child.status;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.kill();
  }
}
