/**
 * A @web/test-runner plugin that gives browser tests real signaling servers:
 * `signaling-start` (a new server on a free port), `signaling-restart` (stop
 * and start again on the same port) and `signaling-stop`.
 */
import { DEFAULT_CONFIG } from "../../server/config.ts";
import { createLogger } from "../../server/logger.ts";
import { mintToken, type StreamClaims } from "../../server/tokens.ts";
import {
  type SignalingServer,
  startSignalingServer,
} from "../../server/signaling-server.ts";

const servers = new Map<number, SignalingServer>();
const secrets = new Map<number, string | undefined>();

function start(port: number, signalSecret?: string): Promise<SignalingServer> {
  return startSignalingServer(
    {
      ...DEFAULT_CONFIG,
      hostname: "127.0.0.1",
      port,
      heartbeatIntervalMs: 2_000,
      // All test pages connect from 127.0.0.1.
      maxConnectionsPerIp: 10_000,
      connectBurstPerIp: 10_000,
      joinBurstPerIp: 10_000,
      signalSecret,
    },
    { logger: createLogger("warn") },
  );
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
          const server = await start(port, secrets.get(port));
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
