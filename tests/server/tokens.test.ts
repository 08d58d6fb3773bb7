/** SIGNAL_SECRET set: announces and joins need a valid stream token. */
import assert from "node:assert/strict";
import { SignJWT, UnsecuredJWT } from "jose";
import { REPLACED_CLOSE_CODE } from "../../server/signaling/signaling-router.ts";
import { mintToken, type StreamClaims } from "../../server/security/tokens.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const SECRET = "a-test-secret-of-at-least-32-bytes!!";
const viewerOf = (stream: string, sub = "customer-1"): StreamClaims => ({
  sub,
  stream,
  role: "viewer",
});
const broadcasterOf = (stream: string, sub = "shop-1"): StreamClaims => ({
  sub,
  stream,
  role: "broadcaster",
});

function secured() {
  return startTestServer({ signalSecret: SECRET });
}

/** A live stream whose broadcaster and viewer got in with tokens. */
async function liveWithTokens(t: TestServer, streamId: string) {
  const broadcaster = await t.connect();
  broadcaster.send({
    type: "broadcaster-ready",
    streamId,
    token: await mintToken(SECRET, broadcasterOf(streamId)),
  });
  await broadcaster.next("broadcaster-accepted");
  const viewer = await t.connect();
  viewer.send({
    type: "join-stream",
    streamId,
    token: await mintToken(SECRET, viewerOf(streamId)),
  });
  await viewer.next("join-accepted");
  await broadcaster.next("viewer-joined");
  return { broadcaster, viewer };
}

Deno.test("valid tokens admit, and the audit trail names the subject", async () => {
  await using t = await secured();
  const { viewer } = await liveWithTokens(t, "order-1");
  assert.equal(
    t.server.registry.membershipOf(viewer.id)?.identity?.subject,
    "customer-1",
  );
  const audit = t.logs.map((line) => JSON.parse(line)).filter((e) =>
    e.event === "audit"
  );
  assert.deepEqual(
    audit.map((e) => [e.kind, e.role, e.subject]),
    [
      ["admitted", "broadcaster", "shop-1"],
      ["joined", "broadcaster", "shop-1"],
      ["admitted", "viewer", "customer-1"],
      ["joined", "viewer", "customer-1"],
    ],
  );
});

Deno.test("every bad token is refused with its own code; nothing joins, nothing reaches the room", async () => {
  await using t = await secured();
  const { broadcaster } = await liveWithTokens(t, "order-1");
  const key = new TextEncoder().encode(SECRET);
  const now = Math.floor(Date.now() / 1000);
  const cases: [string, string | undefined, string][] = [
    ["no token", undefined, "token-required"],
    ["garbage", "not-a-jwt", "token-malformed"],
    [
      "other secret",
      await mintToken(
        "another-secret-that-is-32-bytes-long",
        viewerOf("order-1"),
      ),
      "token-signature",
    ],
    [
      "alg none",
      new UnsecuredJWT({ stream: "order-1", role: "viewer" }).setSubject("x")
        .setExpirationTime("1h").encode(),
      "token-algorithm",
    ],
    [
      "HS512",
      await new SignJWT({ stream: "order-1", role: "viewer" })
        .setProtectedHeader({ alg: "HS512" }).setSubject("x")
        .setExpirationTime("1h").sign(key),
      "token-algorithm",
    ],
    [
      "expired",
      await mintToken(SECRET, viewerOf("order-1"), { ttlSeconds: -10 }),
      "token-expired",
    ],
    [
      "not yet valid",
      await mintToken(SECRET, viewerOf("order-1"), { notBeforeSeconds: 600 }),
      "token-not-yet-valid",
    ],
    [
      "other stream",
      await mintToken(SECRET, viewerOf("order-2")),
      "token-wrong-stream",
    ],
    [
      "broadcaster token for a viewer",
      await mintToken(SECRET, broadcasterOf("order-1")),
      "token-wrong-role",
    ],
    [
      "no exp",
      await new SignJWT({ stream: "order-1", role: "viewer" })
        .setProtectedHeader({ alg: "HS256" }).setSubject("x").sign(key),
      "token-malformed",
    ],
    [
      "issued in the future? fine, but no sub",
      await new SignJWT({ stream: "order-1", role: "viewer" })
        .setProtectedHeader({ alg: "HS256" }).setExpirationTime(now + 60).sign(
          key,
        ),
      "token-malformed",
    ],
  ];
  const intruder = await t.connect();
  for (const [what, token, code] of cases) {
    intruder.send({
      type: "join-stream",
      streamId: "order-1",
      ...(token ? { token } : {}),
    });
    const error = await intruder.next("error");
    assert.equal(error.code, code, what);
    assert.equal(error.inReplyTo, "join-stream", what);
    assert.equal(t.server.registry.membershipOf(intruder.id), undefined, what);
  }
  // A viewer token cannot announce either.
  intruder.send({
    type: "broadcaster-ready",
    streamId: "order-1",
    token: await mintToken(SECRET, viewerOf("order-1")),
  });
  assert.equal((await intruder.next("error")).code, "token-wrong-role");
  await broadcaster.expectQuiet();
  const refusals = t.logs.map((l) => JSON.parse(l)).filter((e) =>
    e.event === "audit" && e.kind === "refused"
  );
  assert.equal(refusals.length, cases.length + 1);
});

Deno.test("the same subject takes over a stale broadcaster session; anyone else gets stream-taken", async () => {
  await using t = await secured();
  const { broadcaster: stale, viewer } = await liveWithTokens(t, "order-1");

  const other = await t.connect();
  other.send({
    type: "broadcaster-ready",
    streamId: "order-1",
    token: await mintToken(SECRET, broadcasterOf("order-1", "shop-2")),
  });
  assert.equal((await other.next("error")).code, "stream-taken");

  const fresh = await t.connect();
  fresh.send({
    type: "broadcaster-ready",
    streamId: "order-1",
    token: await mintToken(SECRET, broadcasterOf("order-1")),
  });
  assert.equal((await stale.next("error")).code, "replaced");
  assert.equal((await stale.closed).code, REPLACED_CLOSE_CODE);
  assert.equal((await fresh.next("broadcaster-accepted")).viewerCount, 1);
  assert.equal((await fresh.next("viewer-joined")).viewerId, viewer.id);
  await viewer.next("broadcaster-left");
  await viewer.next("broadcaster-joined");
  assert.equal(t.server.registry.room("order-1")?.broadcaster?.id, fresh.id);
  assert.equal(t.server.metrics.drops.get("replaced"), 1);
});

Deno.test("a broadcaster token's maxViewers caps the stream below the server's limit", async () => {
  await using t = await secured();
  const broadcaster = await t.connect();
  broadcaster.send({
    type: "broadcaster-ready",
    streamId: "order-1",
    token: await mintToken(SECRET, {
      ...broadcasterOf("order-1"),
      maxViewers: 1,
    }),
  });
  await broadcaster.next("broadcaster-accepted");
  const first = await t.connect();
  first.send({
    type: "join-stream",
    streamId: "order-1",
    token: await mintToken(SECRET, viewerOf("order-1", "a")),
  });
  await first.next("join-accepted");
  const second = await t.connect();
  second.send({
    type: "join-stream",
    streamId: "order-1",
    token: await mintToken(SECRET, viewerOf("order-1", "b")),
  });
  const error = await second.next("error");
  assert.equal(error.code, "stream-full");
  assert.match(error.message, /maximum of 1 viewers/);
});

Deno.test("messages after a join wait for its token check: order is kept", async () => {
  await using t = await secured();
  const viewer = await t.connect();
  const token = await mintToken(SECRET, viewerOf("order-1"));
  viewer.send({ type: "join-stream", streamId: "order-1", token });
  viewer.send({ type: "leave-stream", streamId: "order-1" });
  viewer.send({ type: "ping", nonce: "after" });
  // Were the leave handled before the join, it would be refused (not-in-stream).
  assert.equal((await viewer.next("join-accepted")).live, false);
  assert.deepEqual(await viewer.next("pong"), { type: "pong", nonce: "after" });
  assert.equal(t.server.registry.memberCount, 0);
});

Deno.test("a socket that closes while its token is checked is not added", async () => {
  await using t = await secured();
  const viewer = await t.connect();
  viewer.send({
    type: "join-stream",
    streamId: "order-1",
    token: await mintToken(SECRET, viewerOf("order-1")),
  });
  await viewer.close();
  await t.closedOnServer(viewer.id);
  // Let any verification still in flight finish, then look.
  const probe = await t.connect();
  await probe.sync();
  assert.equal(t.server.registry.memberCount, 0);
  assert.equal(t.server.registry.roomCount, 0);
});

Deno.test("`deno task token` prints a token the server accepts, on its last line", async () => {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-env",
      "server/security/mint-token.ts",
      "--stream",
      "order-9",
      "--role",
      "viewer",
      "--ttl",
      "1h",
      "--sub",
      "cust-7",
    ],
    env: { SIGNAL_SECRET: SECRET },
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.equal(code, 0);
  const token = new TextDecoder().decode(stdout).trim().split("\n").at(-1)!;
  await using t = await secured();
  const viewer = await t.connect();
  viewer.send({ type: "join-stream", streamId: "order-9", token });
  await viewer.next("join-accepted");
  assert.equal(
    t.server.registry.membershipOf(viewer.id)?.identity?.subject,
    "cust-7",
  );
});
