/**
 * A @web/test-runner plugin that gives browser tests real signaling servers:
 * `signaling-start` (a new server on a free port), `signaling-restart` (stop
 * and start again on the same port) and `signaling-stop`.
 */
import { DEFAULT_CONFIG } from "../../server/config.ts";
import { createLogger } from "../../server/logger.ts";
import {
  type SignalingServer,
  startSignalingServer,
} from "../../server/signaling-server.ts";

const servers = new Map<number, SignalingServer>();

function start(port: number): Promise<SignalingServer> {
  return startSignalingServer(
    {
      ...DEFAULT_CONFIG,
      hostname: "127.0.0.1",
      port,
      heartbeatIntervalMs: 2_000,
      // All test pages connect from 127.0.0.1.
      maxConnectionsPerIp: 10_000,
      joinBurstPerIp: 10_000,
    },
    { logger: createLogger("warn") },
  );
}

export function signalingPlugin() {
  return {
    name: "signaling-server",
    async executeCommand(
      { command, payload }: { command: string; payload?: { port?: number } },
    ) {
      switch (command) {
        case "signaling-start": {
          const server = await start(0);
          servers.set(server.port, server);
          return { port: server.port, url: `ws://127.0.0.1:${server.port}/ws` };
        }
        case "signaling-restart": {
          const port = payload!.port!;
          await servers.get(port)?.shutdown();
          const server = await start(port);
          servers.set(port, server);
          return { port };
        }
        case "signaling-stop": {
          const port = payload!.port!;
          await servers.get(port)?.shutdown();
          servers.delete(port);
          return { port };
        }
        default:
          return undefined;
      }
    },
    async serverStop() {
      await Promise.all(
        [...servers.values()].map((server) => server.shutdown()),
      );
    },
  };
}
