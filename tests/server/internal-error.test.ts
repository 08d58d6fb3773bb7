/**
 * A bug in a handler costs one message, never the connection or the process.
 * No valid input reaches this path, so a router that throws stands in for the
 * bug; the socket, connection and server loop around it are the real ones.
 */
import assert from "node:assert/strict";
import { Admission } from "../../server/security/admission.ts";
import { AuditTrail } from "../../server/observe/audit.ts";
import { DEFAULT_CONFIG } from "../../server/config.ts";
import { LOCAL_DELIVERY } from "../../server/signaling/delivery.ts";
import { IpLimits } from "../../server/security/ip-limits.ts";
import { Connection } from "../../server/signaling/connection.ts";
import { createLogger } from "../../server/observe/logger.ts";
import { Metrics } from "../../server/observe/metrics.ts";
import { ResumeTokens } from "../../server/security/resume-token.ts";
import type { Peer } from "../../server/signaling/peer.ts";
import { SignalingRouter } from "../../server/signaling/signaling-router.ts";
import { StreamRegistry } from "../../server/signaling/stream-registry.ts";
import type { ClientMessage } from "../../protocol/messages.ts";
import { TestClient } from "./support/test-client.ts";

class BrokenOnJoin extends SignalingRouter {
  override handle(peer: Peer, message: ClientMessage): void | Promise<void> {
    if (message.type === "join-stream") throw new TypeError("boom");
    return super.handle(peer, message);
  }
}

Deno.test("a handler that throws gets internal-error and the connection stays", async () => {
  const logs: string[] = [];
  const logger = createLogger("info", (line) => logs.push(line));
  const metrics = new Metrics();
  const audit = new AuditTrail(logger);
  const router = new BrokenOnJoin({
    directory: new StreamRegistry(),
    delivery: LOCAL_DELIVERY,
    metrics,
    logger,
    audit,
    admission: new Admission({
      ipLimits: new IpLimits({
        maxConnections: 50,
        connectsPerMinute: 60,
        connectBurst: 30,
        joinsPerMinute: 120,
        joinBurst: 30,
      }),
      audit,
    }),
    maxViewersPerStream: 50,
    resumeTokens: new ResumeTokens(undefined, 120),
    reconnectGraceMs: 0,
  });
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      new Connection(socket, "client_test", "127.0.0.1", {
        config: DEFAULT_CONFIG,
        router,
        metrics,
        logger,
        onClosed() {},
      });
      return response;
    },
  );
  const client = await TestClient.connect(
    `ws://127.0.0.1:${server.addr.port}/ws`,
  );
  client.send({ type: "join-stream", streamId: "s" });
  assert.deepEqual(await client.next("error"), {
    type: "error",
    code: "internal-error",
    message: "The server failed on this message",
    inReplyTo: "join-stream",
  });
  client.send({ type: "ping", nonce: 1 });
  assert.equal((await client.next("pong")).nonce, 1);
  assert.equal(metrics.errors.get("internal-error"), 1);
  assert.ok(logs.some((line) => JSON.parse(line).event === "handler-failed"));
  await client.close();
  await server.shutdown();
});
