/**
 * The fault lab: a signaling server, a web site and real browsers, each
 * browser in its own network namespace (see test-network.ts), the browsers
 * reporting what they see (lab-pages.ts). Tests and the recovery benchmark
 * make faults (links down, addresses changed, the server killed) and read
 * the reports: frames, states, peer connections, errors.
 */
import { build } from "../../../scripts/build.ts";
import {
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  FIREFOX_PATH,
  FIREFOX_PREFS,
} from "../../../scripts/browsers.ts";
import { JanusProcess } from "./janus-process.ts";
import { LabBalancer } from "./lab-balancer.ts";
import { RedisProcess } from "../../server/support/redis-process.ts";
import { broadcasterPage, type LabPage, viewerPage } from "./lab-pages.ts";
import {
  type FirewallCounters,
  firewallCounters,
  raiseFirewall,
} from "./firewall.ts";
import { splitLines } from "./lines.ts";
import { CoturnProcess, type TurnTransport } from "./coturn-process.ts";
import {
  type BrowserTrust,
  browserTrust,
  makeTestCa,
  type TestCa,
} from "./test-ca.ts";
import { type Host, TestNetwork } from "./test-network.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const SIGNALING_PORT = 5000;
/** With `nodes`: nginx in front of them. */
const BALANCER_PORT = 4999;
const SITE_PORT_LINE = /"listening":(\d+)/;
/** With `turn`: coturn's ports in the hub (plain, TLS) and its secret. */
export const LAB_TURN_PORT = 3478;
export const LAB_TURNS_PORT = 5349;
export const LAB_TURN_SECRET = "fault-lab-coturn-static-auth-secret";
/**
 * With "tls" in `turn`: the name in `turns:` URLs and coturn's certificate
 * (Firefox makes TLS to a TURN server only by name). Each browser resolves
 * it to the hub by itself: no DNS.
 */
export const LAB_TURN_HOST = "turn.live-widgets.test";
const PRIVATE_RANGES = [
  "10.0.0.0-10.255.255.255",
  "172.16.0.0-172.31.255.255",
  "192.168.0.0-192.168.255.255",
];
/** What every lab server shares: resume claims survive its restarts. */
export const LAB_SECRET = "fault-lab-resume-secret-of-32-bytes-or-more";

export interface LabEvent {
  t: number;
  kind:
    | "pc"
    | "ice"
    | "net"
    | "state"
    | "frame"
    | "error"
    | "peers"
    | "attach"
    | "bytes"
    | "width"
    | "rx"
    | "pair"
    | "decoded"
    | "spy"
    /** The page asked for a key frame over the socket (`join-stream` `keyFrame`). */
    | "keyframe";
  state?: string;
  code?: string;
  /**
   * `bytes`: video bytes the page's connections sent so far; `width`: the
   * decoded picture's; `decoded`: frames its decoder produced so far.
   */
  value?: number;
  /** In a page with several viewers: which one (`crowdPage`). */
  who?: string;
}

export type BrowserName = "chromium" | "firefox";

export interface LabOptions {
  /** Browser per host: host 0 broadcasts, the others watch. */
  browsers: BrowserName[];
  /** Extra environment for the signaling server. */
  env?: Record<string, string>;
  /**
   * Runs a Janus in the hub (ICE on the hub's bridge) and gives the
   * signaling server its JANUS_URL.
   */
  janus?: boolean;
  /** With `janus`: how many instances (JANUS_URL lists them all); 1 if unset. */
  janusInstances?: number;
  /** Janus's API also on the hub's address (`janusHubUrl`), for pages. */
  janusApiOnHub?: boolean;
  /** With `janus`: its `slowlink_threshold` (JanusOptions.slowlinkThreshold). */
  janusSlowlink?: number;
  /**
   * Page per host instead of the elements' (host 0 the broadcaster), made
   * when it opens: the lab's URLs (`janusHubUrl`) are known by then.
   */
  pages?: ((page: LabPage, lab: FaultLab) => string)[];
  /** The broadcaster's page reports the video bytes it sent (`bytes`). */
  meter?: boolean;
  /**
   * Several signaling nodes sharing a Redis in the hub, nginx in front of
   * them (`signalingUrl`: node 0 while it is up, then the next).
   */
  nodes?: number;
  /** With `nodes`: the viewers' pages connect to this node directly. */
  viewersOnNode?: number;
  /**
   * A coturn in the hub (coturn-process.ts) on the hub's address, allowed
   * to relay to it (its own relays, Janus): TURN over UDP and TCP on
   * LAB_TURN_PORT, over TLS on LAB_TURNS_PORT. The signaling server hands
   * out credentials (LAB_TURN_SECRET) for these transports' URLs, in this
   * order (TURN_URLS). With "tls", a CA made for the run (`ca`) signs
   * coturn's certificate for LAB_TURN_HOST, and the browsers trust it as
   * `turnTrust` says.
   */
  turn?: TurnTransport[];
  /**
   * With "tls" in `turn`, how every browser trusts coturn's certificate
   * (test-ca.ts): "ca" (the run's CA in its NSS store; needs `certutil`;
   * the default), "certificate" (that certificate alone, nothing
   * installed), or false (not at all).
   */
  turnTrust?: BrowserTrust | false;
  /**
   * Hosts (by index) behind a firewall (firewall.ts): no UDP in or out,
   * TCP only to the hub's site, signaling server (and balancer) and
   * coturn's ports. Raised before any page opens.
   */
  firewalled?: number[];
  /**
   * Where the resume key comes from: "secret" (LAB_SECRET, the default) or
   * "state", the default configuration (no secret: the server keeps its
   * key in a STATE_DIR the lab makes, and may write only there).
   */
  resumeKey?: "secret" | "state";
}

export class FaultLab implements AsyncDisposable {
  readonly network: TestNetwork;
  readonly streamId = `lab-${crypto.randomUUID().slice(0, 8)}`;
  #dir: string;
  #options: LabOptions;
  #site: Deno.ChildProcess | undefined;
  #sitePort = 0;
  /** The signaling server (with `nodes`: each node, by index). */
  #nodes: (Deno.ChildProcess | undefined)[] = [];
  /** With `nodes`: their Redis, and nginx in front of them. */
  redis: RedisProcess | undefined;
  #balancer: LabBalancer | undefined;
  /** With `janus`: the (first) Janus in the hub. */
  janus: JanusProcess | undefined;
  /** With `janus`: every instance, in JANUS_URL's order. */
  januses: JanusProcess[] = [];
  /** With `turn`: coturn in the hub. */
  coturn: CoturnProcess | undefined;
  /** With "tls" in `turn`: the run's CA and coturn's certificate. */
  ca: TestCa | undefined;
  #browsers: Deno.ChildProcess[] = [];
  #profiles: string[] = [];
  readonly #events = new Map<string, LabEvent[]>();
  #waiters = new Set<() => void>();
  /** The resume secret of the next start (`resumeKey` "secret"). */
  #secret = LAB_SECRET;

  private constructor(network: TestNetwork, dir: string, options: LabOptions) {
    this.network = network;
    this.#dir = dir;
    this.#options = options;
  }

  /** The network, the bundles and pages, the site and the signaling server. */
  static async start(options: LabOptions): Promise<FaultLab> {
    const network = await TestNetwork.create(options.browsers.length);
    const dir = await Deno.makeTempDir({ prefix: "fault-lab-" });
    const lab = new FaultLab(network, dir, options);
    try {
      await build(dir);
      await lab.#startSite();
      for (let i = 0; options.janus && i < (options.janusInstances ?? 1); i++) {
        lab.januses.push(
          await JanusProcess.start({
            netns: network.hub.ns,
            iceInterface: "br0",
            apiOnAllAddresses: options.janusApiOnHub,
            slowlinkThreshold: options.janusSlowlink,
            rtpPortRange: `${20000 + i * 1000}-${20999 + i * 1000}`,
            // A node that takes a stream over claims its Janus session.
            ...(options.nodes ? { reclaimSessionTimeout: 60 } : {}),
          }),
        );
      }
      lab.janus = lab.januses[0];
      if (options.turn) await lab.#startCoturn(options.turn);
      if (options.nodes) {
        lab.redis = await RedisProcess.start({ netns: network.hub.ns });
        for (let i = 0; i < options.nodes; i++) await lab.startSignaling(i);
        lab.#balancer = await LabBalancer.start(
          network,
          dir,
          BALANCER_PORT,
          Array.from({ length: options.nodes }, (_, i) => SIGNALING_PORT + i),
        );
      } else await lab.startSignaling();
      await lab.#raiseFirewalls();
    } catch (error) {
      await lab[Symbol.asyncDispose]();
      throw error;
    }
    return lab;
  }

  get signalingUrl(): string {
    return this.#options.nodes
      ? `ws://${this.network.hub.address}:${BALANCER_PORT}/ws`
      : this.nodeUrl(0);
  }

  /** Signaling node `index` itself (not through the balancer). */
  nodeUrl(index: number): string {
    return `ws://${this.network.hub.address}:${SIGNALING_PORT + index}/ws`;
  }

  /** With `janusApiOnHub`: Janus's API as a page in a host reaches it. */
  get janusHubUrl(): string {
    return `ws://${this.network.hub.address}:${this.janus?.port}/`;
  }

  async #startCoturn(transports: TurnTransport[]): Promise<void> {
    const address = this.network.hub.address;
    if (transports.includes("tls")) {
      this.ca = await makeTestCa(LAB_TURN_HOST, address);
    }
    this.coturn = await CoturnProcess.start({
      netns: this.network.hub.ns,
      address,
      secret: LAB_TURN_SECRET,
      port: LAB_TURN_PORT,
      ...(this.ca
        ? {
          tls: {
            port: LAB_TURNS_PORT,
            cert: this.ca.cert,
            key: this.ca.key,
            host: LAB_TURN_HOST,
          },
        }
        : {}),
      // As docs/deploy.md says: no private peers, but the hub's address
      // (its own relays, peer to peer; Janus's host candidates).
      deniedPeers: PRIVATE_RANGES,
      allowedPeers: [address],
    });
    this.#options = {
      ...this.#options,
      env: {
        TURN_URLS: transports.map((t) => this.coturn!.url(t)).join(","),
        TURN_SECRET: LAB_TURN_SECRET,
        ...this.#options.env,
      },
    };
  }

  async #raiseFirewalls(): Promise<void> {
    const { firewalled = [], nodes } = this.#options;
    const tcpPorts = [
      this.#sitePort,
      ...Array.from({ length: nodes ?? 1 }, (_, i) => SIGNALING_PORT + i),
      ...(nodes ? [BALANCER_PORT] : []),
      ...(this.coturn ? [LAB_TURN_PORT] : []),
      ...(this.coturn?.tlsPort ? [this.coturn.tlsPort] : []),
    ];
    for (const index of firewalled) {
      await raiseFirewall(this.host(index).ns, {
        address: this.network.hub.address,
        tcpPorts,
      });
    }
  }

  /** With `firewalled`: what host `index`'s firewall counted so far. */
  firewallCounters(index: number): Promise<FirewallCounters> {
    return firewallCounters(this.host(index).ns);
  }

  /** Host `index`'s page name: `b` for the broadcaster, `v1`, `v2`… */
  name(index: number): string {
    return index === 0 ? "b" : `v${index}`;
  }

  host(index: number): Host {
    return this.network.hosts[index];
  }

  get viewerCount(): number {
    return this.#options.browsers.length - 1;
  }

  viewerNames(): string[] {
    return Array.from({ length: this.viewerCount }, (_, i) => this.name(i + 1));
  }

  /** Opens every host's page in its browser: the broadcaster first. */
  async openPages(): Promise<void> {
    for (const index of this.#options.browsers.keys()) {
      await this.openPage(index);
    }
  }

  /** Opens host `index`'s page in its browser. */
  async openPage(index: number): Promise<void> {
    const browser = this.#options.browsers[index];
    {
      const name = this.name(index);
      const { viewersOnNode } = this.#options;
      const page = {
        name,
        signalingUrl: index > 0 && viewersOnNode !== undefined
          ? this.nodeUrl(viewersOnNode)
          : this.signalingUrl,
        streamId: this.streamId,
      };
      const file = `${name}.html`;
      const custom = this.#options.pages?.[index];
      await Deno.writeTextFile(
        `${this.#dir}/${file}`,
        custom
          ? custom(page, this)
          : index === 0
          ? broadcasterPage(page)
          : viewerPage(page),
      );
      const url =
        `http://${this.network.hub.address}:${this.#sitePort}/${file}?name=${name}${
          index === 0 && this.#options.meter ? "&meter" : ""
        }`;
      await this.#launch(this.network.hosts[index], browser, url);
    }
  }

  /** With `resumeKey` "state": the server's STATE_DIR. */
  get stateDir(): string {
    return `${this.#dir}/state`;
  }

  /**
   * The next start signs claims with another key, so it refuses every claim
   * issued so far: the state file deleted, or another secret.
   */
  async rotateResumeKey(): Promise<void> {
    if (this.#options.resumeKey === "state") {
      await Deno.remove(`${this.stateDir}/resume-key`);
    } else this.#secret = `${LAB_SECRET}-${crypto.randomUUID()}`;
  }

  /** `deno task start` in the hub (node `index`); resolves once it listens. */
  async startSignaling(index = 0): Promise<void> {
    const state = this.#options.resumeKey === "state";
    const child = this.network.command(this.network.hub.ns, Deno.execPath(), [
      "run",
      // As `deno task start` (request.signal as Deno's next default).
      "--unstable-no-legacy-abort",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      // As `deno task start`, whose default STATE_DIR is the one it may write.
      ...(state ? [`--allow-write=${this.stateDir}`] : []),
      `${ROOT}server/main.ts`,
    ], {
      env: {
        PORT: String(SIGNALING_PORT + index),
        // Nodes: on the hub's loopback too, where nginx reaches them.
        HOSTNAME: this.#options.nodes ? "0.0.0.0" : this.network.hub.address,
        ...(this.redis ? { REDIS_URL: this.redis.url } : {}),
        LOG_LEVEL: "info",
        ...(state
          ? { STATE_DIR: this.stateDir }
          : { RESUME_SECRET: this.#secret }),
        ...(this.januses.length > 0
          ? { JANUS_URL: this.januses.map(({ url }) => url).join(",") }
          : {}),
        ...this.#options.env,
      },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#nodes[index] = child;
    // Warnings and errors go to stderr: kept in the same log.
    const keep = (line: string) => {
      this.serverLog.push(line);
      (this.nodeLogs[index] ??= []).push(line);
      this.#notify();
    };
    untilLine(child.stderr, () => false, keep).catch(() => {});
    await untilLine(
      child.stdout,
      (line) => line.includes('"listening"'),
      keep,
    );
  }

  /** The signaling server's log lines (JSON), across its restarts. */
  readonly serverLog: string[] = [];
  /** With `nodes`: each node's own log lines. */
  readonly nodeLogs: string[][] = [];

  /** Ends the signaling server: SIGTERM (a deploy) waits for its exit. */
  async stopSignaling(
    signal: "SIGTERM" | "SIGKILL",
    index = 0,
  ): Promise<void> {
    const child = this.#nodes[index];
    this.#nodes[index] = undefined;
    if (!child) return;
    child.kill(signal);
    await child.status;
  }

  /** Everything host `name` reported so far. */
  events(name: string): LabEvent[] {
    return this.#events.get(name) ?? [];
  }

  /**
   * Resolves once `check()` returns a value, checked again on every report;
   * rejects after `timeoutMs` naming `what`.
   */
  until<T>(
    what: string | (() => string),
    check: () => T | undefined,
    timeoutMs = 30_000,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = () => {
        const value = check();
        if (value === undefined) return false;
        cleanup();
        resolve(value);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `Timed out waiting for ${typeof what === "string" ? what : what()}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      const waiter = () => void attempt();
      if (!attempt()) this.#waiters.add(waiter);
    });
  }

  /** Frames host `name` presented after `since` (wall-clock ms). */
  frames(name: string, since = 0): number {
    return this.events(name).filter((e) => e.kind === "frame" && e.t > since)
      .length;
  }

  /** Resolves once host `name` reported `state`. */
  untilState(name: string, state: string): Promise<true> {
    return this.until(
      () => `${name} ${state}: ${JSON.stringify(this.events(name))}`,
      () => this.events(name).some((e) => e.state === state) || undefined,
    );
  }

  /**
   * Resolves once host `name` presented `count` frames after `since`; a
   * timeout says what else it reported and what the server logged.
   */
  untilFrames(name: string, count: number, since = 0): Promise<true> {
    return this.until(
      () =>
        `${count} frames at ${name} (${this.frames(name, since)}): ${
          JSON.stringify(
            this.events(name).filter((e) => e.t > since && e.kind !== "frame"),
          )
        }; server: ${this.serverLog.slice(-20).join(" ")}`,
      () => this.frames(name, since) >= count || undefined,
    );
  }
  /**
   * Resolves once each of `names` presented 10 frames after `since`; a
   * timeout says how far each got and what the server logged of the SFU.
   */
  untilPlaying(names: string[], since = 0): Promise<true> {
    return this.until(
      () =>
        `10 frames after ${since} in ${
          names.map((name) => `${name} (${this.frames(name, since)})`)
            .join(", ")
        }; server: ${
          this.serverLog.filter((l) => l.includes("sfu")).join(" ")
        }`,
      () => names.every((name) => this.frames(name, since) >= 10) || undefined,
    );
  }

  /** Resolves once the server logged `event` (its log line's name). */
  untilLogged(event: string): Promise<true> {
    return this.until(
      () =>
        `the server to log ${event}: ${this.serverLog.slice(-20).join(" ")}`,
      () => this.logged(event) > 0 || undefined,
    );
  }

  /** How often the server logged `event`. */
  logged(event: string): number {
    return this.serverLog.filter((line) => line.includes(`"${event}"`))
      .length;
  }

  /**
   * Resolves with /healthz once `check` passes on it (clients reconnect with
   * backoff after a restart, and the server has no event to wait on).
   */
  async healthWhen(
    check: (health: Record<string, number | string>) => boolean,
    timeoutMs = 20_000,
  ): Promise<Record<string, number | string>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const health = await this.healthz();
      if (check(health)) return health;
      if (Date.now() > deadline) {
        throw new Error(`/healthz never passed: ${JSON.stringify(health)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** The server's /healthz, asked from inside the hub. */
  async healthz(): Promise<Record<string, number | string>> {
    const { stdout, success } = await this.network.command(
      this.network.hub.ns,
      Deno.execPath(),
      [
        "eval",
        `console.log(await (await fetch("http://${this.network.hub.address}:${SIGNALING_PORT}/healthz")).text())`,
      ],
      { stdout: "piped", stderr: "null" },
    ).output();
    if (!success) throw new Error("healthz could not be read");
    return JSON.parse(new TextDecoder().decode(stdout));
  }

  async #startSite(): Promise<void> {
    const child = this.network.command(this.network.hub.ns, Deno.execPath(), [
      "run",
      "-A",
      `${ROOT}tests/e2e/support/lab-site.ts`,
      this.#dir,
      this.network.hub.address,
    ], { stdout: "piped", stderr: "null" }).spawn();
    this.#site = child;
    const lines = child.stdout.pipeThrough(new TextDecoderStream())
      .pipeThrough(splitLines()).getReader();
    for (;;) {
      const { value, done } = await lines.read();
      if (done) throw new Error("The lab site exited before listening");
      const port = SITE_PORT_LINE.exec(value);
      if (port) {
        this.#sitePort = Number(port[1]);
        break;
      }
    }
    // Reports from here on, for as long as the site runs.
    (async () => {
      for (;;) {
        const { value, done } = await lines.read();
        if (done) return;
        this.#record(value);
      }
    })();
  }

  #record(line: string): void {
    let report: { name: string; events: LabEvent[] };
    try {
      report = JSON.parse(line);
    } catch {
      return;
    }
    const list = this.#events.get(report.name) ?? [];
    list.push(...report.events);
    this.#events.set(report.name, list);
    this.#notify();
  }

  /** Something was reported or logged: `until` checks again. */
  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /** The signaling server's process id (for its CPU time). */
  get signalingPid(): number | undefined {
    return this.#nodes[0]?.pid;
  }

  /** The process id of host `index`'s browser (for its CPU time). */
  browserPid(index: number): number {
    return this.#browsers[index].pid;
  }

  /** Kills host `index`'s browser (SIGKILL): its sockets drop, no goodbye. */
  async closeBrowser(index: number): Promise<void> {
    const child = this.#browsers[index];
    try {
      child?.kill("SIGKILL");
    } catch {
      // Exited already.
    }
    await child?.status;
  }

  async #launch(host: Host, browser: BrowserName, url: string): Promise<void> {
    const profile = await Deno.makeTempDir({ prefix: "fault-lab-profile-" });
    this.#profiles.push(profile);
    const how = this.#options.turnTrust ?? "ca";
    const trust = this.ca && how
      ? await browserTrust(
        browser,
        profile,
        this.ca,
        how,
        LAB_TURN_HOST,
        LAB_TURNS_PORT,
      )
      : { args: [], env: {} };
    const command = browser === "chromium"
      ? this.network.command(host.ns, CHROMIUM_PATH, [
        "--headless=new",
        ...CHROMIUM_ARGS,
        // Host candidates as addresses: no mDNS answers in a namespace.
        "--disable-features=WebRtcHideLocalIpsWithMdns",
        // The camera needs a secure context; the lab site is plain http.
        `--unsafely-treat-insecure-origin-as-secure=${new URL(url).origin}`,
        `--user-data-dir=${profile}`,
        // LAB_TURN_HOST is the hub: no DNS.
        ...(this.coturn
          ? [
            `--host-resolver-rules=MAP ${LAB_TURN_HOST} ${this.network.hub.address}`,
          ]
          : []),
        ...trust.args,
        url,
      ], { stdout: "null", stderr: "null", env: trust.env })
      : this.network.command(host.ns, FIREFOX_PATH, [
        "--headless",
        "--no-remote",
        "--profile",
        profile,
        url,
      ], { stdout: "null", stderr: "null", env: { MOZ_HEADLESS: "1" } });
    if (browser === "firefox") {
      const prefs = {
        ...FIREFOX_PREFS,
        "media.peerconnection.ice.obfuscate_host_addresses": false,
        // The camera needs a secure context; the lab site is plain http.
        "media.devices.insecure.enabled": true,
        "media.getusermedia.insecure.enabled": true,
        // So does WebCrypto (end-to-end encryption): the site's host is
        // treated as secure, as Chromium's flag does.
        "dom.securecontext.allowlist": new URL(url).hostname,
        "browser.shell.checkDefaultBrowser": false,
        "datareporting.policy.dataSubmissionEnabled": false,
        "toolkit.telemetry.reportingpolicy.firstRun": false,
        // Every name resolves to the hub (LAB_TURN_HOST): no DNS. The
        // pages are loaded by address.
        ...(this.coturn
          ? { "network.dns.forceResolve": this.network.hub.address }
          : {}),
      };
      await Deno.writeTextFile(
        `${profile}/user.js`,
        Object.entries(prefs).map(([key, value]) =>
          `user_pref(${JSON.stringify(key)}, ${JSON.stringify(value)});`
        ).join("\n"),
      );
    }
    this.#browsers[this.network.hosts.indexOf(host)] = command.spawn();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const janus of this.januses) await janus[Symbol.asyncDispose]();
    await this.coturn?.[Symbol.asyncDispose]();
    await this.#balancer?.[Symbol.asyncDispose]();
    for (const child of [...this.#browsers, this.#site, ...this.#nodes]) {
      try {
        child?.kill("SIGKILL");
        await child?.status;
      } catch {
        // Exited already.
      }
    }
    await this.redis?.[Symbol.asyncDispose]();
    await this.network[Symbol.asyncDispose]();
    for (const dir of [this.#dir, ...this.#profiles]) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
}

/** Reads `stream` until a line passes `test`; the rest is drained. */
async function untilLine(
  stream: ReadableStream<Uint8Array<ArrayBuffer>>,
  test: (line: string) => boolean,
  keep: (line: string) => void,
): Promise<void> {
  const reader = stream.pipeThrough(new TextDecoderStream())
    .pipeThrough(splitLines()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("The process exited before it was ready");
    keep(value);
    if (test(value)) break;
  }
  (async () => {
    // Drained so the process never blocks on a full pipe.
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      keep(value);
    }
  })();
}
