/** ALLOWED_ORIGINS, per-IP connection cap, per-IP join rate, TRUST_PROXY. */
import assert from "node:assert/strict";
import { startTestServer } from "./support/test-server.ts";

/** The upgrade's HTTP status line, for a request with these headers. */
async function upgradeStatus(
  port: number,
  headers: Record<string, string>,
): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join(
    "",
  );
  await conn.write(new TextEncoder().encode(
    `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${
        btoa("0123456789abcdef")
      }\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
  ));
  const buffer = new Uint8Array(512);
  const n = await conn.read(buffer);
  conn.close();
  return new TextDecoder().decode(buffer.subarray(0, n ?? 0)).split("\r\n")[0];
}

Deno.test("ALLOWED_ORIGINS: other origins get 403 before the upgrade", async () => {
  await using t = await startTestServer({
    allowedOrigins: ["https://shop.example", "https://*.partner.example"],
  });
  const port = t.server.port;
  assert.match(
    await upgradeStatus(port, { origin: "https://evil.example" }),
    / 403 /,
  );
  assert.match(
    await upgradeStatus(port, { origin: "http://shop.example" }),
    / 403 /,
  );
  assert.match(
    await upgradeStatus(port, { origin: "https://shop.example.evil.example" }),
    / 403 /,
  );
  assert.match(
    await upgradeStatus(port, { origin: "https://shop.example" }),
    / 101 /,
  );
  assert.match(
    await upgradeStatus(port, { origin: "https://eu.partner.example" }),
    / 101 /,
  );
  // Not a browser page: nothing to hijack, and it could forge any Origin.
  assert.match(await upgradeStatus(port, {}), / 101 /);
  const refusals = t.logs.map((l) => JSON.parse(l)).filter((e) =>
    e.event === "audit" && e.kind === "refused"
  );
  assert.equal(refusals.length, 3);
  assert.equal(refusals[0].reason, "origin-not-allowed");
});

Deno.test("MAX_CONNECTIONS_PER_IP: the next connection from that address gets 429", async () => {
  await using t = await startTestServer({ maxConnectionsPerIp: 2 });
  const first = await t.connect();
  await t.connect();
  assert.match(await upgradeStatus(t.server.port, {}), / 429 /);
  await first.close();
  await t.closedOnServer(first.id);
  const again = await t.connect();
  assert.match(again.id, /^client_/);
});

Deno.test("JOIN_RATE_PER_IP: past the burst, joins and announces get join-rate-limited", async () => {
  await using t = await startTestServer({
    joinBurstPerIp: 3,
    joinRatePerIpPerMinute: 1,
  });
  const a = await t.connect();
  const b = await t.connect();
  a.send({ type: "join-stream", streamId: "s1" });
  await a.next("join-accepted");
  a.send({ type: "join-stream", streamId: "s2" });
  await a.next("join-accepted");
  b.send({ type: "broadcaster-ready", streamId: "s3" });
  await b.next("broadcaster-accepted");
  // The bucket is per address, shared by both sockets.
  a.send({ type: "join-stream", streamId: "s4" });
  const error = await a.next("error");
  assert.equal(error.code, "join-rate-limited");
  assert.equal(t.server.registry.membershipOf(a.id)?.room.streamId, "s2");
  // Other messages are not affected.
  a.send({ type: "ping", nonce: 1 });
  assert.equal((await a.next("pong")).nonce, 1);
});

Deno.test("TRUST_PROXY: the per-IP cap counts X-Forwarded-For addresses, not the proxy's", async () => {
  await using t = await startTestServer({
    maxConnectionsPerIp: 1,
    trustProxy: true,
  });
  const port = t.server.port;
  assert.match(
    await upgradeStatus(port, { "x-forwarded-for": "203.0.113.7" }),
    / 101 /,
  );
  assert.match(
    await upgradeStatus(port, { "x-forwarded-for": "203.0.113.8, 10.0.0.1" }),
    / 101 /,
  );
  // The raw sockets above closed; the same addresses are welcome once counted out.
  await Promise.all(
    [...t.server.connections.keys()].map((id) => t.closedOnServer(id)),
  );
  assert.match(
    await upgradeStatus(port, { "x-forwarded-for": "203.0.113.7" }),
    / 101 /,
  );
});

Deno.test("without TRUST_PROXY a forged X-Forwarded-For changes nothing", async () => {
  await using t = await startTestServer({ maxConnectionsPerIp: 1 });
  await t.connect();
  assert.match(
    await upgradeStatus(t.server.port, { "x-forwarded-for": "198.51.100.1" }),
    / 429 /,
  );
});

Deno.test("CONNECT_RATE_PER_IP: an address that reconnects too fast gets 429", async () => {
  await using t = await startTestServer({
    connectBurstPerIp: 2,
    connectRatePerIpPerMinute: 1,
  });
  const first = await t.connect();
  const second = await t.connect();
  // Closing does not give the tokens back: the rate counts new connections.
  await first.close();
  await t.closedOnServer(first.id);
  assert.match(await upgradeStatus(t.server.port, {}), / 429 /);
  const refusal = t.logs.map((l) => JSON.parse(l)).find((e) =>
    e.kind === "refused"
  );
  assert.equal(refusal.reason, "connect-rate-limited");
  await second.close();
});
