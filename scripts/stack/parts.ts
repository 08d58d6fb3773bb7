/**
 * Each part of the stack started from Debian's package with its files in
 * the stack's folder, and waited for by the line that says it is ready.
 */
import type { Child, ChildOptions } from "./child.ts";
import { nginxConfig, redisConfig, writeJanusConfig } from "./configs.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

export interface StackOptions {
  /** nginx's port, on every address. */
  port: number;
  /** `nat.ice_enforce_list` of both Janus instances. */
  iceInterface?: string;
  /** Aborts a start under way (Ctrl-C): what was started is stopped. */
  signal?: AbortSignal;
  /** Each line a node logs (JSON), as it comes. */
  onNodeLine?: (node: string, line: string) => void;
  /** What the start is doing now. */
  onStep?: (step: string) => void;
}

export interface JanusInstance {
  name: string;
  /** Its WebSocket API, as the nodes' JANUS_URL lists it. */
  url: string;
  adminUrl: string;
  rtpPortRange: string;
  child: Child;
}

export interface SignalingNode {
  name: string;
  port: number;
  /** Its cluster node id (from its `cluster-registered` line). */
  id: string;
  child: Child;
}

/**
 * `command`, or /usr/sbin's when PATH lacks it (Debian puts nginx there,
 * and a user's PATH often has no sbin).
 */
export function sbin(command: string): string {
  const onPath = (Deno.env.get("PATH") ?? "").split(":").some((dir) => {
    try {
      return Deno.statSync(`${dir}/${command}`).isFile;
    } catch {
      return false;
    }
  });
  return onPath ? command : `/usr/sbin/${command}`;
}

/** Starts a process as a part of the stack (stopped with it). */
export type Starter = (options: ChildOptions) => Child;

export async function startRedis(
  dir: string,
  start: Starter,
  signal: AbortSignal,
): Promise<string> {
  const port = freePort();
  await Deno.mkdir(`${dir}/redis`, { mode: 0o700 });
  await Deno.writeTextFile(
    `${dir}/redis/redis.conf`,
    redisConfig(`${dir}/redis`, port),
  );
  const redis = start({
    name: "redis",
    command: "redis-server",
    args: [`${dir}/redis/redis.conf`],
    logFile: `${dir}/redis/redis.log`,
  });
  await redis.waitFor(
    '"Ready to accept connections"',
    (line) => line.includes("Ready to accept connections"),
    15_000,
    signal,
  );
  return `redis://127.0.0.1:${port}`;
}

export async function startJanus(
  dir: string,
  index: number,
  adminSecret: string,
  options: StackOptions,
  start: Starter,
  signal: AbortSignal,
): Promise<JanusInstance> {
  const name = `janus-${index + 1}`;
  const folder = `${dir}/${name}`;
  // Its admin secret is in there: for this user only.
  await Deno.mkdir(folder, { mode: 0o700 });
  const port = freePort();
  const adminPort = freePort();
  // Disjoint per instance: two instances on one host must not pick the
  // same RTP port.
  const first = 20_000 + index * 1_000;
  const rtpPortRange = `${first}-${first + 999}`;
  await writeJanusConfig({
    dir: folder,
    port,
    adminPort,
    adminSecret,
    rtpPortRange,
    iceInterface: options.iceInterface,
  });
  const child = start({
    name,
    command: "janus",
    args: ["-F", folder, "-C", `${folder}/janus.jcfg`],
    logFile: `${folder}/janus.log`,
  });
  // Its listeners accept connections once its service thread runs.
  await child.waitFor(
    '"WebSockets thread started"',
    (line) => line.includes("WebSockets thread started"),
    30_000,
    signal,
  );
  return {
    name,
    url: `ws://127.0.0.1:${port}/`,
    adminUrl: `ws://127.0.0.1:${adminPort}/`,
    rtpPortRange,
    child,
  };
}

export async function startNode(
  dir: string,
  index: number,
  redisUrl: string,
  janus: JanusInstance[],
  options: StackOptions,
  start: Starter,
  signal: AbortSignal,
): Promise<SignalingNode> {
  const name = `node-${index + 1}`;
  const port = freePort();
  const child = start({
    name,
    command: Deno.execPath(),
    args: [
      "run",
      "--unstable-no-legacy-abort",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "server/main.ts",
    ],
    cwd: ROOT,
    logFile: `${dir}/${name}.log`,
    env: {
      PORT: String(port),
      HOSTNAME: "127.0.0.1",
      REDIS_URL: redisUrl,
      JANUS_URL: janus.map((instance) => instance.url).join(","),
      STATIC_DIR: `${dir}/site`,
      LOG_LEVEL: "info",
      // Behind nginx: the client's address is its X-Forwarded-For.
      TRUST_PROXY: "1",
      // As `deno task dev`: a developer reloading pages all day is not
      // an attack.
      CONNECT_BURST_PER_IP: "1000",
      JOIN_BURST_PER_IP: "1000",
    },
    onLine: (line) => options.onNodeLine?.(name, line),
  });
  const event = (name: string) => (line: string) =>
    logEvent(line)?.event === name;
  await child.waitFor(
    '"listening" log line',
    event("listening"),
    60_000,
    signal,
  );
  const registered = await child.waitFor(
    '"cluster-registered" log line',
    event("cluster-registered"),
    30_000,
    signal,
  );
  return { name, port, id: String(logEvent(registered)!.node), child };
}

export async function startNginx(
  dir: string,
  port: number,
  nodes: SignalingNode[],
  start: Starter,
  signal: AbortSignal,
): Promise<void> {
  const folder = `${dir}/nginx`;
  await Deno.mkdir(`${folder}/tmp`, { recursive: true });
  await Deno.chmod(folder, 0o755);
  await Deno.chmod(`${folder}/tmp`, 0o755);
  await Deno.writeTextFile(
    `${folder}/nginx.conf`,
    nginxConfig({ dir: folder, port, nodes: nodes.map((node) => node.port) }),
  );
  const nginx = start({
    name: "nginx",
    command: sbin("nginx"),
    args: [
      "-p",
      folder,
      "-c",
      `${folder}/nginx.conf`,
      "-e",
      `${folder}/error.log`,
    ],
    logFile: `${folder}/nginx.log`,
  });
  // Its port is bound before the master starts its workers.
  await nginx.waitFor(
    '"start worker process"',
    (line) => line.includes("start worker process"),
    15_000,
    signal,
  );
}

/** A node's JSON log line, or undefined for anything else. */
export function logEvent(line: string): Record<string, unknown> | undefined {
  try {
    const parsed = JSON.parse(line);
    return typeof parsed === "object" && parsed ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** A loopback port nobody listens on right now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
