/**
 * Upgrades that never become connections: malformed requests (400 before
 * anything is counted) and clients that reset mid-handshake (released, never
 * holding a slot). Issue 20's defects 1 and 2.
 */
import assert from "node:assert/strict";
import {
  openDescriptors,
  rawRequest,
  upgradeHead,
  upgradeThenReset,
} from "./support/raw-http.ts";
import { startServerProcess } from "../../bench/server-process.ts";
import { TestClient } from "./support/test-client.ts";
import { startTestServer } from "./support/test-server.ts";

const replace = (from: string, to: string) =>
  upgradeHead().map((line) => line.startsWith(from) ? to : line);

Deno.test("malformed upgrades get 400 (405, 426) with a problem body, and count nothing", async () => {
  await using t = await startTestServer({ maxConnectionsPerIp: 2 });
  const port = t.server.port;
  const cases: [string[], number, string][] = [
    [
      upgradeHead().filter((l) => !l.startsWith("Sec-WebSocket-Key")),
      400,
      "bad-upgrade",
    ],
    [replace("Connection", "Connection: keep-alive"), 400, "bad-upgrade"],
    [
      replace("Sec-WebSocket-Key", "Sec-WebSocket-Key: c2hvcnQ="),
      400,
      "bad-upgrade",
    ],
    [
      replace("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8"),
      426,
      "unsupported-websocket-version",
    ],
    [
      upgradeHead().filter((l) => !l.startsWith("Sec-WebSocket-Version")),
      426,
      "unsupported-websocket-version",
    ],
    [replace("GET", "POST /ws HTTP/1.1"), 405, "method-not-allowed"],
  ];
  // Three times each: more than MAX_CONNECTIONS_PER_IP, were any counted.
  for (let round = 0; round < 3; round++) {
    for (const [head, status, error] of cases) {
      const response = await rawRequest(port, head);
      assert.equal(response.status, status, head.join(" | "));
      assert.equal(JSON.parse(response.body).error, error);
      assert.match(JSON.parse(response.body).message, /\S/);
    }
  }
  assert.equal(
    (await rawRequest(
      port,
      replace("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8"),
    ))
      .headers.get("sec-websocket-version"),
    "13",
  );
  assert.equal(t.server.connections.size, 0);
  assert.equal(t.server.metrics.connectionsAccepted, 0);
  // The address still has both its slots.
  const clients = [await t.connect(), await t.connect()];
  assert.equal((await rawRequest(port, upgradeHead())).status, 429);
  await Promise.all(clients.map((client) => client.close()));
  assert.ok(!t.logs.some((line) => line.includes("http-handler-failed")));
});

Deno.test("upgrades reset right after their request hold no slot: refused, or released at HANDSHAKE_TIMEOUT_MS", async () => {
  // A real server process: its descriptors are its own, and Deno's stuck
  // upgrades (below) die with it.
  await using server = await startServerProcess({
    HANDSHAKE_TIMEOUT_MS: "300",
    MAX_CONNECTIONS_PER_IP: "5",
    CONNECT_RATE_PER_IP_PER_MINUTE: "100000",
    CONNECT_BURST_PER_IP: "100000",
  });
  const descriptors = () => openDescriptors(server.pid);
  // Before this fix they stayed counted for good: give up after 10 s.
  const idle = async () => {
    for (let waited = 0; waited < 10_000; waited += 50) {
      if (await server.metric("live_connections") === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.fail("Connections still counted 10 s after their clients left");
  };
  // Warm-up: reading a metric opens the keep-alive connection the reads
  // below reuse.
  await idle();
  const before = descriptors();
  for (let i = 0; i < 200; i++) await upgradeThenReset(server.port);
  // Nothing but the gauge says when the last one is released (no events
  // cross the process): read it until it is 0.
  await idle();
  const accepted = await server.metric("live_connections_accepted_total");
  const released = await server.metric(
    'live_connections_dropped_total{reason="handshake-timeout"}',
  );
  const refused = await server.metric("live_connections_refused_total");
  // Each reset that reached the handler was refused (Deno already knew
  // the peer was gone, or the address had five upgrades pending) or
  // upgraded: then released at the deadline (or, reset after its 101,
  // opened and closed). Deno drops those it sees reset before reading.
  const counts =
    `accepted ${accepted}, released ${released}, refused ${refused}`;
  assert.ok(refused + accepted <= 200, counts);
  assert.ok(released <= accepted, counts);
  // The address's five slots are all free again.
  const url = `ws://127.0.0.1:${server.port}/ws`;
  const clients = await Promise.all(
    Array.from({ length: 5 }, () => TestClient.connect(url)),
  );
  assert.equal(await server.metric("live_connections"), 5);
  await Promise.all(clients.map((client) => client.close()));
  await idle();
  // Deno 2.9 keeps the descriptor of an upgrade whose 101 it could not
  // write (docs/protocol.md, HTTP answers): at most one per released
  // upgrade, none for those refused (195 of the 200 here). One more: the
  // keep-alive connection of this test's /metrics reads, should `fetch`
  // have opened a new one. Sockets closed a moment ago (the five
  // clients') may still hold theirs: read until they are gone (no event
  // crosses the process); a leak stays.
  const allowed = released + 1;
  let extra = descriptors() - before;
  for (let waited = 0; extra > allowed && waited < 5_000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    extra = descriptors() - before;
  }
  assert.ok(extra <= allowed, `${extra} descriptors more; ${counts}`);
});
