/**
 * A connection's rate buckets run on each frame's event time (Deno stamps
 * every event with `performance.now()`), not a clock read of their own:
 * frames stamped a second apart refill the bucket however close together
 * they are handled. The server's parts are real; the socket is a stand-in
 * that hands frames over as events with the stamps the test gives.
 */
import assert from "node:assert/strict";
import { buildServices } from "../../server/services.ts";
import { DEFAULT_CONFIG, type ServerConfig } from "../../server/config.ts";
import { Connection } from "../../server/signaling/connection.ts";
import { createLogger } from "../../server/observe/logger.ts";

class StampedSocket extends EventTarget {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  binaryType = "blob";
  readonly sent: { type: string; code?: string }[] = [];

  send(text: string): void {
    this.sent.push(JSON.parse(text));
  }

  close(): void {
    this.readyState = WebSocket.CLOSED;
  }

  /** A text frame whose event says it was made at `timeStamp`. */
  frame(data: string, timeStamp: number): void {
    const event = new MessageEvent("message", { data });
    Object.defineProperty(event, "timeStamp", { value: timeStamp });
    this.dispatchEvent(event);
  }
}

Deno.test("the rate buckets take each frame's event time", () => {
  const config: ServerConfig = {
    ...DEFAULT_CONFIG,
    // A secret: no resume key to keep in STATE_DIR.
    resumeSecret: "connection-clock-test-secret-of-32-bytes",
    rateLimitBurst: 2,
    rateLimitPerSecond: 2,
    rateLimitMaxRefusals: 100,
  };
  const logger = createLogger("error");
  const services = buildServices(config, logger);
  try {
    const socket = new StampedSocket();
    const connection = new Connection(
      socket as unknown as WebSocket,
      "client_abcdefghijkl",
      "127.0.0.1",
      {
        config,
        router: services.router,
        metrics: services.metrics,
        logger,
        onClosed() {},
      },
    );
    services.connections.set(connection.id, connection);
    services.router.connected(connection);
    socket.dispatchEvent(new Event("open"));
    const ping = JSON.stringify({ type: "ping" });
    const start = performance.now();
    // Two frames use the burst; a third at the same instant is refused.
    socket.frame(ping, start);
    socket.frame(ping, start);
    socket.frame(ping, start);
    const refused = () =>
      socket.sent.filter((m) => m.code === "rate-limited").length;
    assert.equal(refused(), 1);
    // Stamped a second later: two tokens back, though no time has passed.
    socket.frame(ping, start + 1000);
    socket.frame(ping, start + 1000);
    assert.equal(refused(), 1);
    socket.frame(ping, start + 1000);
    assert.equal(refused(), 2);
    connection.close(1000, "done", "shutdown");
  } finally {
    clearInterval(services.sweep);
  }
});
