/** Our additions to the seed: welcome, waiting viewers, leaving, re-announcing. */
import assert from "node:assert/strict";
import { PROTOCOL_VERSION } from "../../protocol/messages.ts";
import { TestClient } from "./support/test-client.ts";
import { startTestServer } from "./support/test-server.ts";

Deno.test("every connection is welcomed with a unique server-assigned id", async () => {
  await using t = await startTestServer();
  const ids = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const client = await TestClient.open(t.url);
    const welcome = await client.next("welcome");
    assert.equal(welcome.protocolVersion, PROTOCOL_VERSION);
    assert.match(welcome.clientId, /^client_[0-9a-z]{12}$/);
    ids.add(welcome.clientId);
    await client.close();
  }
  assert.equal(ids.size, 20);
});

Deno.test("viewers who join first wait, and all get an offer path when the broadcaster arrives", async () => {
  await using t = await startTestServer();
  const a = await t.connect();
  const b = await t.connect();
  a.send({ type: "join-stream", streamId: "order-1" });
  b.send({ type: "join-stream", streamId: "order-1" });
  const { resume: viewerResume, ...accepted } = await a.next("join-accepted");
  assert.deepEqual(accepted, {
    type: "join-accepted",
    streamId: "order-1",
    viewerId: a.id,
    live: false,
  });
  assert.match(viewerResume!, /^1~/);
  assert.equal((await b.next("join-accepted")).live, false);

  const broadcaster = await t.connect();
  broadcaster.send({ type: "broadcaster-ready", streamId: "order-1" });
  const { resume, ...announced0 } = await broadcaster.next(
    "broadcaster-accepted",
  );
  assert.deepEqual(announced0, {
    type: "broadcaster-accepted",
    streamId: "order-1",
    viewerCount: 2,
  });
  assert.match(resume!, /^1~/);
  const announced = [
    (await broadcaster.next("viewer-joined")).viewerId,
    (await broadcaster.next("viewer-joined")).viewerId,
  ];
  assert.deepEqual(announced, [a.id, b.id]);
  assert.deepEqual(await a.next("broadcaster-joined"), {
    type: "broadcaster-joined",
    streamId: "order-1",
  });
  await b.next("broadcaster-joined");
  await broadcaster.expectQuiet();
});

Deno.test("a viewer joining a live stream is announced with the new count", async () => {
  await using t = await startTestServer();
  const broadcaster = await t.connect();
  broadcaster.send({ type: "broadcaster-ready", streamId: "s" });
  assert.equal((await broadcaster.next("broadcaster-accepted")).viewerCount, 0);
  const viewer = await t.connect();
  viewer.send({ type: "join-stream", streamId: "s" });
  assert.equal((await viewer.next("join-accepted")).live, true);
  assert.deepEqual(await broadcaster.next("viewer-joined"), {
    type: "viewer-joined",
    streamId: "s",
    viewerId: viewer.id,
    viewerCount: 1,
  });
  await broadcaster.expectQuiet();
});

Deno.test("a viewer that drops or leaves is reported to the broadcaster", async () => {
  await using t = await startTestServer();
  const { broadcaster, viewers: [leaver, dropper] } = await t.liveStream(
    "s",
    2,
  );

  leaver.send({ type: "leave-stream", streamId: "s" });
  await leaver.expectQuiet();
  assert.deepEqual(await broadcaster.next("viewer-left"), {
    type: "viewer-left",
    streamId: "s",
    viewerId: leaver.id,
    viewerCount: 1,
  });
  assert.equal(
    t.server.connections.has(leaver.id),
    true,
    "leaving keeps the socket",
  );

  await dropper.close();
  assert.deepEqual(await broadcaster.next("viewer-left"), {
    type: "viewer-left",
    streamId: "s",
    viewerId: dropper.id,
    viewerCount: 0,
  });
  assert.equal(t.server.registry.viewerCount, 0);
});

Deno.test("viewers hear broadcaster-left, stay, and are offered again to a reconnecting broadcaster", async () => {
  await using t = await startTestServer();
  const viewers = [await t.connect(), await t.connect()];
  for (const viewer of viewers) {
    viewer.send({ type: "join-stream", streamId: "s" });
    await viewer.next("join-accepted");
  }
  const first = await t.connect();
  first.send({ type: "broadcaster-ready", streamId: "s" });
  await first.next("broadcaster-accepted");
  for (const viewer of viewers) await viewer.next("broadcaster-joined");

  await first.close();
  for (const viewer of viewers) {
    assert.deepEqual(await viewer.next("broadcaster-left"), {
      type: "broadcaster-left",
      streamId: "s",
    });
  }
  assert.equal(t.server.registry.room("s")?.viewers.size, 2);

  const second = await t.connect();
  second.send({ type: "broadcaster-ready", streamId: "s" });
  assert.equal((await second.next("broadcaster-accepted")).viewerCount, 2);
  const again = new Set([
    (await second.next("viewer-joined")).viewerId,
    (await second.next("viewer-joined")).viewerId,
  ]);
  assert.deepEqual(again, new Set(viewers.map((v) => v.id)));
  for (const viewer of viewers) await viewer.next("broadcaster-joined");
});

Deno.test("an explicit leave by the broadcaster frees the stream for another", async () => {
  await using t = await startTestServer();
  const viewer = await t.connect();
  const first = await t.connect();
  const second = await t.connect();
  viewer.send({ type: "join-stream", streamId: "s" });
  await viewer.next("join-accepted");
  first.send({ type: "broadcaster-ready", streamId: "s" });
  await first.next("broadcaster-accepted");
  await first.next("viewer-joined");
  first.send({ type: "leave-stream", streamId: "s" });
  await first.expectQuiet();
  await viewer.next("broadcaster-joined");
  await viewer.next("broadcaster-left");
  second.send({ type: "broadcaster-ready", streamId: "s" });
  await second.next("broadcaster-accepted");
  assert.equal((await second.next("viewer-joined")).viewerId, viewer.id);
});

Deno.test("re-announcing on the same socket replays viewer-joined without telling viewers twice", async () => {
  await using t = await startTestServer();
  const { broadcaster, viewers: [viewer] } = await t.liveStream("s", 1);

  broadcaster.send({ type: "broadcaster-ready", streamId: "s" });
  assert.equal((await broadcaster.next("broadcaster-accepted")).viewerCount, 1);
  assert.equal((await broadcaster.next("viewer-joined")).viewerId, viewer.id);
  await broadcaster.expectQuiet();
  await viewer.expectQuiet();
});

Deno.test("a viewer re-joining asks its broadcaster for a fresh offer", async () => {
  await using t = await startTestServer();
  const { broadcaster, viewers: [viewer] } = await t.liveStream("s", 1);

  viewer.send({ type: "join-stream", streamId: "s" });
  assert.equal((await viewer.next("join-accepted")).live, true);
  assert.equal((await broadcaster.next("viewer-joined")).viewerId, viewer.id);
  await broadcaster.expectQuiet();
  assert.equal(t.server.registry.viewerCount, 1);
});

Deno.test("joining another stream leaves the first one", async () => {
  await using t = await startTestServer();
  const { broadcaster, viewers: [client] } = await t.liveStream("a", 1);

  client.send({ type: "broadcaster-ready", streamId: "b" });
  await client.next("broadcaster-accepted");
  assert.equal((await broadcaster.next("viewer-left")).viewerId, client.id);
  assert.equal(t.server.registry.membershipOf(client.id)?.role, "broadcaster");
  assert.equal(t.server.registry.room("a")?.viewers.size, 0);
});

Deno.test("ping is answered with pong echoing the nonce", async () => {
  await using t = await startTestServer();
  const client = await t.connect();
  client.send({ type: "ping", nonce: 42 });
  assert.deepEqual(await client.next("pong"), { type: "pong", nonce: 42 });
  client.send({ type: "ping" });
  assert.deepEqual(await client.next("pong"), { type: "pong" });
});
