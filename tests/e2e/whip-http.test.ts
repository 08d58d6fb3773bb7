/**
 * WHIP ingest's HTTP surface (server/http/whip.ts) against a real Janus on
 * loopback: status codes, CORS, tokens, and nothing left behind in Janus or
 * in the registry after refusals. Control only; media: tests/e2e/whip.test.ts.
 */
import assert from "node:assert/strict";
import { mintToken } from "../../server/security/tokens.ts";
import { startTestServer } from "../server/support/test-server.ts";
import { janusLinkedTest } from "./support/janus-linked.ts";
import { JanusProcess } from "./support/janus-process.ts";
import { JanusTap } from "./support/janus-tap.ts";
import { installed, missing } from "./support/requirements.ts";

const SECRET = "a-test-secret-of-at-least-32-bytes!!";

/** The server's HTTP origin, from its WebSocket URL. */
const httpBase = (wsUrl: string) =>
  wsUrl.replace("ws://", "http://").replace(/\/ws$/, "");

/** A browser-shaped offer with one video section (enough for Janus to answer). */
const OFFER = [
  "v=0",
  "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0",
  "a=msid-semantic: WMS",
  "m=video 9 UDP/TLS/RTP/SAVPF 96",
  "c=IN IP4 0.0.0.0",
  "a=rtcp:9 IN IP4 0.0.0.0",
  "a=ice-ufrag:abcd",
  "a=ice-pwd:abcdefghijklmnopqrstuvwx",
  "a=ice-options:trickle",
  "a=fingerprint:sha-256 " +
  "12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0",
  "a=setup:actpass",
  "a=mid:0",
  "a=sendonly",
  "a=rtcp-mux",
  "a=rtpmap:96 VP8/90000",
  "a=ssrc:1 cname:test",
  "",
].join("\r\n");

janusLinkedTest(
  "whip: status codes, CORS and tokens at /whip/{streamId}; refusals leave nothing in Janus or the registry",
  {
    config: {
      signalSecret: SECRET,
      allowedOrigins: ["https://shop.example"],
      turnUrls: ["turn:turn.example.net:3478?transport=udp"],
      turnSecret: "a-turn-secret-of-some-length",
    },
  },
  async ({ janus, server: t }) => {
    const base = httpBase(t.url);
    const offer = OFFER;
    const post = (
      path: string,
      body: string,
      headers: Record<string, string> = {},
    ) =>
      fetch(`${base}${path}`, {
        method: "POST",
        body,
        headers: { "content-type": "application/sdp", ...headers },
      });
    const token = (
      stream: string,
      role: "broadcaster" | "viewer" = "broadcaster",
    ) => mintToken(SECRET, { sub: "shop", stream, role });
    const drain = async (response: Response) => {
      await response.body?.cancel();
      return response.status;
    };

    // CORS preflight from an allowed origin: the headers WHIP clients need.
    const preflight = await fetch(`${base}/whip/order-1`, {
      method: "OPTIONS",
      headers: { origin: "https://shop.example" },
    });
    assert.equal(preflight.status, 204);
    assert.equal(
      preflight.headers.get("access-control-allow-origin"),
      "https://shop.example",
    );
    assert.match(
      preflight.headers.get("access-control-expose-headers")!,
      /location/,
    );
    assert.match(
      preflight.headers.get("access-control-allow-headers")!,
      /authorization/,
    );
    // A foreign origin gets no CORS grant.
    const foreign = await fetch(`${base}/whip/order-1`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example" },
    });
    await foreign.body?.cancel();
    assert.equal(foreign.headers.get("access-control-allow-origin"), null);

    assert.equal(await drain(await fetch(`${base}/whip/order-1`)), 405);
    assert.equal(
      await drain(
        await post("/whip/order-1", offer, { "content-type": "text/plain" }),
      ),
      415,
    );
    assert.equal(
      await drain(
        await post("/whip/order-1", "hello", {
          authorization: `Bearer ${await token("order-1")}`,
        }),
      ),
      400,
    );
    assert.equal(
      await drain(await post("/whip/order-1", "v=0\r\n".padEnd(70_000, "x"))),
      413,
    );
    assert.equal(await drain(await post("/whip/bad id!", offer)), 404);
    // No token, a token for another stream, a viewer's token.
    assert.equal(await drain(await post("/whip/order-1", offer)), 401);
    assert.equal(
      await drain(
        await post("/whip/order-1", offer, {
          authorization: `Bearer ${await token("order-2")}`,
        }),
      ),
      403,
    );
    assert.equal(
      await drain(
        await post("/whip/order-1", offer, {
          authorization: `Bearer ${await token("order-1", "viewer")}`,
        }),
      ),
      403,
    );
    // Unknown sessions.
    for (const method of ["PATCH", "DELETE"]) {
      const response = await fetch(`${base}/whip/order-1/nope`, {
        method,
        headers: { "content-type": "application/trickle-ice-sdpfrag" },
        body: method === "PATCH" ? "a=mid:0\r\n" : undefined,
      });
      assert.equal(await drain(response), 404, method);
    }
    // Nothing was made anywhere by the refusals.
    assert.deepEqual(await janus.rooms(), []);
    const health = await (await fetch(`${base}/healthz`)).json();
    assert.equal(health.streams, 0);

    // A good one: 201, the answer, a Location to PATCH and DELETE.
    const created = await post("/whip/order-1", offer, {
      authorization: `Bearer ${await token("order-1")}`,
      origin: "https://shop.example",
    });
    assert.equal(created.status, 201, await created.clone().text());
    assert.equal(created.headers.get("content-type"), "application/sdp");
    assert.match(await created.text(), /^v=0/);
    let location = created.headers.get("location")!;
    assert.match(location, /^\/whip\/order-1\/[0-9a-f-]{36}$/);
    assert.equal(
      created.headers.get("access-control-allow-origin"),
      "https://shop.example",
    );
    // The ICE servers as Link headers, TURN with its credentials.
    assert.match(
      created.headers.get("link")!,
      /<turn:turn\.example\.net:3478\?transport=udp>; rel="ice-server"; username="[^"]+"; credential="[^"]+"; credential-type="password"/,
    );
    assert.equal((await janus.rooms()).length, 1);
    // The stream is taken: another WHIP sender of another subject gets 409.
    const taken = await post("/whip/order-1", offer, {
      authorization: `Bearer ${await mintToken(SECRET, {
        sub: "someone-else",
        stream: "order-1",
        role: "broadcaster",
      })}`,
    });
    assert.equal(await drain(taken), 409);
    // Trickle, wrong type, entity tags, ICE restart (RFC 9725 §4.3).
    const etag = created.headers.get("etag")!;
    assert.match(etag, /^"[0-9a-f-]{36}"$/);
    assert.equal(
      created.headers.get("accept-patch"),
      "application/trickle-ice-sdpfrag",
    );
    const patch = (
      body: string,
      type = "application/trickle-ice-sdpfrag",
      headers: Record<string, string> = {},
    ) =>
      fetch(`${base}${location}`, {
        method: "PATCH",
        headers: { "content-type": type, ...headers },
        body,
      });
    const candidate =
      "a=mid:0\r\na=candidate:1 1 udp 2113937151 127.0.0.1 40000 typ host\r\n";
    assert.equal(await drain(await patch(candidate)), 204);
    assert.equal(
      await drain(await patch(candidate, undefined, { "if-match": etag })),
      204,
    );
    const stale = await patch(candidate, undefined, { "if-match": '"old"' });
    assert.equal(stale.status, 412);
    assert.equal(stale.headers.get("etag"), etag);
    await stale.body?.cancel();
    assert.equal(await drain(await patch("a=mid:0\r\n", "text/plain")), 415);
    const restartFragment =
      "a=ice-ufrag:new1\r\na=ice-pwd:newpasswordnewpassword12\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n";
    // A restart without If-Match: refused, the session stays.
    assert.equal(await drain(await patch(restartFragment)), 428);
    // With If-Match "*": Janus restarts; its new credentials, a new tag.
    const restarted = await patch(restartFragment, undefined, {
      "if-match": "*",
    });
    const fragment = await restarted.text();
    assert.equal(restarted.status, 200, fragment);
    assert.equal(
      restarted.headers.get("content-type"),
      "application/trickle-ice-sdpfrag",
    );
    assert.match(fragment, /^a=ice-ufrag:\S+\r\na=ice-pwd:\S+\r\n/);
    const newEtag = restarted.headers.get("etag")!;
    assert.notEqual(newEtag, etag);
    // Another one at once: too soon (ICE_RESTART_INTERVAL_MS), still current.
    const tooSoon = await patch(
      restartFragment.replace("new1", "new2"),
      undefined,
      { "if-match": "*" },
    );
    assert.equal(tooSoon.status, 429);
    assert.equal(tooSoon.headers.get("retry-after"), "2");
    await tooSoon.body?.cancel();
    // The old tag is stale now; the new one trickles.
    assert.equal(
      await drain(await patch(candidate, undefined, { "if-match": etag })),
      412,
    );
    assert.equal(
      await drain(await patch(candidate, undefined, { "if-match": newEtag })),
      204,
    );
    // The same sender again (another tab): it takes over; the old session
    // hears 409 replaced on its next PATCH (not 404, which would send it
    // back for the stream).
    const takeover = await post("/whip/order-1", offer, {
      authorization: `Bearer ${await token("order-1")}`,
    });
    assert.equal(takeover.status, 201, await takeover.clone().text());
    await takeover.body?.cancel();
    const old = await patch(
      restartFragment.replace("new1", "new3"),
      undefined,
      {
        "if-match": "*",
      },
    );
    assert.equal(old.status, 409);
    assert.equal((await old.json()).error, "replaced");
    location = takeover.headers.get("location")!;
    // DELETE ends it: the room goes, the registry is empty.
    assert.equal(
      await drain(await fetch(`${base}${location}`, { method: "DELETE" })),
      200,
    );
    assert.equal(
      await drain(await fetch(`${base}${location}`, { method: "DELETE" })),
      404,
    );
    for (let i = 0; i < 50 && (await janus.rooms()).length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(await janus.rooms(), []);
    const after = await (await fetch(`${base}/healthz`)).json();
    assert.equal(after.streams, 0);

    // Janus lost: a WHIP sender cannot go peer to peer, its session ends.
    const again = await post("/whip/order-3", offer, {
      authorization: `Bearer ${await token("order-3")}`,
    });
    assert.equal(again.status, 201);
    await again.body?.cancel();
    const down = new Promise((resolve) =>
      t.server.sfu!.events.addEventListener("lost", resolve, { once: true })
    );
    await janus.kill();
    await down;
    assert.equal(
      await drain(
        await fetch(`${base}${again.headers.get("location")}`, {
          method: "DELETE",
        }),
      ),
      404,
    );
    assert.equal((await (await fetch(`${base}/healthz`)).json()).streams, 0);
    assert.equal(await drain(await post("/whip/order-3", offer)), 503);
  },
);

janusLinkedTest(
  "whep: refusals at /whep/{streamId} (content type, SDP, not live, tokens, unknown sessions) leave nothing behind",
  { config: { signalSecret: SECRET } },
  async ({ janus, server: t }) => {
    const base = httpBase(t.url);
    const offer = OFFER.replace(
      "a=sendonly",
      "a=recvonly",
    );
    const viewerToken = (stream: string) =>
      mintToken(SECRET, { sub: "customer", stream, role: "viewer" });
    const post = async (
      body: string,
      headers: Record<string, string> = {},
      stream = "order-9",
    ) => {
      const response = await fetch(`${base}/whep/${stream}`, {
        method: "POST",
        body,
        headers: { "content-type": "application/sdp", ...headers },
      });
      await response.body?.cancel();
      return response.status;
    };
    const auth = async (stream: string) => ({
      authorization: `Bearer ${await viewerToken(stream)}`,
    });
    assert.equal(await post(offer, { "content-type": "text/plain" }), 415);
    assert.equal(await post("nonsense", await auth("order-9")), 400);
    assert.equal(await post(offer), 401);
    assert.equal(await post(offer, await auth("order-10")), 403);
    // A valid viewer of a stream nobody broadcasts: 409 not-live, not a hang.
    assert.equal(await post(offer, await auth("order-9")), 409);
    for (const method of ["PATCH", "DELETE"]) {
      const response = await fetch(`${base}/whep/order-9/nope`, {
        method,
        headers: { "content-type": "application/trickle-ice-sdpfrag" },
        body: method === "PATCH" ? "a=mid:0\r\n" : undefined,
      });
      await response.body?.cancel();
      assert.equal(response.status, 404, method);
    }
    const health = await (await fetch(`${base}/healthz`)).json();
    assert.equal(health.viewers, 0);
    assert.equal(health.streams, 0);
    assert.deepEqual(await janus.rooms(), []);
  },
);

janusLinkedTest(
  "whep: a WHEP player counts against MAX_VIEWERS_PER_STREAM (503 when full)",
  { config: { maxViewersPerStream: 1 } },
  async ({ server: t }) => {
    const broadcaster = await t.connect();
    broadcaster.send({ type: "broadcaster-ready", streamId: "full" });
    await broadcaster.next("broadcaster-accepted");
    const viewer = await t.connect();
    viewer.send({ type: "join-stream", streamId: "full" });
    await viewer.next("join-accepted");
    const base = httpBase(t.url);
    const response = await fetch(`${base}/whep/full`, {
      method: "POST",
      headers: { "content-type": "application/sdp" },
      body: OFFER.replace("a=sendonly", "a=recvonly"),
    });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "5");
    assert.equal((await response.json()).error, "stream-full");
    assert.equal((await (await fetch(`${base}/healthz`)).json()).viewers, 1);
  },
);

janusLinkedTest(
  "whip/whep: MAX_HTTP_SESSIONS caps the sessions without a socket (503 server-full)",
  { config: { maxHttpSessions: 1 } },
  async ({ server: t }) => {
    const base = httpBase(t.url);
    const offer = OFFER;
    const post = (path: string, body: string) =>
      fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/sdp" },
        body,
      });
    const first = await post("/whip/cap-1", offer);
    assert.equal(first.status, 201);
    await first.body?.cancel();
    for (const path of ["/whip/cap-2", "/whep/cap-1"]) {
      const refused = await post(
        path,
        path.startsWith("/whep")
          ? offer.replace("a=sendonly", "a=recvonly")
          : offer,
      );
      assert.equal(refused.status, 503, path);
      assert.equal((await refused.json()).error, "server-full", path);
    }
    // Its DELETE makes room again.
    await (await fetch(`${base}${first.headers.get("location")}`, {
      method: "DELETE",
    })).body?.cancel();
    const again = await post("/whip/cap-2", offer);
    assert.equal(again.status, 201);
    await again.body?.cancel();
  },
);

janusLinkedTest(
  "whip: what Janus cannot parse is 400 bad-sdp at once (1,000 m-lines, NUL, no o=), LF line endings are taken; a session whose media never connects ends at MEDIA_CONNECT_TIMEOUT_MS and leaves nothing in Janus",
  // Info: the test reads the server's whip-media-timeout line.
  { config: { mediaConnectTimeoutMs: 1_500 }, logLevel: "info" },
  async ({ janus, server: t }) => {
    const base = httpBase(t.url);
    const post = (body: string) =>
      fetch(`${base}/whip/order-9`, {
        method: "POST",
        body,
        headers: { "content-type": "application/sdp" },
      });
    const refusals: [string, RegExp][] = [
      [
        OFFER + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:x\r\n".repeat(1_000),
        /at most 16 media sections/,
      ],
      [OFFER.replace("s=-", "s=-\0"), /control characters/],
      [OFFER.replace(/^o=.*\r\n/m, ""), /one o= line/],
    ];
    for (const [body, reason] of refusals) {
      const refused = await post(body);
      assert.equal(refused.status, 400);
      const problem = await refused.json();
      assert.equal(problem.error, "bad-sdp");
      assert.match(problem.message, reason);
    }
    assert.deepEqual(await janus.rooms(), []);

    // LF line endings (RFC 8866 asks parsers to take them): made CRLF.
    const created = await post(OFFER.replaceAll("\r\n", "\n"));
    assert.equal(created.status, 201, await created.clone().text());
    assert.match(await created.text(), /^v=0\r\n/);
    const location = created.headers.get("location")!;
    const viewer = await t.connect();
    viewer.send({ type: "join-stream", streamId: "order-9" });
    assert.equal((await viewer.next("join-accepted")).live, true);
    assert.equal((await janus.rooms()).length, 1);

    // This offer's ICE never connects: at the deadline the stream ends.
    await viewer.next("broadcaster-left");
    assert.ok(t.logs.some((line) => line.includes('"whip-media-timeout"')));
    const health = await (await fetch(`${base}/healthz`)).json();
    assert.equal(health.liveStreams, 0);
    const gone = await fetch(`${base}${location}`, { method: "DELETE" });
    assert.equal(gone.status, 404);
    await gone.body?.cancel();
    for (let i = 0; i < 50 && (await janus.rooms()).length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(await janus.rooms(), []);
    // Only the server's own session and control handle are left in Janus.
    const sessions = await janus.sessions();
    assert.equal(sessions.length, 1);
    assert.equal((await janus.handles(sessions[0])).length, 1);
  },
);

Deno.test({
  name:
    "whip: an ICE restart Janus answers after a DELETE ended the session gets 404, not a 200 as if it were alive",
  ignore: missing({ janus: installed("janus") }).length > 0,
  // Janus's log reader is still draining when the test ends.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using janus = await JanusProcess.start();
    await using tap = JanusTap.start(janus.url);
    await using t = await startTestServer({ janusUrl: tap.url }, "error");
    await t.sfuLinked();
    const base = httpBase(t.url);
    const created = await fetch(`${base}/whip/race`, {
      method: "POST",
      headers: { "content-type": "application/sdp" },
      body: OFFER,
    });
    assert.equal(created.status, 201, await created.clone().text());
    await created.body?.cancel();
    const location = `${base}${created.headers.get("location")}`;
    // The restart's offer to Janus (a publisher's `configure` with a jsep)
    // and everything after it wait until the DELETE was answered.
    const asked = tap.holdFrom((request) =>
      (request.body as { request?: string } | undefined)?.request ===
        "configure" && request.jsep !== undefined
    );
    const restarting = fetch(location, {
      method: "PATCH",
      headers: {
        "content-type": "application/trickle-ice-sdpfrag",
        "if-match": "*",
      },
      body:
        "a=ice-ufrag:new1\r\na=ice-pwd:newpasswordnewpassword12\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n",
    });
    await asked;
    const deleted = await fetch(location, { method: "DELETE" });
    await deleted.body?.cancel();
    assert.equal(deleted.status, 200);
    // Janus answers the restart (new credentials) before it hears of the
    // DELETE: the session it answers for is over.
    await tap.release();
    const restarted = await restarting;
    assert.equal(restarted.status, 404, await restarted.clone().text());
    assert.equal((await restarted.json()).error, "not-found");
    const health = await (await fetch(`${base}/healthz`)).json();
    assert.equal(health.streams, 0);
  },
});
