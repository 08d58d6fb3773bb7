/**
 * A @web/test-runner plugin that gives browser tests real signaling servers:
 * `signaling-start` (a new server on a free port, its resume key kept in a
 * STATE_DIR of its own), `signaling-restart` (stop and start again on the
 * same port and STATE_DIR; `rotateKey`: the key deleted first), `signaling-stop` and `signaling-logs`
 * (the warn lines a server wrote, of one event); and
 * `cluster-start` / `cluster-stop`: a real redis-server and several nodes
 * sharing it.
 */
import { RedisProcess } from "../../server/support/redis-process.ts";
import { DEFAULT_CONFIG } from "../../../server/config.ts";
import { createLogger } from "../../../server/observe/logger.ts";
import {
  mintToken,
  type StreamClaims,
} from "../../../server/security/tokens.ts";
import {
  redisClusterFor,
  type SignalingServer,
  startSignalingServer,
} from "../../../server/signaling-server.ts";

const servers = new Map<number, SignalingServer>();
/** The warn and error lines each server wrote, by its port. */
const logs = new Map<number, Record<string, unknown>[]>();
const secrets = new Map<number, string | undefined>();
/** Each server's STATE_DIR (its resume key, kept across its restarts). */
const stateDirs = new Map<number, string>();
/** Clusters by the Redis port: its process and its nodes. */
const clusters = new Map<
  number,
  { redis: RedisProcess; nodes: SignalingServer[] }
>();

async function start(
  port: number,
  signalSecret?: string,
  redisUrl?: string,
  stateDir = Deno.makeTempDirSync({ prefix: "lw-state-" }),
): Promise<SignalingServer> {
  let lines: Record<string, unknown>[] = [];
  const config = {
    ...DEFAULT_CONFIG,
    hostname: "127.0.0.1",
    port,
    heartbeatIntervalMs: 2_000,
    // All test pages connect from 127.0.0.1.
    maxConnectionsPerIp: 10_000,
    connectBurstPerIp: 10_000,
    joinBurstPerIp: 10_000,
    signalSecret,
    redisUrl,
    stateDir,
  };
  return startSignalingServer(config, {
    logger: createLogger("warn", (line) => {
      console.error(line);
      lines.push(JSON.parse(line));
    }),
    redisCluster: await redisClusterFor(config),
  }).then((server) => {
    stateDirs.set(server.port, stateDir);
    // A restart on the same port goes on with the same lines.
    logs.set(server.port, [...(logs.get(server.port) ?? []), ...lines]);
    lines = logs.get(server.port)!;
    return server;
  });
}

export function signalingPlugin() {
  return {
    name: "signaling-server",
    async executeCommand(
      { command, payload }: {
        command: string;
        payload?: {
          port?: number;
          secret?: string;
          claims?: StreamClaims;
          ttlSeconds?: number;
          nodes?: number;
          event?: string;
          rotateKey?: boolean;
        };
      },
    ) {
      switch (command) {
        case "signaling-start": {
          const server = await start(0, payload?.secret);
          servers.set(server.port, server);
          secrets.set(server.port, payload?.secret);
          return { port: server.port, url: `ws://127.0.0.1:${server.port}/ws` };
        }
        case "signaling-restart": {
          const port = payload!.port!;
          await servers.get(port)?.shutdown();
          const stateDir = stateDirs.get(port)!;
          // Its claims refused from now on, as after a deleted state file.
          if (payload?.rotateKey) {
            await Deno.remove(`${stateDir}/resume-key`).catch(() => {});
          }
          const server = await start(
            port,
            secrets.get(port),
            undefined,
            stateDir,
          );
          servers.set(port, server);
          return { port };
        }
        case "mint-token": {
          // What a shop's backend does; the secret never reaches the page.
          const secret = secrets.get(payload!.port!)!;
          return await mintToken(secret, payload!.claims!, {
            ttlSeconds: payload!.ttlSeconds ?? 3600,
          });
        }
        case "signaling-logs": {
          const { port, event } = payload as { port: number; event: string };
          return (logs.get(port) ?? []).filter((entry) =>
            entry.event === event
          );
        }
        case "signaling-stop": {
          const port = payload!.port!;
          await servers.get(port)?.shutdown();
          servers.delete(port);
          return { port };
        }
        case "cluster-start": {
          const redis = await RedisProcess.start();
          const nodes: SignalingServer[] = [];
          for (let i = 0; i < (payload?.nodes ?? 2); i++) {
            const node = await start(0, undefined, redis.url);
            await node.cluster!.when("ready");
            nodes.push(node);
          }
          clusters.set(redis.port, { redis, nodes });
          return {
            redisPort: redis.port,
            urls: nodes.map((node) => `ws://127.0.0.1:${node.port}/ws`),
          };
        }
        case "cluster-stop": {
          const cluster = clusters.get(payload!.port!);
          clusters.delete(payload!.port!);
          await Promise.all(
            cluster?.nodes.map((node) => node.shutdown()) ?? [],
          );
          await cluster?.redis[Symbol.asyncDispose]();
          return { port: payload!.port };
        }
        default:
          return undefined;
      }
    },
    async serverStop() {
      await Promise.all(
        [...servers.values()].map((server) => server.shutdown()),
      );
      for (const dir of stateDirs.values()) {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
      for (const { redis, nodes } of clusters.values()) {
        await Promise.all(nodes.map((node) => node.shutdown()));
        await redis[Symbol.asyncDispose]();
      }
    },
  };
}
