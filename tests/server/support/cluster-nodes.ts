/**
 * Several signaling nodes in this process sharing one real Redis: each a
 * full server on its own port, so clients on different nodes meet only
 * through Redis.
 */
import type { ServerConfig } from "../../../server/config.ts";
import type { LogLevel } from "../../../server/observe/logger.ts";
import { startTestServer, type TestServer } from "./test-server.ts";
import type { RedisProcess } from "./redis-process.ts";

export async function startClusterNodes(
  redis: RedisProcess,
  count: number,
  overrides: Partial<ServerConfig> = {},
  logLevel: LogLevel = "error",
): Promise<TestServer[]> {
  const nodes: TestServer[] = [];
  for (let i = 0; i < count; i++) {
    const node = await startTestServer(
      { redisUrl: redis.url, nodeTtlMs: 1_500, ...overrides },
      logLevel,
    );
    await node.server.cluster!.when("ready");
    nodes.push(node);
  }
  return nodes;
}
