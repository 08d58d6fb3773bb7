/**
 * PROCESSES=N: `deno task start` supervises N server processes sharing one
 * PORT (SO_REUSEPORT, Linux: the kernel spreads new connections over them),
 * so a machine with several cores uses them. Each child is a node of the
 * cluster on REDIS_URL with a node id of its own (each registers one
 * nobody holds, as any node does); they meet through Redis and their node
 * links, exactly as nodes on several machines do.
 *
 *   starting --all spawned--> running --SIGTERM/SIGINT--> stopping --> (exit 0)
 *   running: a child that exits is started again after CHILD_RESTART_MS
 *
 * Stopping sends SIGTERM to every child (each closes its sockets with 1012
 * and leaves the cluster as a node does on a restart) and waits for them;
 * one still running SHUTDOWN_GRACE_MS later is killed.
 */
import type { Logger } from "./observe/logger.ts";

/** A child that exited on its own is started again after this. */
const CHILD_RESTART_MS = 1_000;

export interface SuperviseOptions {
  count: number;
  /** The server's entry (server/main.ts). */
  entry: string;
  logger: Logger;
  /** How long a child has to stop before it is killed. */
  graceMs: number;
}

type Phase = "running" | "stopping";

/**
 * Starts the children and keeps them running; resolves with the exit code
 * once a signal has stopped them all.
 */
export function superviseProcesses(options: SuperviseOptions): Promise<number> {
  const { count, entry, logger, graceMs } = options;
  let phase: Phase = "running";
  const children = new Map<number, Deno.ChildProcess>();
  const done = Promise.withResolvers<number>();

  const spawn = (index: number): void => {
    const child = new Deno.Command(Deno.execPath(), {
      // reusePort is behind --unstable-net in Deno 2; request.signal aborts
      // only when a client goes (session-endpoint.ts) with
      // --unstable-no-legacy-abort, Deno's next default (without it, Deno
      // warns once).
      args: [
        "run",
        "--unstable-net",
        "--unstable-no-legacy-abort",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        entry,
      ],
      env: { PROCESSES: "1", REUSE_PORT: "1", ...linkPorts(index) },
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    children.set(index, child);
    logger.info("process-started", { index, pid: child.pid });
    child.status.then((status) => {
      children.delete(index);
      if (phase === "stopping") {
        if (children.size === 0) done.resolve(0);
        return;
      }
      logger.error("process-exited", {
        index,
        pid: child.pid,
        code: status.code,
        restartInMs: CHILD_RESTART_MS,
      });
      setTimeout(() => phase === "running" && spawn(index), CHILD_RESTART_MS);
    });
  };

  const stop = (signal: Deno.Signal): void => {
    if (phase === "stopping") return;
    phase = "stopping";
    logger.info("signal", { signal, processes: children.size });
    if (children.size === 0) return done.resolve(0);
    for (const child of children.values()) kill(child, "SIGTERM");
    const late = setTimeout(() => {
      logger.warn("processes-killed", {
        afterMs: graceMs,
        left: children.size,
      });
      for (const child of children.values()) kill(child, "SIGKILL");
    }, graceMs);
    Deno.unrefTimer(late);
  };

  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  for (let index = 0; index < count; index++) spawn(index);
  logger.info("processes", { count });
  return done.promise;
}

/**
 * A fixed NODE_LINK_PORT (and NODE_LINK_URL) is the first child's: child
 * `index` listens and is reached `index` ports above it.
 */
function linkPorts(index: number): Record<string, string> {
  const env: Record<string, string> = {};
  const port = Number(Deno.env.get("NODE_LINK_PORT") || 0);
  if (port > 0) env.NODE_LINK_PORT = String(port + index);
  const url = Deno.env.get("NODE_LINK_URL")?.trim();
  if (url && URL.canParse(url)) {
    const parsed = new URL(url);
    parsed.port = String(Number(parsed.port) + index);
    env.NODE_LINK_URL = `tcp://${parsed.host}`;
  }
  return env;
}

function kill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // Exited meanwhile.
  }
}
