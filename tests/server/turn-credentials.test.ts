/** TURN_URLS + TURN_SECRET: admitted clients get coturn-style time-limited credentials. */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mintToken } from "../../server/security/tokens.ts";
import { TestClient } from "./support/test-client.ts";
import { startTestServer } from "./support/test-server.ts";

const TURN = {
  turnUrls: ["turn:127.0.0.1:3478?transport=udp"],
  turnSecret: "coturn-static-auth-secret",
  turnTtlSeconds: 600,
};

Deno.test("join-accepted and broadcaster-accepted carry expiry:clientId and base64 HMAC-SHA1 credentials", async () => {
  await using t = await startTestServer({
    ...TURN,
    stunUrls: ["stun:127.0.0.1:3478"],
  });
  const broadcaster = await t.connect();
  broadcaster.send({ type: "broadcaster-ready", streamId: "s" });
  const accepted = await broadcaster.next("broadcaster-accepted");
  const viewer = await t.connect();
  viewer.send({ type: "join-stream", streamId: "s" });
  const joined = await viewer.next("join-accepted");
  for (
    const [message, clientId] of [[accepted, broadcaster.id], [
      joined,
      viewer.id,
    ]] as const
  ) {
    const [stun, turn] = message.iceServers!;
    assert.deepEqual(stun, { urls: ["stun:127.0.0.1:3478"] });
    assert.deepEqual(turn.urls, TURN.turnUrls);
    const [expiry, id] = turn.username!.split(":");
    assert.equal(id, clientId);
    assert.ok(Math.abs(Number(expiry) - (Date.now() / 1000 + 600)) < 5);
    // Computed independently, the way coturn checks it.
    const expected = createHmac("sha1", TURN.turnSecret).update(turn.username!)
      .digest("base64");
    assert.equal(turn.credential, expected);
    // Credentials are never logged.
    assert.ok(!t.logs.some((line) => line.includes(turn.credential!)));
  }
  // Not before admission: the welcome has none.
  const late = await TestClient.open(t.url);
  const welcome = await late.next("welcome");
  assert.ok(!("iceServers" in welcome));
  await late.close();
});

Deno.test("with tokens, a refused join gets no TURN credentials", async () => {
  const secret = "a-test-secret-of-at-least-32-bytes!!";
  await using t = await startTestServer({ ...TURN, signalSecret: secret });
  const viewer = await t.connect();
  viewer.send({
    type: "join-stream",
    streamId: "s",
    token: await mintToken(secret, {
      sub: "u",
      stream: "other",
      role: "viewer",
    }),
  });
  const error = await viewer.next("error");
  assert.equal(error.code, "token-wrong-stream");
  assert.equal(JSON.stringify(error).includes("credential"), false);
});
