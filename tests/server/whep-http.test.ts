/**
 * What a real server with the SFU linked answers WHIP and WHEP clients
 * before Janus is asked anything (a stand-in Janus, tests/server/support/
 * fake-janus.ts, that records what it is asked): not live, GET, tokens. What
 * needs Janus's answers: tests/e2e/whip-http.test.ts.
 */
import assert from "node:assert/strict";
import { FakeJanus } from "./support/fake-janus.ts";
import { WHEP_OFFER } from "./support/fixtures.ts";
import { startTestServer } from "./support/test-server.ts";

const ORIGIN = "https://shop.example";

Deno.test("WHEP: a player of a stream that is not live gets 409 not-live with Retry-After: 2 (the WHEP draft), readable cross-origin, with an offer or without; Janus is asked nothing", async () => {
  await using janus = FakeJanus.start();
  await using t = await startTestServer({ janusUrl: janus.url }, "error");
  await t.sfuLinked();
  const base = t.url.replace("ws://", "http://").replace(/\/ws$/, "");
  for (const body of [WHEP_OFFER, ""]) {
    const response = await fetch(`${base}/whep/s`, {
      method: "POST",
      headers: { "content-type": "application/sdp", origin: ORIGIN },
      body,
    });
    const what = JSON.stringify(body.slice(0, 9));
    assert.equal(response.status, 409, what);
    assert.equal(response.headers.get("retry-after"), "2", what);
    assert.equal(response.headers.get("access-control-allow-origin"), ORIGIN);
    assert.match(
      response.headers.get("access-control-expose-headers")!,
      /retry-after/,
    );
    const problem = await response.json();
    assert.equal(problem.status, 409);
    assert.equal(problem.error, "not-live");
    assert.equal(response.headers.get("location"), null);
  }
  assert.deepEqual(janus.messages, []);
  const health = await (await fetch(`${base}/healthz`)).json();
  assert.equal(health.viewers, 0);
  assert.equal(health.streams, 0);
});

Deno.test("WHEP: a player that goes before its answer (the POST aborted while the broadcaster is asked to publish) leaves no session: the broadcaster hears it left at once", async () => {
  await using janus = FakeJanus.start();
  // The broadcaster never publishes: the POST would wait 30 s for it.
  await using t = await startTestServer(
    { janusUrl: janus.url, sfuOfferTimeoutMs: 30_000 },
    "error",
  );
  await t.sfuLinked();
  const base = t.url.replace("ws://", "http://").replace(/\/ws$/, "");
  const broadcaster = await t.connect();
  broadcaster.send({ type: "broadcaster-ready", streamId: "s" });
  await broadcaster.next("broadcaster-accepted");
  const player = new AbortController();
  const post = fetch(`${base}/whep/s`, {
    method: "POST",
    headers: { "content-type": "application/sdp" },
    body: WHEP_OFFER,
    signal: player.signal,
  }).catch((error) => error);
  // The player joined: its stream is to go to the SFU.
  await broadcaster.next("sfu-publish");
  player.abort();
  assert.equal((await post).name, "AbortError");
  assert.equal((await broadcaster.next("viewer-left")).viewerCount, 0);
  const health = await (await fetch(`${base}/healthz`)).json();
  assert.equal(health.viewers, 0);
  assert.deepEqual(janus.messages, []);
});

Deno.test('401: the challenge RFC 9110 asks for, in RFC 6750\'s form (WWW-Authenticate: Bearer; error="invalid_token" for a token not taken), readable cross-origin', async () => {
  await using janus = FakeJanus.start();
  await using t = await startTestServer(
    {
      janusUrl: janus.url,
      signalSecret: "a-test-secret-of-at-least-32-bytes!!",
    },
    "error",
  );
  await t.sfuLinked();
  const base = t.url.replace("ws://", "http://").replace(/\/ws$/, "");
  const cases = [
    ["/whep/s", WHEP_OFFER, undefined, "token-required", "Bearer"],
    [
      "/whip/s",
      WHEP_OFFER.replace("recvonly", "sendonly"),
      undefined,
      "token-required",
      "Bearer",
    ],
    [
      "/whep/s",
      WHEP_OFFER,
      "Bearer not-a-jwt",
      "token-malformed",
      'Bearer error="invalid_token"',
    ],
  ] as const;
  for (const [path, body, authorization, code, challenge] of cases) {
    const response = await fetch(`${base}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/sdp",
        origin: ORIGIN,
        ...(authorization ? { authorization } : {}),
      },
      body,
    });
    assert.equal(response.status, 401, path);
    assert.equal((await response.json()).error, code, path);
    assert.equal(response.headers.get("www-authenticate"), challenge, path);
    assert.match(
      response.headers.get("access-control-expose-headers")!,
      /www-authenticate/,
    );
  }
  assert.deepEqual(janus.messages, []);
});

Deno.test("GET and HEAD on a WHEP endpoint are 204 with no content (the WHEP draft: it has no representation), with the CORS grant; Allow names them; WHIP's stays 405", async () => {
  await using janus = FakeJanus.start();
  await using t = await startTestServer({ janusUrl: janus.url }, "error");
  await t.sfuLinked();
  const base = t.url.replace("ws://", "http://").replace(/\/ws$/, "");
  for (const method of ["GET", "HEAD"]) {
    const response = await fetch(`${base}/whep/s`, {
      method,
      headers: { origin: ORIGIN },
    });
    assert.equal(response.status, 204, method);
    assert.equal(await response.text(), "", method);
    assert.equal(response.headers.get("access-control-allow-origin"), ORIGIN);
  }
  const options = await fetch(`${base}/whep/s`, { method: "OPTIONS" });
  await options.body?.cancel();
  assert.equal(options.headers.get("allow"), "GET, HEAD, POST, OPTIONS");
  const put = await fetch(`${base}/whep/s`, { method: "PUT" });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get("allow"), "GET, HEAD, POST, OPTIONS");
  assert.equal((await put.json()).error, "method-not-allowed");
  // A session that is not there is still 404.
  const missing = await fetch(`${base}/whep/s/no-such-session`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error, "not-found");
  const whip = await fetch(`${base}/whip/s`);
  assert.equal(whip.status, 405);
  assert.equal(whip.headers.get("allow"), "POST, OPTIONS");
  await whip.body?.cancel();
  assert.deepEqual(janus.messages, []);
});
