/** Starts a real signaling server on an ephemeral port for one test. */
import { DEFAULT_CONFIG, type ServerConfig } from "../../../server/config.ts";
import { createLogger, type LogLevel } from "../../../server/observe/logger.ts";
import {
  redisClusterFor,
  type SignalingServer,
  type StartOptions,
  startSignalingServer,
} from "../../../server/signaling-server.ts";
import { TestClient } from "./test-client.ts";

export interface TestServer extends AsyncDisposable {
  server: SignalingServer;
  url: string;
  /** Log lines written so far (JSON strings). */
  logs: string[];
  /** Connects a client and waits for its `welcome`. */
  connect(): Promise<TestClient>;
  /**
   * A broadcaster on `streamId` and `viewers` viewers joined after it, every
   * announcement consumed, so each test starts from quiet sockets.
   */
  liveStream(
    streamId: string,
    viewers: number,
  ): Promise<{ broadcaster: TestClient; viewers: TestClient[] }>;
  /** Resolves once `clientId`'s connection is gone from the server. */
  closedOnServer(clientId: string): Promise<void>;
  /** With `janusUrl`: resolves once the server is linked to Janus. */
  sfuLinked(): Promise<void>;
}

export async function startTestServer(
  overrides: Partial<ServerConfig> = {},
  logLevel: LogLevel = "debug",
  options: Omit<StartOptions, "logger"> = {},
): Promise<TestServer> {
  const logs: string[] = [];
  const config = {
    ...DEFAULT_CONFIG,
    hostname: "127.0.0.1",
    port: 0,
    // Every test client comes from 127.0.0.1: per-IP limits are tested on
    // their own, with small values.
    maxConnectionsPerIp: 100_000,
    connectBurstPerIp: 100_000,
    joinRatePerIpPerMinute: 6_000_000,
    joinBurstPerIp: 100_000,
    ...overrides,
  };
  const server = await startSignalingServer(config, {
    redisCluster: await redisClusterFor(config),
    ...options,
    logger: createLogger(logLevel, (line) => logs.push(line)),
  });
  const url = `ws://127.0.0.1:${server.port}/ws`;
  const clients: TestClient[] = [];
  const testServer: TestServer = {
    server,
    url,
    logs,
    sfuLinked() {
      const gateway = server.sfu!;
      return new Promise<void>((resolve) =>
        gateway.up
          ? resolve()
          : gateway.events.addEventListener("up", () => resolve(), {
            once: true,
          })
      );
    },
    async connect() {
      const client = await TestClient.connect(url);
      clients.push(client);
      return client;
    },
    async liveStream(streamId, count) {
      const broadcaster = await this.connect();
      broadcaster.send({ type: "broadcaster-ready", streamId });
      await broadcaster.next("broadcaster-accepted");
      const viewers: TestClient[] = [];
      for (let i = 0; i < count; i++) {
        const viewer = await this.connect();
        viewer.send({ type: "join-stream", streamId });
        await viewer.next("join-accepted");
        await broadcaster.next("viewer-joined");
        viewers.push(viewer);
      }
      return { broadcaster, viewers };
    },
    closedOnServer(clientId) {
      if (!server.connections.has(clientId)) return Promise.resolve();
      return new Promise((resolve) => {
        const listener = (event: Event) => {
          if ((event as CustomEvent<string>).detail !== clientId) return;
          server.events.removeEventListener("connection-closed", listener);
          resolve();
        };
        server.events.addEventListener("connection-closed", listener);
      });
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(clients.map((client) => client.close()));
      await server.shutdown();
    },
  };
  return testServer;
}
