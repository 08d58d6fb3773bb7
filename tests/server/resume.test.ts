/**
 * Sessions that survive a reconnect: a client back on a new socket keeps its
 * id and its place; a dropped one keeps its place for the grace period; a
 * restarted server with the same secret honours the claim; a forged, expired
 * or misused claim is refused.
 */
import assert from "node:assert/strict";
import { ResumeTokens } from "../../server/security/resume-token.ts";
import type { ServerMessage } from "../../protocol/messages.ts";
import { RawClient } from "./support/raw-client.ts";
import { TestClient } from "./support/test-client.ts";
import { startTestServer } from "./support/test-server.ts";

const SECRET = "resume-test-secret-of-32-bytes-or-more";
const GRACE_MS = 400;

function secured(overrides = {}) {
  return startTestServer({
    resumeSecret: SECRET,
    reconnectGraceMs: GRACE_MS,
    ...overrides,
  });
}

function withResume(url: string, claim: string): string {
  return `${url}?resume=${encodeURIComponent(claim)}`;
}

/** The resume claim a message carries. */
function claimOf(message: ServerMessage): string {
  const claim = (message as { resume?: string }).resume;
  assert.ok(claim, `no resume claim in ${JSON.stringify(message)}`);
  return claim;
}

Deno.test("a viewer back on a new socket keeps its id and place; its stale socket is closed; the broadcaster hears of no leave", async () => {
  await using t = await secured();
  const broadcaster = await t.connect();
  broadcaster.send({ type: "broadcaster-ready", streamId: "s" });
  await broadcaster.next("broadcaster-accepted");
  const viewer = await t.connect();
  viewer.send({ type: "join-stream", streamId: "s", session: "4611686018" });
  const claim = claimOf(await viewer.next("join-accepted"));
  assert.equal((await broadcaster.next("viewer-joined")).session, "4611686018");

  const back = await TestClient.connect(withResume(t.url, claim));
  assert.equal(back.id, viewer.id);
  assert.equal(back.welcome!.resumed, true);
  assert.equal((await viewer.closed).code, 4002);
  back.send({ type: "join-stream", streamId: "s", session: "4611686018" });
  const accepted = await back.next("join-accepted");
  assert.equal(accepted.live, true);
  // Told that the viewer still holds its connection, not that it left.
  const joined = await broadcaster.next("viewer-joined");
  assert.deepEqual(
    [joined.viewerId, joined.viewerCount, joined.session],
    [viewer.id, 1, "4611686018"],
  );
  await broadcaster.expectQuiet();
  assert.equal(t.server.metrics.sessionsResumed, 1);
  assert.equal(t.server.registry.viewerCount, 1);
  await back.close();
});

Deno.test("a broadcaster back on a new socket is not refused by its own stale one; viewers hear nothing", async () => {
  await using t = await secured();
  const { broadcaster, viewers: [viewer] } = await t.liveStream("s", 1);
  broadcaster.send({ type: "ping" });
  const claim = claimOf(await broadcaster.next("pong"));

  const back = await TestClient.connect(withResume(t.url, claim));
  assert.equal(back.id, broadcaster.id);
  back.send({ type: "broadcaster-ready", streamId: "s" });
  const accepted = await back.next("broadcaster-accepted");
  assert.equal(accepted.viewerCount, 1);
  assert.ok(accepted.resume);
  assert.equal((await back.next("viewer-joined")).viewerId, viewer.id);
  assert.equal((await broadcaster.closed).code, 4002);
  await viewer.expectQuiet();
  // Routing goes to the new socket.
  viewer.send({
    type: "webrtc-answer",
    streamId: "s",
    answer: { type: "answer", sdp: "v=0\r\n" },
  });
  assert.equal((await back.next("webrtc-answer")).viewerId, viewer.id);
  await back.close();
});

Deno.test("a dropped broadcaster keeps its place for the grace period: back in time, viewers never hear it left", async () => {
  await using t = await secured();
  const raw = await RawClient.connect(t.server.port);
  await raw.sendText(
    JSON.stringify({ type: "broadcaster-ready", streamId: "s" }),
  );
  const viewer = await t.connect();
  viewer.send({ type: "join-stream", streamId: "s" });
  assert.equal((await viewer.next("join-accepted")).live, true);
  const id = t.server.registry.room("s")!.broadcaster!.id;
  const claim = new ResumeTokens(SECRET, 60).issue({
    clientId: id,
    streamId: "s",
    role: "broadcaster",
  });

  raw.close(); // no close frame: a drop
  await t.closedOnServer(id);
  const back = await TestClient.connect(withResume(t.url, claim));
  assert.equal(back.id, id);
  back.send({ type: "broadcaster-ready", streamId: "s" });
  assert.equal((await back.next("broadcaster-accepted")).viewerCount, 1);
  await back.next("viewer-joined");
  // Longer than the grace period: nothing was announced, nothing will be.
  await new Promise((resolve) => setTimeout(resolve, GRACE_MS * 2));
  await viewer.expectQuiet();
  assert.equal(t.server.metrics.graceExpired, 0);
  await back.close();
});

Deno.test("a dropped viewer not back within the grace period leaves then, not before", async () => {
  await using t = await secured();
  const broadcaster = await t.connect();
  broadcaster.send({ type: "broadcaster-ready", streamId: "s" });
  await broadcaster.next("broadcaster-accepted");
  const raw = await RawClient.connect(t.server.port);
  await raw.sendText(JSON.stringify({ type: "join-stream", streamId: "s" }));
  const { viewerId } = await broadcaster.next("viewer-joined");
  raw.close();
  await t.closedOnServer(viewerId);
  const droppedAt = performance.now();
  await broadcaster.expectQuiet();
  const left = await broadcaster.next("viewer-left");
  const after = performance.now() - droppedAt;
  assert.equal(left.viewerId, viewerId);
  assert.ok(after >= GRACE_MS - 50, `left after ${after} ms`);
  assert.equal(t.server.metrics.graceExpired, 1);
});

Deno.test("a goodbye is announced at once: a clean close, or leave-stream", async () => {
  await using t = await secured({ reconnectGraceMs: 60_000 });
  const { broadcaster, viewers: [a, b] } = await t.liveStream("s", 2);
  await a.close();
  assert.equal((await broadcaster.next("viewer-left")).viewerId, a.id);
  b.send({ type: "leave-stream", streamId: "s" });
  assert.equal((await broadcaster.next("viewer-left")).viewerId, b.id);
});

Deno.test("a resumed socket closed cleanly before it says anything is an attempt given up, not a goodbye: the place waits for the next", async () => {
  await using t = await secured({ reconnectGraceMs: 60_000 });
  const { broadcaster, viewers: [viewer] } = await t.liveStream("s", 1);
  viewer.send({ type: "ping" });
  const claim = claimOf(await viewer.next("pong"));
  // Chromium closes an attempt it dropped while connecting with a clean
  // 1001; a page's WebSocket may send 1000, a goodbye code as well.
  const abandoned = await TestClient.connect(withResume(t.url, claim));
  assert.equal(abandoned.welcome!.resumed, true);
  abandoned.socket.close(1000);
  assert.equal((await abandoned.closed).code, 1000);
  await broadcaster.expectQuiet();
  const back = await TestClient.connect(withResume(t.url, claim));
  assert.equal(back.id, viewer.id);
  back.send({ type: "join-stream", streamId: "s" });
  assert.equal((await back.next("join-accepted")).live, true);
  // Back in its place: joined again, never left.
  assert.equal((await broadcaster.next("viewer-joined")).viewerId, viewer.id);
  await broadcaster.expectQuiet();
});

Deno.test("after a restart with the same secret the claim keeps the id; the stream is made anew", async () => {
  const first = await secured();
  const { broadcaster, viewers: [viewer] } = await first.liveStream("s", 1);
  viewer.send({ type: "ping" });
  const viewerClaim = claimOf(await viewer.next("pong"));
  broadcaster.send({ type: "ping" });
  const broadcasterClaim = claimOf(await broadcaster.next("pong"));
  const ids = { viewer: viewer.id, broadcaster: broadcaster.id };
  await first[Symbol.asyncDispose]();

  await using t = await secured();
  const viewerBack = await TestClient.connect(withResume(t.url, viewerClaim));
  assert.equal(viewerBack.id, ids.viewer);
  viewerBack.send({ type: "join-stream", streamId: "s", session: "77" });
  assert.equal((await viewerBack.next("join-accepted")).live, false);
  const broadcasterBack = await TestClient.connect(
    withResume(t.url, broadcasterClaim),
  );
  assert.equal(broadcasterBack.id, ids.broadcaster);
  broadcasterBack.send({ type: "broadcaster-ready", streamId: "s" });
  assert.equal(
    (await broadcasterBack.next("broadcaster-accepted")).viewerCount,
    1,
  );
  const joined = await broadcasterBack.next("viewer-joined");
  assert.deepEqual([joined.viewerId, joined.session], [ids.viewer, "77"]);
  await viewerBack.next("broadcaster-joined");
});

Deno.test("without a secret a claim holds where its STATE_DIR's key does: not with another one's", async () => {
  // A second STATE_DIR: a rotated key (tests/server/state-key.test.ts
  // restarts real processes on one).
  const [dirA, dirB] = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  const first = await startTestServer({
    reconnectGraceMs: GRACE_MS,
    stateDir: dirA,
  });
  const viewer = await first.connect();
  viewer.send({ type: "join-stream", streamId: "s" });
  const claim = claimOf(await viewer.next("join-accepted"));
  const again = await TestClient.connect(withResume(first.url, claim));
  assert.equal(again.id, viewer.id);
  await again.close();
  await first[Symbol.asyncDispose]();

  await using t = await startTestServer({
    reconnectGraceMs: GRACE_MS,
    stateDir: dirB,
  });
  const fresh = await TestClient.connect(withResume(t.url, claim));
  assert.notEqual(fresh.id, viewer.id);
  const refused = await fresh.next("error");
  assert.equal(refused.code, "resume-refused");
  assert.match(refused.message, /signature/);
  await fresh.close();
  for (const dir of [dirA, dirB]) await Deno.remove(dir, { recursive: true });
});

Deno.test("a forged, expired or malformed claim is refused: a new id, and why", async () => {
  await using t = await secured();
  const viewer = await t.connect();
  viewer.send({ type: "join-stream", streamId: "s" });
  const claim = claimOf(await viewer.next("join-accepted"));
  const otherKey = new ResumeTokens("another-secret-of-at-least-32-bytes!!", 60)
    .issue({ clientId: viewer.id, streamId: "s", role: "viewer" });
  const expired = new ResumeTokens(SECRET, 60).issue(
    { clientId: viewer.id, streamId: "s", role: "viewer" },
    Date.now() - 61_000,
  );
  // Our claim's fields with another key's signature; ours made a broadcaster's.
  const mac = (token: string) => token.slice(token.lastIndexOf("~") + 1);
  const spliced = claim.slice(0, claim.lastIndexOf("~") + 1) + mac(otherKey);
  const promoted = claim.replace("~v~", "~b~");
  for (
    const [forged, reason] of [
      [otherKey, "signature"],
      [spliced, "signature"],
      [promoted, "signature"],
      [expired, "expired"],
      [`1~${viewer.id}~v~9999999999~s~${"A".repeat(43)}`, "signature"],
      ["garbage", "malformed"],
      ["x".repeat(600), "malformed"],
    ]
  ) {
    const client = await TestClient.connect(withResume(t.url, forged));
    assert.notEqual(client.id, viewer.id, forged);
    assert.equal(client.welcome!.resumed, undefined);
    const error = await client.next("error");
    assert.equal(error.code, "resume-refused");
    assert.match(error.message, new RegExp(reason));
    await client.close();
  }
  // The real viewer was never displaced.
  await viewer.expectQuiet();
  assert.equal(t.server.metrics.sessionsResumed, 0);
});

Deno.test("a claim used for another stream or role is refused and the socket closed", async () => {
  await using t = await secured();
  const broadcaster = await t.connect();
  broadcaster.send({ type: "broadcaster-ready", streamId: "s" });
  await broadcaster.next("broadcaster-accepted");
  const viewer = await t.connect();
  viewer.send({ type: "join-stream", streamId: "s" });
  const claim = claimOf(await viewer.next("join-accepted"));
  await broadcaster.next("viewer-joined");

  // A viewer's claim does not make a broadcaster...
  const asBroadcaster = await TestClient.connect(withResume(t.url, claim));
  asBroadcaster.send({ type: "broadcaster-ready", streamId: "other" });
  assert.equal((await asBroadcaster.next("error")).code, "resume-refused");
  assert.equal((await asBroadcaster.closed).code, 4003);
  // ...nor a viewer of another stream.
  const elsewhere = await TestClient.connect(withResume(t.url, claim));
  elsewhere.send({ type: "join-stream", streamId: "other" });
  assert.equal((await elsewhere.next("error")).code, "resume-refused");
  assert.equal((await elsewhere.closed).code, 4003);
  assert.equal(t.server.registry.room("other"), undefined);
  // The broadcaster of "s" still has it.
  assert.equal(t.server.registry.room("s")!.broadcaster!.id, broadcaster.id);
});

Deno.test("pong carries a fresh claim while in a stream, none outside one", async () => {
  await using t = await secured();
  const client = await t.connect();
  client.send({ type: "ping", nonce: 1 });
  assert.deepEqual(await client.next("pong"), { type: "pong", nonce: 1 });
  client.send({ type: "join-stream", streamId: "s" });
  await client.next("join-accepted");
  client.send({ type: "ping", nonce: 2 });
  const pong = await client.next("pong");
  assert.equal(pong.nonce, 2);
  const check = new ResumeTokens(SECRET, 60).verify(claimOf(pong));
  assert.ok(check.ok);
  assert.deepEqual(
    check.claims,
    { ...check.claims, clientId: client.id, streamId: "s", role: "viewer" },
  );
});

Deno.test("join-stream's session is checked: letters and digits only", async () => {
  await using t = await secured();
  const client = await t.connect();
  client.send({ type: "join-stream", streamId: "s", session: "12 34" });
  const error = await client.next("error");
  assert.equal(error.code, "invalid-field");
  assert.match(error.message, /session/);
});

Deno.test("the claim's MAC is HMAC-SHA256 (RFC 2104) under a key derived from the secret", async () => {
  const { createHash, createHmac } = await import("node:crypto");
  const key = createHash("sha256").update("live-widgets resume v1\0").update(
    SECRET,
  ).digest();
  const claim = new ResumeTokens(SECRET, 60).issue({
    clientId: "client_abcdefghijkl",
    streamId: "order-1",
    role: "broadcaster",
  });
  const at = claim.lastIndexOf("~");
  assert.equal(
    claim.slice(at + 1),
    createHmac("sha256", key).update(claim.slice(0, at)).digest("base64url"),
  );
  assert.match(claim, /^1~client_abcdefghijkl~b~\d+~order-1~/);
});

for (const flag of ["restart", "keyFrame"] as const) {
  Deno.test(`join-stream's ${flag} reaches the broadcaster with the session it names, and must be a boolean`, async () => {
    await using t = await secured();
    const broadcaster = await t.connect();
    broadcaster.send({ type: "broadcaster-ready", streamId: "s" });
    await broadcaster.next("broadcaster-accepted");
    const viewer = await t.connect();
    viewer.send({
      type: "join-stream",
      streamId: "s",
      session: "42",
      [flag]: true,
    });
    const joined = await broadcaster.next("viewer-joined");
    assert.deepEqual([joined.session, joined[flag]], ["42", true]);
    await viewer.next("join-accepted");
    // Without a session there is no connection it could be about.
    viewer.send({ type: "join-stream", streamId: "s", [flag]: true });
    assert.equal((await broadcaster.next("viewer-joined"))[flag], undefined);
    await viewer.next("join-accepted");
    viewer.send({
      type: "join-stream",
      streamId: "s",
      session: "42",
      [flag]: "yes",
    });
    const error = await viewer.next("error");
    assert.equal(error.code, "invalid-field");
    assert.match(error.message, new RegExp(flag));
  });
}

Deno.test("pongs reuse a claim until half its lifetime has passed; another stream gets its own", async () => {
  await using t = await secured({ resumeTtlSeconds: 120 });
  const client = await t.connect();
  client.send({ type: "join-stream", streamId: "s" });
  const first = claimOf(await client.next("join-accepted"));
  client.send({ type: "ping" });
  assert.equal(claimOf(await client.next("pong")), first);
  client.send({ type: "join-stream", streamId: "other" });
  const other = claimOf(await client.next("join-accepted"));
  assert.notEqual(other, first);
  assert.match(other, /~other~/);
});
