/** Every limit the server enforces, each at a small configured value. */
import assert from "node:assert/strict";
import { OFFER } from "./support/fixtures.ts";
import { RawClient } from "./support/raw-client.ts";
import { TestClient } from "./support/test-client.ts";
import { startTestServer } from "./support/test-server.ts";

Deno.test("MAX_VIEWERS_PER_STREAM: one more viewer gets stream-full and joins once a seat frees", async () => {
  await using t = await startTestServer({ maxViewersPerStream: 2 });
  const [a, b, c] = [await t.connect(), await t.connect(), await t.connect()];
  for (const viewer of [a, b]) {
    viewer.send({ type: "join-stream", streamId: "s" });
    await viewer.next("join-accepted");
  }
  c.send({ type: "join-stream", streamId: "s" });
  assert.deepEqual(await c.next("error"), {
    type: "error",
    code: "stream-full",
    message: "Stream s has the maximum of 2 viewers",
    inReplyTo: "join-stream",
    // Named: a client that moved to another stream meanwhile ignores it.
    streamId: "s",
  });
  assert.equal(t.server.registry.membershipOf(c.id), undefined);
  // A viewer already in counts once when it re-joins.
  a.send({ type: "join-stream", streamId: "s" });
  await a.next("join-accepted");
  await b.close();
  await t.closedOnServer(b.id);
  c.send({ type: "join-stream", streamId: "s" });
  await c.next("join-accepted");
  assert.equal(t.server.registry.viewerCount, 2);
});

Deno.test("MAX_MESSAGE_BYTES: a frame one byte over is refused and the socket closed with 1009", async () => {
  await using t = await startTestServer({ maxMessageBytes: 1024 });
  const client = await t.connect();
  const ping = (bytes: number) => {
    const frame = JSON.stringify({ type: "ping", nonce: "" });
    return frame.replace('""', `"${"n".repeat(bytes - frame.length)}"`);
  };
  // Exactly at the limit passes validation of size (the nonce is then too long).
  client.send(ping(1024));
  assert.equal((await client.next("error")).code, "invalid-field");
  client.send(ping(1025));
  assert.equal((await client.next("error")).code, "message-too-large");
  assert.equal((await client.closed).code, 1009);
  await t.closedOnServer(client.id);
  assert.equal(t.server.metrics.drops.get("message-too-large"), 1);
});

Deno.test("MAX_MESSAGE_BYTES before the byte rate: a frame over both gets message-too-large and 1009, at any size", async () => {
  await using t = await startTestServer({
    maxMessageBytes: 4096,
    rateLimitBytesBurst: 8192,
  });
  for (const size of [8193, 1 << 20]) {
    const client = await t.connect();
    client.send(JSON.stringify({ type: "ping", nonce: "n".repeat(size) }));
    const error = await client.next("error");
    assert.equal(error.code, "message-too-large");
    assert.equal((await client.closed).code, 1009);
    await t.closedOnServer(client.id);
  }
  assert.equal(t.server.metrics.drops.get("message-too-large"), 2);
  assert.equal(t.server.metrics.errors.get("rate-limited"), undefined);
});

Deno.test("MAX_MESSAGE_BYTES counts UTF-8 bytes, not characters", async () => {
  await using t = await startTestServer({ maxMessageBytes: 1024 });
  const client = await t.connect();
  // 400 characters, 1,200 bytes.
  client.send(JSON.stringify({ type: "ping", nonce: "订".repeat(400) }));
  assert.equal((await client.next("error")).code, "message-too-large");
  assert.equal((await client.closed).code, 1009);
});

Deno.test("rate limit: over the burst gets rate-limited, abuse closes with 1008", async () => {
  await using t = await startTestServer({
    rateLimitBurst: 5,
    rateLimitPerSecond: 1,
    rateLimitMaxRefusals: 3,
  });
  const client = await t.connect();
  const bystander = await t.connect();
  for (let i = 0; i < 5; i++) client.send({ type: "ping", nonce: i });
  for (let i = 0; i < 5; i++) {
    assert.equal((await client.next("pong")).nonce, i);
  }
  for (let i = 0; i < 3; i++) {
    client.send({ type: "ping", nonce: "over" });
    const error = await client.next("error");
    assert.equal(error.code, "rate-limited");
    assert.match(error.message, /at most 1\/s \(burst 5\)/);
  }
  assert.equal(client.socket.readyState, WebSocket.OPEN);
  client.send({ type: "ping", nonce: "abuse" });
  assert.equal((await client.closed).code, 1008);
  await t.closedOnServer(client.id);
  assert.equal(t.server.metrics.drops.get("rate-limited"), 1);
  // The limit is per connection: others are untouched.
  await bystander.expectQuiet();
});

Deno.test("rate limit: the bucket refills as time passes (one clock reading per turn, read again in the next)", async () => {
  await using t = await startTestServer({
    rateLimitBurst: 2,
    rateLimitPerSecond: 20,
    rateLimitMaxRefusals: 100,
  });
  const client = await t.connect();
  for (let i = 0; i < 3; i++) client.send({ type: "ping", nonce: i });
  assert.equal((await client.next("pong")).nonce, 0);
  assert.equal((await client.next("pong")).nonce, 1);
  assert.equal((await client.next("error")).code, "rate-limited");
  // 150 ms at 20/s: the two tokens are back (the subject here is time).
  await new Promise((resolve) => setTimeout(resolve, 150));
  client.send({ type: "ping", nonce: "after" });
  client.send({ type: "ping", nonce: "again" });
  assert.equal((await client.next("pong")).nonce, "after");
  assert.equal((await client.next("pong")).nonce, "again");
});

Deno.test("heartbeat: a peer that stops answering pings is dropped, one that answers is kept", async () => {
  // A dead peer keeps its place for the grace period, then leaves.
  const grace = 200;
  await using t = await startTestServer({
    heartbeatIntervalMs: 250,
    reconnectGraceMs: grace,
  });
  const broadcaster = await t.connect();
  broadcaster.send({ type: "broadcaster-ready", streamId: "s" });
  await broadcaster.next("broadcaster-accepted");
  const dead = await RawClient.connect(t.server.port);
  assert.match(dead.status, / 101 /);
  await dead.sendText(JSON.stringify({ type: "join-stream", streamId: "s" }));
  const joined = await broadcaster.next("viewer-joined");
  const silentSince = performance.now();

  // The broadcaster's socket answers pings by itself; the raw one never reads.
  const left = await broadcaster.next("viewer-left");
  const silentFor = performance.now() - silentSince;
  assert.equal(left.viewerId, joined.viewerId);
  assert.equal(left.viewerCount, 0);
  assert.equal(t.server.connections.has(joined.viewerId), false);
  assert.ok(silentFor < 250 * 4 + grace, `dropped after ${silentFor} ms`);
  assert.equal(t.server.metrics.graceExpired, 1);
  // The broadcaster was as quiet at the application level, yet it stays.
  await broadcaster.expectQuiet();
  dead.close();
});

Deno.test("MAX_BUFFERED_BYTES: a viewer that stops reading is dropped, one that reads is kept", async () => {
  await using t = await startTestServer({
    maxBufferedBytes: 2 * 1024 * 1024,
    rateLimitBurst: 100_000,
    rateLimitPerSecond: 100_000,
    rateLimitBytesBurst: 1 << 30,
    rateLimitBytesPerSecond: 1 << 30,
  });
  const broadcaster = await t.connect();
  broadcaster.send({ type: "broadcaster-ready", streamId: "s" });
  await broadcaster.next("broadcaster-accepted");
  const healthy = await t.connect();
  healthy.send({ type: "join-stream", streamId: "s" });
  await healthy.next("join-accepted");
  const stuck = await RawClient.connect(t.server.port);
  await stuck.sendText(JSON.stringify({ type: "join-stream", streamId: "s" }));
  await broadcaster.next("viewer-joined");
  assert.equal((await broadcaster.next("viewer-joined")).viewerCount, 2);
  const stuckId = [...t.server.registry.room("s")!.viewers.keys()]
    .find((id) => id !== healthy.id)!;

  // 60 KB in lines a browser could send (MAX_SDP_LINE_BYTES).
  const offer = {
    ...OFFER,
    sdp: OFFER.sdp + `a=x:${"y".repeat(1_000)}\r\n`.repeat(60),
  };
  const BATCH = 10; // 600 KB a batch, well under the 2 MiB cap
  let sent = 0;
  let left;
  // The kernel absorbs a few MB for the stuck peer before anything queues.
  while (!left && sent < 1_000) {
    for (let i = 0; i < BATCH; i++, sent++) {
      for (const viewerId of [healthy.id, stuckId]) {
        broadcaster.send({
          type: "webrtc-offer",
          streamId: "s",
          viewerId,
          offer,
        });
      }
    }
    left = (await broadcaster.sync()).find((m) => m.type === "viewer-left");
    for (let i = 0; i < BATCH; i++) await healthy.next("webrtc-offer");
  }
  assert.ok(left, `not dropped after ${sent} offers of 60 KB`);
  assert.equal(left.viewerId, stuckId);
  assert.ok(sent > BATCH, "dropped by the first burst, not for being stuck");
  assert.equal(t.server.metrics.drops.get("slow-consumer"), 1);
  assert.deepEqual([...t.server.registry.room("s")!.viewers.keys()], [
    healthy.id,
  ]);
  // Offers to the dropped viewer are now refused, not queued.
  broadcaster.send({
    type: "webrtc-offer",
    streamId: "s",
    viewerId: stuckId,
    offer: OFFER,
  });
  const rest = await broadcaster.sync();
  assert.equal(rest.find((m) => m.type === "error")?.type, "error");
  stuck.close();
});

Deno.test("MAX_CONNECTIONS: the next upgrade gets 503 until a connection closes", async () => {
  await using t = await startTestServer({ maxConnections: 2 });
  const first = await t.connect();
  await t.connect();
  const refused = await RawClient.connect(t.server.port);
  assert.match(refused.status, / 503 /);
  refused.close();
  assert.equal(t.server.metrics.connectionsRefused, 1);
  await first.close();
  await t.closedOnServer(first.id);
  const admitted = await TestClient.connect(t.url);
  assert.match(admitted.id, /^client_/);
  await admitted.close();
});

Deno.test("RATE_LIMIT_BYTES: large frames are limited by bytes, not only by count", async () => {
  await using t = await startTestServer({
    maxMessageBytes: 4096,
    rateLimitBytesBurst: 8192,
    rateLimitBytesPerSecond: 1024,
  });
  const client = await t.connect();
  const frame = (n: number) =>
    JSON.stringify({ type: "ping", nonce: n, pad: "x".repeat(3000) });
  client.send(frame(1));
  client.send(frame(2));
  assert.equal((await client.next("pong")).nonce, 1);
  assert.equal((await client.next("pong")).nonce, 2);
  // About 6 KB of 8 KB spent: a third 3 KB frame is over the byte budget.
  client.send(frame(3));
  const error = await client.next("error");
  assert.equal(error.code, "rate-limited");
  assert.match(error.message, /1 KiB\/s \(burst 8 KiB\)/);
  // Small frames still pass.
  client.send({ type: "ping", nonce: 4 });
  assert.equal((await client.next("pong")).nonce, 4);
});

Deno.test("MAX_SDP_MEDIA_SECTIONS, MAX_SDP_LINES, MAX_SDP_LINE_BYTES: an offer or answer over one gets bad-sdp; the connection stays", async () => {
  await using t = await startTestServer({
    maxSdpMediaSections: 2,
    maxSdpLines: 50,
    maxSdpLineBytes: 200,
  });
  const { broadcaster, viewers: [viewer] } = await t.liveStream("s", 1);
  const section = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n";
  const cases: [string, RegExp][] = [
    [OFFER.sdp + section.repeat(3), /at most 2 media sections/],
    [OFFER.sdp + "a=x:y\r\n".repeat(50), /at most 50 lines/],
    [OFFER.sdp + `a=x:${"y".repeat(200)}\r\n`, /at most 200 bytes/],
  ];
  for (const [sdp, reason] of cases) {
    broadcaster.send({
      type: "webrtc-offer",
      streamId: "s",
      viewerId: viewer.id,
      offer: { type: "offer", sdp },
    });
    const error = await broadcaster.next("error");
    assert.equal(error.code, "bad-sdp");
    assert.equal(error.inReplyTo, "webrtc-offer");
    assert.match(error.message, reason);
    viewer.send({
      type: "webrtc-answer",
      streamId: "s",
      answer: { type: "answer", sdp },
    });
    assert.equal((await viewer.next("error")).code, "bad-sdp");
  }
  // Within the limits it is relayed as before.
  broadcaster.send({
    type: "webrtc-offer",
    streamId: "s",
    viewerId: viewer.id,
    offer: { type: "offer", sdp: OFFER.sdp + section.repeat(2) },
  });
  assert.equal(
    (await viewer.next("webrtc-offer")).offer.sdp,
    OFFER.sdp + section.repeat(2),
  );
});
