/**
 * A client found slow (MAX_BUFFERED_BYTES) by a send inside a router step
 * leaves after that step, never in the middle of it: the step's own view of
 * the room (who is live, who is paired, what the SFU serves) stays true.
 *
 * Real sockets, connections and router; only the socket's `bufferedAmount`
 * is set by the test: a real slow reader fills it at a moment no test can
 * choose (tests/server/limits.test.ts has the real one).
 */
import assert from "node:assert/strict";
import { DEFAULT_CONFIG, type ServerConfig } from "../../server/config.ts";
import { Connection } from "../../server/signaling/connection.ts";
import { createLogger } from "../../server/observe/logger.ts";
import { buildServices } from "../../server/services.ts";
import { FakeJanus } from "./support/fake-janus.ts";
import { TestClient } from "./support/test-client.ts";

/** Services behind a WebSocket listener whose sockets the test may stall. */
function serve(overrides: Partial<ServerConfig> = {}) {
  const config: ServerConfig = {
    ...DEFAULT_CONFIG,
    resumeSecret: "a-test-secret-of-at-least-32-bytes!!",
    // Below the configurable minimum: every send reads the buffer.
    maxBufferedBytes: 1,
    ...overrides,
  };
  const logger = createLogger("error", () => {});
  const services = buildServices(config, logger);
  clearInterval(services.sweep);
  /** Clients whose socket has more queued than the cap. */
  const stalled = new Set<string>();
  let count = 0;
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      const id = `client_${++count}`;
      Object.defineProperty(socket, "bufferedAmount", {
        get: () => stalled.has(id) ? config.maxBufferedBytes + 1 : 0,
      });
      const connection = new Connection(socket, id, "127.0.0.1", {
        config,
        router: services.router,
        metrics: services.metrics,
        logger,
        onClosed() {},
      });
      services.router.connected(connection);
      return response;
    },
  );
  const url = `ws://127.0.0.1:${server.addr.port}/ws`;
  const clients: TestClient[] = [];
  return {
    services,
    stalled,
    async connect() {
      const client = await TestClient.connect(url);
      clients.push(client);
      return client;
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(clients.map((client) => client.close()));
      await services.gateway?.close();
      await server.shutdown();
    },
  };
}

Deno.test("a broadcaster found slow by a viewer's join: the join is accepted live, then the broadcaster leaves", async () => {
  await using s = serve();
  const broadcaster = await s.connect();
  broadcaster.send({ type: "broadcaster-ready", streamId: "s" });
  await broadcaster.next("broadcaster-accepted");
  s.stalled.add(broadcaster.id);
  const viewer = await s.connect();
  viewer.send({ type: "join-stream", streamId: "s" });
  // Live when accepted, as the broadcaster was: its leave comes after.
  assert.equal((await viewer.next("join-accepted")).live, true);
  assert.deepEqual(await viewer.next("broadcaster-left"), {
    type: "broadcaster-left",
    streamId: "s",
  });
  assert.equal((await broadcaster.closed).code, 1008);
  const room = s.services.registry!.room("s")!;
  assert.equal(room.broadcaster, undefined);
  assert.deepEqual([...room.viewers.keys()], [viewer.id]);
  assert.equal(s.services.metrics.drops.get("slow-consumer"), 1);
});

Deno.test("a viewer found slow by its broadcaster's announce: the broadcaster hears of it, then of its leave", async () => {
  await using s = serve();
  const viewer = await s.connect();
  viewer.send({ type: "join-stream", streamId: "s" });
  assert.equal((await viewer.next("join-accepted")).live, false);
  s.stalled.add(viewer.id);
  const broadcaster = await s.connect();
  broadcaster.send({ type: "broadcaster-ready", streamId: "s" });
  const accepted = await broadcaster.next("broadcaster-accepted");
  assert.equal(accepted.viewerCount, 1);
  assert.equal((await broadcaster.next("viewer-joined")).viewerId, viewer.id);
  assert.deepEqual(await broadcaster.next("viewer-left"), {
    type: "viewer-left",
    streamId: "s",
    viewerId: viewer.id,
    viewerCount: 0,
  });
  await broadcaster.expectQuiet();
  assert.equal((await viewer.closed).code, 1008);
  assert.deepEqual([...s.services.registry!.room("s")!.viewers.keys()], []);
});

Deno.test("a broadcaster found slow by its own announce's reply leaves no SFU state behind", async () => {
  await using janus = FakeJanus.start();
  await using s = serve({ janusUrl: janus.url });
  const broadcaster = await s.connect();
  s.stalled.add(broadcaster.id);
  broadcaster.send({ type: "broadcaster-ready", streamId: "s" });
  assert.equal((await broadcaster.closed).code, 1008);
  assert.equal(s.services.registry!.room("s"), undefined);
  assert.equal(s.services.sfu!.phaseOf("s"), undefined);
});
