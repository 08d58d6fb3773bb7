/**
 * The scaled-out topology on one machine: one Redis, two Janus instances,
 * two signaling nodes over both, nginx in front, each from Debian's
 * packages with its configuration in one temp folder. Started in that
 * order, each waited for by what it prints; a part that fails to start
 * stops every part started before it and removes the folder.
 */
import { Child, type ChildOptions } from "./child.ts";
import {
  type JanusInstance,
  type SignalingNode,
  type StackOptions,
  startJanus,
  startNginx,
  startNode,
  startRedis,
} from "./parts.ts";
import { buildSite } from "./site.ts";

export type { JanusInstance, SignalingNode, StackOptions };
export { logEvent } from "./parts.ts";

const INSTANCES = 2;
const NODES = 2;

export interface Stack {
  /** The temp folder: every configuration and log. */
  dir: string;
  /** nginx's port. */
  port: number;
  redisUrl: string;
  /** The Janus admin API's secret (both instances). */
  adminSecret: string;
  janus: JanusInstance[];
  nodes: SignalingNode[];
  /** Resolves with the first part that exits without being asked to. */
  failed: Promise<Child>;
  /** Stops every part (nginx first, Redis last) and removes the folder. */
  stop(): Promise<void>;
}

/** Starts every part; throws, with everything stopped, if one fails. */
export async function startStack(options: StackOptions): Promise<Stack> {
  portFree(options.port);
  const dir = await Deno.makeTempDir({ prefix: "live-stack-" });
  // nginx's workers run as nobody when it starts as root: they must reach
  // their temp folders inside this one.
  await Deno.chmod(dir, 0o711);
  const children: Child[] = [];
  const stop = async () => {
    const nginx = children.filter((child) => child.name === "nginx");
    const nodes = children.filter((child) => child.name.startsWith("node-"));
    const rest = children.filter((c) =>
      !nginx.includes(c) && !nodes.includes(c)
    );
    for (const group of [nginx, nodes, rest]) {
      await Promise.all(group.map((child) => child.stop()));
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const step = options.onStep ?? (() => {});
  // One part failing aborts the waits of those starting beside it.
  const failing = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([options.signal, failing.signal])
    : failing.signal;
  const start = (options: ChildOptions) => {
    signal.throwIfAborted();
    const child = new Child(options);
    children.push(child);
    return child;
  };
  const all = async <T>(starting: Promise<T>[]): Promise<T[]> => {
    // The first failure is the cause; those beside it were interrupted.
    let cause: unknown;
    const settled = await Promise.allSettled(
      starting.map((promise) =>
        promise.catch((error) => {
          cause ??= error;
          failing.abort();
          throw error;
        })
      ),
    );
    if (settled.some((result) => result.status === "rejected")) throw cause;
    return settled.map((result) => (result as PromiseFulfilledResult<T>).value);
  };
  try {
    step(`temp folder ${dir} (configs and logs)`);
    step("building the demo bundles");
    await buildSite(`${dir}/site`);
    signal.throwIfAborted();

    step("starting redis-server and two Janus instances");
    const adminSecret = randomHex(24);
    const [redisUrl, ...janus] = await all<string | JanusInstance>([
      startRedis(dir, start, signal),
      ...Array.from(
        { length: INSTANCES },
        (_, i) => startJanus(dir, i, adminSecret, options, start, signal),
      ),
    ]) as [string, ...JanusInstance[]];

    step("starting two signaling nodes");
    const nodes = await all(
      Array.from(
        { length: NODES },
        (_, i) => startNode(dir, i, redisUrl, janus, options, start, signal),
      ),
    );

    step("starting nginx");
    await startNginx(dir, options.port, nodes, start, signal);

    const failed = Promise.race(
      children.map((child) =>
        child.exited.then(() =>
          child.stopping ? new Promise<Child>(() => {}) : child
        )
      ),
    );
    return {
      dir,
      port: options.port,
      redisUrl,
      adminSecret,
      janus,
      nodes,
      failed,
      stop,
    };
  } catch (error) {
    await stop();
    throw options.signal?.aborted ? new Error("interrupted") : error;
  }
}

/** Throws, before anything starts, when nginx could not have `port`. */
function portFree(port: number): void {
  try {
    Deno.listen({ port }).close();
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    throw new Error(
      `nginx: port ${port} is in use (--port N to choose another)`,
    );
  }
}

function randomHex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (byte) => byte.toString(16).padStart(2, "0"),
  ).join("");
}
