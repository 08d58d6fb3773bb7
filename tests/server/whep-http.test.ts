/**
 * What a real server with the SFU linked answers WHIP and WHEP clients
 * before Janus is asked anything (a stand-in Janus, tests/server/support/
 * fake-janus.ts, that records what it is asked): not live, GET, tokens. What
 * needs Janus's answers: tests/e2e/whip-http.test.ts.
 */
import assert from "node:assert/strict";
import { FakeJanus } from "./support/fake-janus.ts";
import { startTestServer } from "./support/test-server.ts";

/** A WHEP player's offer: one video section to receive. */
const WHEP_OFFER = [
  "v=0",
  "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "m=video 9 UDP/TLS/RTP/SAVPF 96",
  "c=IN IP4 0.0.0.0",
  "a=mid:0",
  "a=recvonly",
  "a=rtpmap:96 VP8/90000",
  "",
].join("\r\n");

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
