/**
 * End-to-end encrypted streams (issue 25) as the signaling server routes
 * them, with real servers and real WebSocket clients: a viewer that does
 * not say `join-stream.e2ee` is never paired with a broadcaster that said
 * `broadcaster-ready.e2ee` (an `error` `stream-encrypted`, no
 * `viewer-joined`), stays in the stream, and is paired with the next
 * broadcaster that does not encrypt. One node, and two sharing Redis.
 */
import assert from "node:assert/strict";
import type { ServerMessage } from "../../protocol/messages.ts";
import { DEFAULT_NODE_CONFIG } from "../../server/cluster/node-config.ts";
import { RESUMED_CLOSE_CODE } from "../../server/signaling/signaling-router.ts";
import { OFFER, WHEP_OFFER } from "./support/fixtures.ts";
import { startClusterNodes } from "./support/cluster-nodes.ts";
import { FakeJanus } from "./support/fake-janus.ts";
import { RedisProcess } from "./support/redis-process.ts";
import { TestClient } from "./support/test-client.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const ENCRYPTED = {
  type: "error",
  code: "stream-encrypted",
  message:
    "Stream s is end-to-end encrypted, and this viewer did not say it decrypts (join-stream.e2ee)",
  streamId: "s",
};

async function announce(node: TestServer, e2ee: boolean) {
  const client = await node.connect();
  client.send({
    type: "broadcaster-ready",
    streamId: "s",
    ...(e2ee ? { e2ee } : {}),
  });
  return { client, accepted: await client.next("broadcaster-accepted") };
}

async function join(node: TestServer, e2ee: boolean) {
  const client = await node.connect();
  client.send({
    type: "join-stream",
    streamId: "s",
    ...(e2ee ? { e2ee } : {}),
  });
  return { client, accepted: await client.next("join-accepted") };
}

/** The `viewer-joined` a broadcaster gets, without the fields a test does not fix. */
function joinedOf(message: ServerMessage) {
  assert.equal(message.type, "viewer-joined");
  const { viewerId, viewerCount } = message as ServerMessage & {
    viewerId: string;
    viewerCount: number;
  };
  return { viewerId, viewerCount };
}

Deno.test("e2ee: a keyless viewer of a live encrypted stream gets stream-encrypted and is never paired; a keyed one is", async () => {
  await using t = await startTestServer({}, "error");
  const { client: broadcaster } = await announce(t, true);

  const keyless = await join(t, false);
  assert.equal(keyless.accepted.live, true);
  assert.deepEqual(await keyless.client.next("error"), ENCRYPTED);
  await broadcaster.expectQuiet();
  // Its broadcaster's offer cannot reach it either: the broadcaster was
  // never told of it (a broadcaster naming it anyway is a bug of its own).
  const keyed = await join(t, true);
  assert.equal(keyed.accepted.live, true);
  assert.deepEqual(joinedOf(await broadcaster.next()), {
    viewerId: keyed.client.id,
    // The stream's count: the keyless viewer is in it, waiting.
    viewerCount: 2,
  });
  await keyed.client.expectQuiet();
  // Joining again changes nothing: refused again, and still no viewer-joined.
  keyless.client.send({ type: "join-stream", streamId: "s" });
  await keyless.client.next("join-accepted");
  assert.deepEqual(await keyless.client.next("error"), ENCRYPTED);
  await broadcaster.expectQuiet();
  await keyless.client.expectQuiet();
});

Deno.test("e2ee: viewers waiting when an encrypting broadcaster arrives: the keyless one gets stream-encrypted, the keyed one is paired", async () => {
  await using t = await startTestServer({}, "error");
  const keyless = await join(t, false);
  const keyed = await join(t, true);
  assert.equal(keyless.accepted.live, false);

  const { client: broadcaster, accepted } = await announce(t, true);
  assert.equal(accepted.viewerCount, 2);
  assert.deepEqual(await keyless.client.next("error"), ENCRYPTED);
  await keyless.client.expectQuiet();
  assert.deepEqual(await keyed.client.next("broadcaster-joined"), {
    type: "broadcaster-joined",
    streamId: "s",
  });
  assert.deepEqual(joinedOf(await broadcaster.next()), {
    viewerId: keyed.client.id,
    viewerCount: 2,
  });
  await broadcaster.expectQuiet();

  // It stays in the stream: when the encrypting broadcaster leaves and one
  // that does not encrypt arrives, it is paired.
  await broadcaster.close();
  await keyless.client.next("broadcaster-left");
  await keyed.client.next("broadcaster-left");
  const { client: clear } = await announce(t, false);
  await keyless.client.next("broadcaster-joined");
  await keyed.client.next("broadcaster-joined");
  const told = [await clear.next(), await clear.next()].map(joinedOf)
    .map(({ viewerId }) => viewerId);
  assert.deepEqual(
    new Set(told),
    new Set([keyless.client.id, keyed.client.id]),
  );
  clear.send({
    type: "webrtc-offer",
    streamId: "s",
    viewerId: keyless.client.id,
    offer: OFFER,
  });
  assert.equal(
    (await keyless.client.next("webrtc-offer")).viewerId,
    keyless.client.id,
  );
});

Deno.test("e2ee: the same broadcaster announcing again with the flag changed: the keyless viewer is paired, then refused again", async () => {
  await using t = await startTestServer({}, "error");
  const { client: broadcaster } = await announce(t, true);
  const keyless = await join(t, false);
  const keyed = await join(t, true);
  await keyless.client.next("error");
  joinedOf(await broadcaster.next());

  // Clear now: the viewer that waited hears a broadcaster is live for it.
  broadcaster.send({ type: "broadcaster-ready", streamId: "s" });
  await broadcaster.next("broadcaster-accepted");
  await keyless.client.next("broadcaster-joined");
  await keyed.client.expectQuiet();
  const clear = [await broadcaster.next(), await broadcaster.next()]
    .map(joinedOf).map(({ viewerId }) => viewerId);
  assert.deepEqual(
    new Set(clear),
    new Set([keyless.client.id, keyed.client.id]),
  );

  // The same flag again: nobody new to tell.
  broadcaster.send({ type: "broadcaster-ready", streamId: "s" });
  await broadcaster.next("broadcaster-accepted");
  assert.equal(joinedOf(await broadcaster.next()).viewerCount, 2);
  assert.equal(joinedOf(await broadcaster.next()).viewerCount, 2);
  await keyless.client.expectQuiet();

  // Encrypted again: refused again, and the broadcaster is told of the
  // keyed viewer alone.
  broadcaster.send({ type: "broadcaster-ready", streamId: "s", e2ee: true });
  await broadcaster.next("broadcaster-accepted");
  assert.deepEqual(await keyless.client.next("error"), ENCRYPTED);
  assert.deepEqual(joinedOf(await broadcaster.next()), {
    viewerId: keyed.client.id,
    viewerCount: 2,
  });
  await broadcaster.expectQuiet();
  await keyed.client.expectQuiet();
});

Deno.test("e2ee: a keyed viewer of a stream that does not encrypt is paired as any viewer (its own transforms refuse plaintext)", async () => {
  await using t = await startTestServer({}, "error");
  const { client: broadcaster } = await announce(t, false);
  const keyed = await join(t, true);
  assert.deepEqual(joinedOf(await broadcaster.next()), {
    viewerId: keyed.client.id,
    viewerCount: 1,
  });
  await keyed.client.expectQuiet();
});

/**
 * Two nodes sharing one real Redis, stopped at the end whatever happens.
 * `links`: frames between them over node links (the default), else Redis
 * pub/sub, where the join script itself tells the broadcaster's node.
 */
async function twoNodes(links: boolean) {
  const redis = await RedisProcess.start();
  const nodes = await startClusterNodes(redis, 2, {
    nodes: { ...DEFAULT_NODE_CONFIG, links },
  });
  return {
    redis,
    nodes,
    async [Symbol.asyncDispose]() {
      await Promise.all(nodes.map((node) => node[Symbol.asyncDispose]()));
      await redis[Symbol.asyncDispose]();
    },
  };
}

for (const links of [true, false]) {
  Deno.test(`e2ee, two nodes (links ${links ? "on" : "off"}): the flag lives in the stream's record in Redis; a keyless viewer on the other node is refused, a keyed one paired`, async () => {
    await using c = await twoNodes(links);
    const [a, b] = c.nodes;
    // Waiting on B before the broadcaster is live on A.
    const waiting = await join(b, false);
    const { client: broadcaster, accepted } = await announce(a, true);
    assert.equal(accepted.viewerCount, 1);
    assert.equal(await c.redis.inspector.hget("lw:s:s", "e2"), "1");
    assert.deepEqual(await waiting.client.next("error"), ENCRYPTED);

    // Joining on B while A's broadcaster is live: the store's one join step
    // decides, and sends nothing to A for the keyless viewer.
    const keyless = await join(b, false);
    assert.deepEqual(await keyless.client.next("error"), ENCRYPTED);
    const keyed = await join(b, true);
    assert.deepEqual(joinedOf(await broadcaster.next()), {
      viewerId: keyed.client.id,
      viewerCount: 3,
    });
    await broadcaster.expectQuiet();
    assert.match(
      (await c.redis.inspector.hget("lw:v:s", keyed.client.id))!,
      / 1$/,
    );

    // The keyed viewer resumes on A: its seat keeps the flag, so the next
    // encrypting broadcaster is paired with it.
    const back = await TestClient.connect(
      `${a.url}?resume=${encodeURIComponent(keyed.accepted.resume!)}`,
    );
    assert.equal(back.id, keyed.client.id);
    assert.equal((await keyed.client.closed).code, RESUMED_CLOSE_CODE);
    assert.match((await c.redis.inspector.hget("lw:v:s", back.id))!, / 1$/);
    await broadcaster.close();
    await back.next("broadcaster-left");
    const { client: next } = await announce(b, true);
    await back.next("broadcaster-joined");
    assert.deepEqual(joinedOf(await next.next()), {
      viewerId: back.id,
      viewerCount: 3,
    });
    await next.expectQuiet();
    assert.deepEqual(await waiting.client.next("broadcaster-left"), {
      type: "broadcaster-left",
      streamId: "s",
    });
    assert.deepEqual(await waiting.client.next("error"), ENCRYPTED);
    // Gone with its broadcaster: a stream that is not live has no flag.
    await next.close();
    await back.next("broadcaster-left");
    assert.equal(await c.redis.inspector.hget("lw:s:s", "e2"), null);
  });
}

Deno.test("e2ee, WHEP: a player of an encrypted stream gets 409 stream-encrypted (with an offer or without); Janus is asked nothing, the broadcaster never told to publish", async () => {
  await using janus = FakeJanus.start();
  await using t = await startTestServer({ janusUrl: janus.url }, "error");
  await t.sfuLinked();
  const { client: broadcaster } = await announce(t, true);
  const base = t.url.replace("ws://", "http://").replace(/\/ws$/, "");
  for (const body of [WHEP_OFFER, ""]) {
    const response = await fetch(`${base}/whep/s`, {
      method: "POST",
      headers: { "content-type": "application/sdp" },
      body,
    });
    assert.equal(response.status, 409, JSON.stringify(body.slice(0, 9)));
    assert.equal(
      response.headers.get("content-type"),
      "application/problem+json",
    );
    const problem = await response.json();
    assert.equal(problem.status, 409);
    assert.equal(problem.error, "stream-encrypted");
    assert.equal(problem.detail, ENCRYPTED.message);
    assert.equal(response.headers.get("location"), null);
    // Its place in the stream goes with its session: the broadcaster,
    // never told of it, hears it left (as of a refused SFU-only viewer).
    const left = await broadcaster.next("viewer-left");
    assert.equal(left.viewerCount, 0);
  }
  // A WHEP player alone would have taken the stream to the SFU: not this
  // one (no sfu-publish), and Janus got no request at all.
  await broadcaster.expectQuiet();
  assert.deepEqual(janus.messages, []);
  // GET says nothing of the stream: 204, no content (the WHEP draft).
  const get = await fetch(`${base}/whep/s`);
  await get.body?.cancel();
  assert.equal(get.status, 204);
});
