/**
 * The WHIP/WHEP endpoint's HTTP rules (server/http/session-endpoint.ts) without
 * Janus or root: Location and entity tags, trickle and ICE restarts by
 * PATCH (RFC 9725 §4.3: 412, 428, 429), CORS, body and session limits,
 * the router's refusals as statuses, takeovers. Against Janus:
 * tests/e2e/whip-http.test.ts.
 */
import assert from "node:assert/strict";
import { fakeClock } from "./support/clock.ts";
import type { Peer } from "../../server/signaling/peer.ts";
import { OFFER, whipEndpoint } from "./support/fake-session-host.ts";
import { IceRestartElsewhere } from "../../server/http/session-host.ts";

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

Deno.test("OPTIONS, methods and paths: 204 with the methods each URL takes (Allow) and, for CORS, the session's too (clients decide to trickle by PATCH there), 405 with Allow, 404", async () => {
  const { post, send } = whipEndpoint();
  const { location } = await post();
  const options = async (path: string) => {
    const { headers } = await send(path, {
      method: "OPTIONS",
      headers: { origin: "https://shop.example" },
    });
    return {
      allow: headers.get("allow"),
      methods: headers.get("access-control-allow-methods"),
      patch: headers.get("accept-patch"),
    };
  };
  assert.deepEqual(await options("/whip/s"), {
    allow: "POST, OPTIONS",
    methods: "POST, PATCH, DELETE, OPTIONS",
    patch: "application/trickle-ice-sdpfrag",
  });
  assert.deepEqual(await options(location), {
    allow: "PATCH, DELETE, OPTIONS",
    methods: "PATCH, DELETE, OPTIONS",
    patch: "application/trickle-ice-sdpfrag",
  });
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

Deno.test("CORS: a preflight names the methods and headers a client sends; refusals carry the grant for an allowed origin, as problem+json; no Origin, no grant", async () => {
  const { post, send, patch } = whipEndpoint();
  const { location } = await post();
  const shop = { origin: "https://shop.example" };
  const preflight = await send("/whip/s", { method: "OPTIONS", headers: shop });
  assert.equal(preflight.status, 204);
  assert.equal(
    preflight.headers.get("access-control-allow-headers"),
    "authorization, content-type, if-match, etag",
  );
  // A page reads the methods (to trickle or not) and the session's headers.
  assert.equal(
    preflight.headers.get("access-control-expose-headers"),
    "location, link, etag, allow, accept-patch, access-control-allow-methods, retry-after, www-authenticate",
  );
  assert.equal(preflight.headers.get("access-control-max-age"), "600");
  assert.equal(preflight.headers.get("accept-post"), "application/sdp");
  assert.equal(
    preflight.headers.get("access-control-allow-origin"),
    shop.origin,
  );
  const refusals = [
    await send("/whip/s/nope", { method: "DELETE", headers: shop }),
    await send("/whip/s", { headers: shop }),
    await patch(location, CANDIDATE, { ...shop, "if-match": '"old"' }),
  ];
  for (const response of refusals) {
    assert.equal(
      response.headers.get("content-type"),
      "application/problem+json",
    );
    assert.equal(
      response.headers.get("access-control-allow-origin"),
      shop.origin,
    );
    assert.equal(response.headers.get("vary"), "origin");
    const body = await response.json();
    assert.equal(body.status, response.status);
    assert.equal(typeof body.error, "string");
    assert.equal(body.detail, body.message);
  }
  // The 412's current tag is readable cross-origin.
  assert.match(
    refusals[2].headers.get("access-control-expose-headers")!,
    /etag/,
  );
  const plain = await send("/whip/s/nope", { method: "DELETE" });
  assert.equal(plain.headers.get("access-control-allow-origin"), null);
  await plain.body?.cancel();
});

Deno.test("the router's refusals before the answer: the status from the error-code table, the code in the problem body, Retry-After when it is worth asking again; the session ends", async () => {
  const cases = [
    ["token-expired", 401, null],
    ["token-wrong-role", 403, null],
    ["stream-taken", 409, null],
    ["replaced", 409, null],
    ["join-rate-limited", 429, "5"],
    ["cluster-unavailable", 503, "5"],
    ["internal-error", 503, "5"],
  ] as const;
  for (const [code, status, retryAfter] of cases) {
    const { request, left } = whipEndpoint({
      handle: (peer) =>
        peer.send({ type: "error", code, message: `refused: ${code}` }),
    });
    const response = await request({ origin: "https://shop.example" });
    assert.equal(response.status, status, code);
    assert.equal(response.headers.get("retry-after"), retryAfter, code);
    assert.equal(
      response.headers.get("access-control-allow-origin"),
      "https://shop.example",
    );
    const body = await response.json();
    assert.equal(body.error, code);
    assert.equal(body.message, `refused: ${code}`);
    assert.deepEqual(left, [["client_1", "whip-refused"]], code);
  }
});

Deno.test("limits: no SFU or MAX_HTTP_SESSIONS reached is 503 with Retry-After, before the router hears of it; an offer over the SDP limits 400 bad-sdp", async () => {
  for (
    const [overrides, code] of [
      [{ sfuUp: () => false }, "sfu-unavailable"],
      [{ roomForSession: () => false }, "server-full"],
    ] as const
  ) {
    let heard = 0;
    const { request } = whipEndpoint({
      ...overrides,
      connected: () => void heard++,
    });
    const response = await request();
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "5");
    assert.equal((await response.json()).error, code);
    assert.equal(heard, 0);
  }
  const { request } = whipEndpoint({
    sdpLimits: { maxMediaSections: 1, maxLines: 2_000, maxLineBytes: 1_024 },
  });
  const twoSections = await request(
    {},
    OFFER + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\n",
  );
  assert.equal(twoSections.status, 400);
  assert.equal((await twoSections.json()).error, "bad-sdp");
});

Deno.test("ICE restart: a second one while Janus works on the first is 429; Janus failing is 503 ice-restart-failed, the session and its tag kept", async () => {
  const janus = Promise.withResolvers<string>();
  const fake = whipEndpoint({
    ice: {
      publisher: () => janus.promise,
      subscriber: () => Promise.reject(new Error("no subscribers here")),
      answer: () => Promise.reject(new Error("no subscribers here")),
    },
  });
  const { location, etag } = await fake.post();
  const first = fake.patch(location, RESTART, { "if-match": "*" });
  const second = await fake.patch(
    location,
    RESTART.replace("new1", "new2"),
    { "if-match": "*" },
  );
  assert.equal(second.status, 429);
  assert.equal(second.headers.get("retry-after"), "1");
  assert.equal((await second.json()).error, "ice-restart-too-soon");
  janus.reject(new Error("Janus said no"));
  const failed = await first;
  assert.equal(failed.status, 503);
  assert.equal(failed.headers.get("retry-after"), "2");
  assert.equal((await failed.json()).error, "ice-restart-failed");
  // Still the same ICE session: its tag holds, and DELETE finds it.
  assert.equal(
    (await fake.patch(location, CANDIDATE, { "if-match": etag })).status,
    204,
  );
  assert.equal(await fake.deleted(location), 200);
});

Deno.test("ICE restart on a node that does not drive the stream: 422 ice-restart-elsewhere, so the player starts a new session instead of asking here again", async () => {
  const fake = whipEndpoint({
    ice: {
      publisher: () => Promise.reject(new IceRestartElsewhere("s")),
      subscriber: () => Promise.reject(new IceRestartElsewhere("s")),
      answer: () => Promise.reject(new Error("not here")),
    },
  });
  const { location } = await fake.post();
  const refused = await fake.patch(location, RESTART, { "if-match": "*" });
  assert.equal(refused.status, 422);
  assert.equal(refused.headers.get("retry-after"), null);
  assert.equal((await refused.json()).error, "ice-restart-elsewhere");
});

Deno.test("takeover: a session a newer one of its sender replaced answers 409 replaced (a waiting POST too), one closed otherwise 404; the memory holds at most MAX_HTTP_SESSIONS", async () => {
  const peers: Peer[] = [];
  const fake = whipEndpoint({
    maxSessions: 2,
    connected: (peer) => void peers.push(peer),
  });
  const replaced = await fake.post();
  const closed = await fake.post();
  peers[0].close(4001, "Replaced", "replaced");
  peers[1].close(1001, "Going away", "shutdown");
  assert.deepEqual(fake.left, [
    ["client_1", "replaced"],
    ["client_2", "closed"],
  ]);
  const patched = await fake.patch(replaced.location, CANDIDATE);
  assert.equal(patched.status, 409);
  assert.equal((await patched.json()).error, "replaced");
  assert.equal(await fake.deleted(closed.location), 404);

  // Replaced while its POST waited for Janus: the POST hears it.
  const entered = Promise.withResolvers<Peer>();
  const waiting = whipEndpoint({
    janusAnswers: false,
    connected: (peer) => entered.resolve(peer),
  });
  const pending = waiting.request();
  (await entered.promise).close(4001, "Replaced", "replaced");
  const response = await pending;
  assert.equal(response.status, 409);
  assert.equal((await response.json()).error, "replaced");

  // Two more taken over: the first is forgotten (404, not 409).
  for (let i = 0; i < 2; i++) {
    await fake.post();
    peers.at(-1)!.close(4001, "Replaced", "replaced");
  }
  assert.equal(await fake.deleted(replaced.location), 404);
});

Deno.test("PATCH racing its session's end: a trickle whose body was still coming, and an ICE restart Janus answered or failed after a DELETE, get 404; after a takeover 409 replaced (never a 204, 200 or 503 as if alive)", async () => {
  // The trickle: its session is found, then ended while its body comes.
  const fake = whipEndpoint();
  const { location } = await fake.post();
  const body = new TransformStream<Uint8Array, Uint8Array>();
  const writer = body.writable.getWriter();
  const trickling = fake.send(location, {
    method: "PATCH",
    body: body.readable,
    headers: { "content-type": "application/trickle-ice-sdpfrag" },
  });
  assert.equal(await fake.deleted(location), 200);
  await writer.write(new TextEncoder().encode(CANDIDATE));
  await writer.close();
  const trickled = await trickling;
  assert.equal(trickled.status, 404);
  assert.equal((await trickled.json()).error, "not-found");

  // The restart: Janus is working on it when the session ends.
  const outcomes: [string, (janus: PromiseWithResolvers<string>) => void][] = [
    ["answered", (janus) => janus.resolve(RESTART)],
    ["failed", (janus) => janus.reject(new Error("No such handle"))],
  ];
  for (const [how, settle] of outcomes) {
    for (const ending of ["delete", "replaced"] as const) {
      const janus = Promise.withResolvers<string>();
      const asked = Promise.withResolvers<void>();
      const peers: Peer[] = [];
      const racing = whipEndpoint({
        connected: (peer) => void peers.push(peer),
        ice: {
          publisher: () => {
            asked.resolve();
            return janus.promise;
          },
          subscriber: () => Promise.reject(new Error("no subscribers here")),
          answer: () => Promise.reject(new Error("no subscribers here")),
        },
      });
      const session = await racing.post();
      const restarting = racing.patch(session.location, RESTART, {
        "if-match": "*",
      });
      await asked.promise;
      if (ending === "delete") {
        assert.equal(await racing.deleted(session.location), 200);
      } else peers[0].close(4001, "Replaced", "replaced");
      settle(janus);
      const restarted = await restarting;
      const what = `${how}, ${ending}`;
      assert.equal(restarted.status, ending === "delete" ? 404 : 409, what);
      assert.equal(
        (await restarted.json()).error,
        ending === "delete" ? "not-found" : "replaced",
        what,
      );
    }
  }
});
