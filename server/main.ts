/**
 * `deno task start`: reads the configuration from the environment, starts
 * the signaling server, and on SIGINT/SIGTERM closes every socket with 1012
 * and exits 0. Exits 2 on an invalid setting or an unusable STATE_DIR.
 * With PROCESSES (or `--processes N`) above 1 it starts that many servers
 * on one port instead and stops them on the same signals (processes.ts).
 */
import { loadConfig } from "./config.ts";
import { createLogger } from "./observe/logger.ts";
import { redisClusterFor, startSignalingServer } from "./signaling-server.ts";
import { createStaticHandler } from "./http/static-files.ts";
import { StateDirError } from "./security/state-key.ts";
import { superviseProcesses } from "./processes.ts";

/** A stuck peer can hold a closing socket open; do not wait on it forever. */
const SHUTDOWN_GRACE_MS = 5_000;

if (import.meta.main) {
  let config;
  try {
    config = loadConfig({ ...Deno.env.toObject(), ...processesArgument() });
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(2);
  }
  const logger = createLogger(config.logLevel);
  if (config.nodes.processes > 1) {
    Deno.exit(
      await superviseProcesses({
        count: config.nodes.processes,
        entry: new URL(import.meta.url).pathname,
        logger,
        graceMs: SHUTDOWN_GRACE_MS + 1_000,
      }),
    );
  }
  if (!config.signalSecret) {
    logger.warn("open-development-mode", {
      message:
        "No authentication: anyone who can reach this server can broadcast or watch any stream",
    });
  }
  const redisCluster = await redisClusterFor(config);
  let starting;
  try {
    starting = startSignalingServer(config, {
      logger,
      redisCluster,
      files: config.staticDir
        ? createStaticHandler(config.staticDir)
        : undefined,
    });
  } catch (error) {
    if (/--unstable-net/.test(String(error))) {
      console.error(
        "REUSE_PORT=1 needs `deno run --unstable-net` (Deno 2 keeps SO_REUSEPORT behind it); PROCESSES passes it to its children",
      );
      Deno.exit(2);
    }
    // STATE_DIR unusable: a sentence naming it, as for a bad setting.
    if (!(error instanceof StateDirError)) throw error;
    console.error(error.message);
    Deno.exit(2);
  }
  const stop = async (signal: string) => {
    logger.info("signal", { signal });
    const grace = setTimeout(() => {
      logger.warn("shutdown-timeout", { afterMs: SHUTDOWN_GRACE_MS });
      Deno.exit(0);
    }, SHUTDOWN_GRACE_MS);
    await (await starting).shutdown();
    clearTimeout(grace);
    logger.info("stopped");
    Deno.exit(0);
  };
  // Before "listening" is logged: a signal right after it is a clean stop too.
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  await starting;
  if (config.staticDir) logger.info("serving-files", { dir: config.staticDir });
}

/** `--processes N` (or `--processes=N`) as PROCESSES. */
function processesArgument(): Record<string, string> {
  const at = Deno.args.findIndex((arg) => arg.startsWith("--processes"));
  if (at < 0) return {};
  const arg = Deno.args[at];
  const value = arg.includes("=") ? arg.split("=")[1] : Deno.args[at + 1];
  return { PROCESSES: value ?? "" };
}
