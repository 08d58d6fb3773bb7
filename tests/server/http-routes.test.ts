/** /healthz, /metrics, and what the server says to plain HTTP. */
import assert from "node:assert/strict";
import { startTestServer } from "./support/test-server.ts";

Deno.test("/healthz answers JSON with live counts", async () => {
  await using t = await startTestServer();
  await t.liveStream("s", 1);
  const response = await fetch(`http://127.0.0.1:${t.server.port}/healthz`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/json");
  const body = await response.json();
  assert.equal(body.status, "ok");
  assert.equal(body.connections, 2);
  assert.equal(body.streams, 1);
  assert.equal(body.liveStreams, 1);
  assert.equal(body.viewers, 1);
  assert.equal(typeof body.uptimeSeconds, "number");
});

Deno.test("/metrics answers Prometheus text with connections, streams, viewers and routed messages", async () => {
  await using t = await startTestServer();
  const { broadcaster, viewers: [viewer] } = await t.liveStream("s", 1);
  broadcaster.send({
    type: "webrtc-offer",
    streamId: "s",
    viewerId: viewer.id,
    offer: { type: "offer", sdp: "v=0" },
  });
  await viewer.next("webrtc-offer");
  const response = await fetch(`http://127.0.0.1:${t.server.port}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type")!, /^text\/plain/);
  const text = await response.text();
  for (
    const line of [
      "live_connections 2",
      "live_streams 1",
      "live_streams_live 1",
      "live_viewers 1",
      "live_messages_routed_total 1",
      "live_connections_accepted_total 2",
    ]
  ) {
    assert.ok(text.split("\n").includes(line), `missing ${line}`);
  }
  // Every sample has HELP and TYPE lines.
  for (const name of new Set(text.match(/^[a-z_]+(?=[{ ])/gm))) {
    assert.ok(text.includes(`# TYPE ${name} `), `no TYPE for ${name}`);
  }
});

Deno.test("plain HTTP: 426 on /ws without upgrade, 404 elsewhere, 405 on POST", async () => {
  await using t = await startTestServer();
  const base = `http://127.0.0.1:${t.server.port}`;
  const ws = await fetch(`${base}/ws`);
  assert.equal(ws.status, 426);
  assert.equal((await ws.json()).error, "upgrade-required");
  const missing = await fetch(`${base}/nope`);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
  const post = await fetch(`${base}/healthz`, { method: "POST" });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  await post.body?.cancel();
});

Deno.test("refusals are RFC 9457 problem details with our code in `error`", async () => {
  await using t = await startTestServer();
  const response = await fetch(`http://127.0.0.1:${t.server.port}/nope`);
  assert.equal(response.status, 404);
  assert.equal(
    response.headers.get("content-type"),
    "application/problem+json",
  );
  assert.deepEqual(await response.json(), {
    type: "about:blank",
    title: "Not Found",
    status: 404,
    detail: "No such path",
    error: "not-found",
    message: "No such path",
  });
});
