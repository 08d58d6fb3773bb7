/**
 * A real coturn (Debian's `turnserver`) for one test, with `use-auth-secret`
 * (the credentials the signaling server hands out): its own config folder,
 * listening on one address only, inside a namespace or on loopback, killed
 * and its folder removed on dispose.
 *
 * Listeners: TURN over UDP and over TCP on `port` (`turn:…?transport=udp`,
 * `turn:…?transport=tcp`) and, with `tls`, TURN over TLS on `tls.port`
 * (`turns:…?transport=tcp`). The relayed media itself is always UDP from
 * coturn's relay address (browsers ask for UDP relays, RFC 5766), so
 * coturn must be allowed to relay to the peers: another relay of its own
 * (peer to peer) or Janus's host candidates (through the SFU).
 */
import { splitLines } from "./lines.ts";

export type TurnTransport = "udp" | "tcp" | "tls";

export interface CoturnOptions {
  /** coturn's `static-auth-secret` (the server's TURN_SECRET). */
  secret: string;
  /** The address it listens on and relays from; 127.0.0.1 if unset. */
  address?: string;
  /** Run inside this network namespace. */
  netns?: string;
  /** The plain listeners' port (UDP and TCP). */
  port: number;
  /** Which plain listeners to open; both if unset. */
  udp?: boolean;
  tcp?: boolean;
  /**
   * A TLS listener: its port, the certificate chain and key (PEM), and the
   * name its certificate is for (`turns:` URLs use it; by address if unset).
   */
  tls?: { port: number; cert: string; key: string; host?: string };
  /**
   * Peer addresses (ranges `a-b`) it must not relay to, as a deployment
   * lists the private ranges (`denied-peer-ip`). coturn 4.6 refuses only
   * loopback (and, told so, multicast) by itself.
   */
  deniedPeers?: string[];
  /** Peer addresses it may relay to all the same: `allowed-peer-ip` wins. */
  allowedPeers?: string[];
  /** Loopback peers allowed (127.0.0.1 in the root namespace). */
  allowLoopbackPeers?: boolean;
  /** Its relay ports; 49160-49260 if unset. */
  relayPorts?: [number, number];
}

export class CoturnProcess implements AsyncDisposable {
  readonly address: string;
  readonly port: number;
  readonly tlsPort: number | undefined;
  readonly tlsHost: string | undefined;
  /** Every line it printed so far. */
  readonly log: string[] = [];
  #child: Deno.ChildProcess;
  #dir: string;
  #tail = "";

  private constructor(
    options: CoturnOptions,
    child: Deno.ChildProcess,
    dir: string,
  ) {
    this.address = options.address ?? "127.0.0.1";
    this.port = options.port;
    this.tlsPort = options.tls?.port;
    this.tlsHost = options.tls?.host;
    this.#child = child;
    this.#dir = dir;
  }

  /** Starts turnserver; resolves once every listener asked for is open. */
  static async start(options: CoturnOptions): Promise<CoturnProcess> {
    const address = options.address ?? "127.0.0.1";
    const { udp = true, tcp = true, tls } = options;
    const [minPort, maxPort] = options.relayPorts ?? [49160, 49260];
    const dir = await Deno.makeTempDir({ prefix: "coturn-" });
    const lines = [
      `listening-ip=${address}`,
      `relay-ip=${address}`,
      `listening-port=${options.port}`,
      `min-port=${minPort}`,
      `max-port=${maxPort}`,
      "use-auth-secret",
      `static-auth-secret=${options.secret}`,
      "realm=live-widgets.test",
      // DTLS (TURN over DTLS) is not a transport browsers speak.
      "no-dtls",
      ...(udp ? [] : ["no-udp"]),
      ...(tcp || tls ? [] : ["no-tcp"]),
      // Browsers ask for UDP relays only (RFC 6062's TCP relays: never).
      "no-tcp-relay",
      "no-cli",
      "no-multicast-peers",
      ...(options.allowLoopbackPeers ? ["allow-loopback-peers"] : []),
      ...(options.deniedPeers ?? []).map((ip) => `denied-peer-ip=${ip}`),
      ...(options.allowedPeers ?? []).map((ip) => `allowed-peer-ip=${ip}`),
      "fingerprint",
      `userdb=${dir}/turndb`,
      `pidfile=${dir}/turnserver.pid`,
      "log-file=stdout",
      "simple-log",
      // Without it coturn does not say when its listeners are open.
      "verbose",
    ];
    if (tls) {
      await Deno.writeTextFile(`${dir}/cert.pem`, tls.cert);
      await Deno.writeTextFile(`${dir}/key.pem`, tls.key);
      lines.push(
        `tls-listening-port=${tls.port}`,
        `cert=${dir}/cert.pem`,
        `pkey=${dir}/key.pem`,
      );
    } else lines.push("no-tls");
    await Deno.writeTextFile(`${dir}/turnserver.conf`, lines.join("\n"));
    const args = ["-c", `${dir}/turnserver.conf`];
    let child: Deno.ChildProcess;
    try {
      child = (options.netns
        ? new Deno.Command("ip", {
          args: ["netns", "exec", options.netns, "turnserver", ...args],
          stdout: "piped",
          stderr: "null",
        })
        : new Deno.Command("turnserver", {
          args,
          stdout: "piped",
          stderr: "null",
        })).spawn();
    } catch (error) {
      await Deno.remove(dir, { recursive: true });
      throw new Error(`coturn is needed: apt-get install coturn (${error})`);
    }
    const coturn = new CoturnProcess(options, child, dir);
    // What it prints once each listener is open (a TCP listener says
    // "TLS/TCP" when TLS is on: either port takes either).
    const at = (port: number) => `${address.replaceAll(".", "\\.")}:${port}\\b`;
    const expected = [
      ...(udp
        ? [new RegExp(`UDP listener opened on\\s*:\\s*${at(options.port)}`)]
        : []),
      ...(tcp
        ? [new RegExp(`TCP listener opened on\\s*:\\s*${at(options.port)}`)]
        : []),
      ...(tls
        ? [new RegExp(`TCP listener opened on\\s*:\\s*${at(tls.port)}`)]
        : []),
    ];
    try {
      await coturn.#untilListening(expected);
    } catch (error) {
      await coturn[Symbol.asyncDispose]();
      throw error;
    }
    return coturn;
  }

  /**
   * `turn:`/`turns:` URL of one transport, as TURN_URLS takes it; `turns:`
   * by the certificate's name unless `byAddress`.
   */
  url(transport: TurnTransport, byAddress = false): string {
    if (transport === "tls") {
      if (!this.tlsPort) throw new Error("coturn was started without TLS");
      const host = byAddress ? this.address : this.tlsHost ?? this.address;
      return `turns:${host}:${this.tlsPort}?transport=tcp`;
    }
    return `turn:${this.address}:${this.port}?transport=${transport}`;
  }

  /** The last 8,000 characters it printed, for failure reports. */
  recentLog(): string {
    return this.#tail;
  }

  async #untilListening(expected: RegExp[]): Promise<void> {
    const lines = this.#child.stdout.pipeThrough(new TextDecoderStream())
      .pipeThrough(splitLines()).getReader();
    const keep = (line: string) => {
      this.log.push(line);
      this.#tail = (this.#tail + line + "\n").slice(-8000);
    };
    const deadline = setTimeout(() => {
      try {
        this.#child.kill();
      } catch {
        // Exited already.
      }
    }, 15_000);
    const waiting = [...expected];
    try {
      while (waiting.length > 0) {
        const { value, done } = await lines.read();
        if (done) {
          throw new Error(
            `turnserver stopped before listening:\n${this.#tail}`,
          );
        }
        keep(value);
        const index = waiting.findIndex((pattern) => pattern.test(value));
        if (index >= 0) waiting.splice(index, 1);
      }
    } finally {
      clearTimeout(deadline);
    }
    // Keep reading so its output never fills the pipe.
    (async () => {
      for (;;) {
        const { value, done } = await lines.read();
        if (done) return;
        keep(value);
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
