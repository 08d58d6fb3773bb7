/**
 * The WHIP/WHEP endpoint's HTTP rules (server/http/session-endpoint.ts) without
 * Janus or root: Location and entity tags, trickle and ICE restarts by
 * PATCH (RFC 9725 §4.3: 412, 428, 429), CORS, body limits. Against Janus:
 * tests/e2e/whip-http.test.ts.
 */
import assert from "node:assert/strict";
import { fakeClock } from "./support/clock.ts";
import { OFFER, whipEndpoint } from "./support/fake-session-host.ts";

const CANDIDATE =
  "a=mid:0\r\na=candidate:1 1 udp 2113937151 192.0.2.1 40000 typ host\r\n";
const RESTART =
  "a=ice-ufrag:new1\r\na=ice-pwd:newpasswordnewpassword12\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n";

Deno.test("201: the answer, a Location, a strong ETag, Accept-Patch; CORS only for an allowed origin", async () => {
  const { post, request } = whipEndpoint();
  const { response, location, etag } = await post({
    origin: "https://shop.example",
  });
  assert.equal(response.headers.get("content-type"), "application/sdp");
  assert.match(await response.text(), /^v=0\r\n/);
  assert.match(location, /^\/whip\/s\/[0-9a-f-]{36}$/);
  assert.match(etag, /^"[0-9a-f-]{36}"$/);
  assert.equal(
    response.headers.get("accept-patch"),
    "application/trickle-ice-sdpfrag",
  );
  assert.equal(
    response.headers.get("access-control-allow-origin"),
    "https://shop.example",
  );
  assert.match(
    response.headers.get("access-control-expose-headers")!,
    /location.*etag/,
  );
  const foreign = await request({ origin: "https://evil.example" });
  assert.equal(foreign.status, 201);
  assert.equal(foreign.headers.get("access-control-allow-origin"), null);
  await foreign.body?.cancel();
});

Deno.test("OPTIONS, methods and paths: 204 with the methods each URL takes, 405 with Allow, 404", async () => {
  const { post, send } = whipEndpoint();
  const { location } = await post();
  const methods = async (path: string) =>
    (await send(path, {
      method: "OPTIONS",
      headers: { origin: "https://shop.example" },
    })).headers.get("access-control-allow-methods");
  assert.equal(await methods("/whip/s"), "POST, OPTIONS");
  assert.equal(await methods(location), "PATCH, DELETE, OPTIONS");
  const get = await send("/whip/s");
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST, OPTIONS");
  assert.equal((await get.json()).error, "method-not-allowed");
  for (const path of ["/whip/s/nope", `${location}/x`, "/whip/bad%20id"]) {
    const response = await send(path, { method: "DELETE" });
    assert.equal(response.status, 404, path);
    assert.equal((await response.json()).error, "not-found");
  }
});

Deno.test("trickle by PATCH: 204; If-Match with the current tag 204, an old one 412 with the current tag; 415 and limits", async () => {
  const fake = whipEndpoint({ maxSdpBytes: 2_048 });
  const { post } = fake;
  const { location, etag } = await post();
  const patch = (body: string, headers?: Record<string, string>) =>
    fake.patch(location, body, headers);
  assert.equal((await patch(CANDIDATE)).status, 204);
  assert.equal((await patch(CANDIDATE, { "if-match": etag })).status, 204);
  const stale = await patch(CANDIDATE, { "if-match": '"old"' });
  assert.equal(stale.status, 412);
  assert.equal(stale.headers.get("etag"), etag);
  assert.equal((await stale.json()).error, "etag-mismatch");
  const wrongType = await patch(CANDIDATE, { "content-type": "text/plain" });
  assert.equal(wrongType.status, 415);
  await wrongType.body?.cancel();
  const tooLarge = await patch(CANDIDATE.repeat(40));
  assert.equal(tooLarge.status, 413);
  assert.equal((await tooLarge.json()).error, "too-large");
  const longLine = await patch(`a=x:${"y".repeat(1_500)}\r\n`);
  assert.equal(longLine.status, 400);
  assert.equal((await longLine.json()).error, "bad-sdp");
});

Deno.test('ICE restart by PATCH: If-Match: "*" needed (428), Janus\'s new credentials and a new tag (200), one per ICE_RESTART_INTERVAL_MS (429)', async () => {
  using clock = fakeClock();
  const fake = whipEndpoint({ iceRestartIntervalMs: 2_000 });
  const { post, restarts } = fake;
  const { location, etag } = await post();
  const patch = (body: string, headers?: Record<string, string>) =>
    fake.patch(location, body, headers);
  const withoutMatch = await patch(RESTART);
  assert.equal(withoutMatch.status, 428);
  assert.equal((await withoutMatch.json()).error, "if-match-required");
  const noPwd = await patch("a=ice-ufrag:new1\r\n", { "if-match": "*" });
  assert.equal(noPwd.status, 400);
  assert.equal((await noPwd.json()).error, "bad-fragment");
  assert.deepEqual(restarts, []);

  const restarted = await patch(RESTART, { "if-match": "*" });
  assert.equal(restarted.status, 200);
  assert.equal(
    restarted.headers.get("content-type"),
    "application/trickle-ice-sdpfrag",
  );
  assert.match(await restarted.text(), /^a=ice-ufrag:jan2\r\na=ice-pwd:/);
  const newEtag = restarted.headers.get("etag")!;
  assert.notEqual(newEtag, etag);
  // Janus got the client's offer with its new credentials.
  assert.match(restarts[0], /a=ice-ufrag:new1\r\n/);
  assert.equal((await patch(CANDIDATE, { "if-match": etag })).status, 412);
  assert.equal((await patch(CANDIDATE, { "if-match": newEtag })).status, 204);

  const again = RESTART.replace("new1", "new2");
  const tooSoon = await patch(again, { "if-match": "*" });
  assert.equal(tooSoon.status, 429);
  assert.equal(tooSoon.headers.get("retry-after"), "2");
  await tooSoon.body?.cancel();
  clock.tick(2_000);
  const later = await patch(again, { "if-match": "*" });
  assert.equal(later.status, 200);
  await later.body?.cancel();
});

Deno.test("POST bodies: a larger Content-Length is refused before reading (413), an offer without video 400, another content type 415", async () => {
  const { request } = whipEndpoint({ maxSdpBytes: 1_024 });
  const large = await request({ "content-length": "100000000" }, "");
  assert.equal(large.status, 413);
  await large.body?.cancel();
  const long = await request({}, OFFER.padEnd(2_000, "x"));
  assert.equal(long.status, 413);
  await long.body?.cancel();
  const audio = await request({}, OFFER.replace("m=video", "m=audio"));
  assert.equal(audio.status, 400);
  assert.match((await audio.json()).message, /m=video/);
  const text = await request({ "content-type": "text/plain" });
  assert.equal(text.status, 415);
  await text.body?.cancel();
});
