/**
 * WHEP server offers (issue 23): a player POSTs no offer, gets Janus's in the
 * 201 and sends its answer by PATCH (`application/sdp`); trickle and ICE
 * restarts work after it. Against a stand-in for the router and Janus: the
 * join is live and Janus offers at once.
 */
import assert from "node:assert/strict";
import type { ClientMessage } from "../../protocol/messages.ts";
import { DEFAULT_SDP_LIMITS } from "../../protocol/sdp-check.ts";
import type { HttpSession } from "../../server/http/http-session.ts";
import { SessionEndpoint } from "../../server/http/session-endpoint.ts";
import type { SessionHost } from "../../server/http/session-host.ts";
import { WHEP } from "../../server/http/whep.ts";
import { createLogger } from "../../server/observe/logger.ts";
import type { Peer } from "../../server/signaling/peer.ts";

/** Janus's subscriber offer: its fixed numbers (VP8 96), its candidates. */
const JANUS_OFFER = [
  "v=0",
  "o=- 7 2 IN IP4 127.0.0.1",
  "s=VideoRoom",
  "t=0 0",
  "a=group:BUNDLE 0",
  "m=video 9 UDP/TLS/RTP/SAVPF 96",
  "c=IN IP4 127.0.0.1",
  "a=ice-ufrag:jan1",
  "a=ice-pwd:janusjanusjanusjanus12",
  "a=fingerprint:sha-256 AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB",
  "a=setup:actpass",
  "a=mid:0",
  "a=sendonly",
  "a=rtpmap:96 VP8/90000",
  "a=candidate:1 1 udp 2015363327 127.0.0.2 20000 typ host",
  "a=end-of-candidates",
  "",
].join("\r\n");
const JANUS_RESTARTED = JANUS_OFFER.replace("jan1", "jan2");
/** Firefox's answer to it: Janus's numbers, its own credentials. */
const PLAYER_ANSWER = [
  "v=0",
  "o=mozilla...THIS_IS_SDPARTA 1 0 IN IP4 0.0.0.0",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0",
  "m=video 9 UDP/TLS/RTP/SAVPF 96",
  "c=IN IP4 0.0.0.0",
  "a=ice-ufrag:ply1",
  "a=ice-pwd:playerplayerplayer1234",
  "a=fingerprint:sha-256 CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD",
  "a=setup:active",
  "a=mid:0",
  "a=recvonly",
  "a=rtpmap:96 VP8/90000",
  "",
].join("\r\n");
/** A client offer with H.264 only: nothing Janus's VP8 publisher can serve. */
const H264_OFFER = PLAYER_ANSWER.replace("a=setup:active", "a=setup:actpass")
  .replace("VP8/90000", "H264/90000");

function whepEndpoint() {
  const handled: ClientMessage[] = [];
  const answers: string[] = [];
  let ids = 0;
  const host: SessionHost = {
    sfuUp: () => true,
    newId: () => `client_${++ids}`,
    connected: () => {},
    handle(peer: Peer, message: ClientMessage) {
      handled.push(message);
      if (message.type === "join-stream") {
        peer.send({
          type: "join-accepted",
          streamId: "s",
          viewerId: peer.id,
          live: true,
          resume: "claim",
        });
        peer.send({
          type: "webrtc-offer",
          streamId: "s",
          viewerId: peer.id,
          offer: { type: "offer", sdp: JANUS_OFFER },
        });
      }
    },
    leave: () => {},
    originAllowed: () => true,
    roomForSession: () => true,
    maxSessions: 10,
    ice: {
      publisher: () => Promise.reject(new Error("no publishers here")),
      subscriber: () => Promise.resolve(JANUS_RESTARTED),
      answer: (_streamId, _viewerId, sdp) => {
        answers.push(sdp);
        return Promise.resolve();
      },
    },
    iceRestartIntervalMs: 0,
    maxSdpBytes: 64 * 1024,
    sdpLimits: DEFAULT_SDP_LIMITS,
    mediaConnectTimeoutMs: 60_000,
    logger: createLogger("silent"),
  };
  const endpoint = new SessionEndpoint<HttpSession>(host, WHEP);
  const send = (path: string, init: RequestInit = {}) =>
    endpoint.handle(new Request(`http://server.test${path}`, init), "1.2.3.4");
  const patch = (
    path: string,
    type: string,
    body: string,
    headers: Record<string, string> = {},
  ) =>
    send(path, {
      method: "PATCH",
      body,
      headers: { "content-type": type, ...headers },
    });
  return { endpoint, send, patch, handled, answers };
}

Deno.test("WHEP server offer: an empty POST gets Janus's offer in a 201; the player's answer by PATCH goes to Janus as it is (204), once", async () => {
  const { endpoint, send, patch, handled } = whepEndpoint();
  // As Eyevinn's webrtc-player sends it: application/sdp, empty body.
  const created = await send("/whep/s", {
    method: "POST",
    body: "",
    headers: { "content-type": "application/sdp" },
  });
  assert.equal(created.status, 201);
  assert.equal(created.headers.get("content-type"), "application/sdp");
  assert.equal(await created.text(), JANUS_OFFER);
  const location = created.headers.get("location")!;
  assert.match(location, /^\/whep\/s\/[0-9a-f-]+$/);
  const etag = created.headers.get("etag");
  assert.ok(etag);
  // Its answer comes by PATCH as application/sdp: said, as OPTIONS says.
  assert.equal(
    created.headers.get("accept-patch"),
    "application/trickle-ice-sdpfrag, application/sdp",
  );
  // Candidates before the answer have nothing to go into.
  const early = await patch(
    location,
    "application/trickle-ice-sdpfrag",
    "a=ice-ufrag:ply1\r\na=ice-pwd:playerplayerplayer1234\r\na=mid:0\r\n" +
      "a=candidate:1 1 udp 1 10.0.0.1 5000 typ host\r\n",
  );
  assert.equal(early.status, 409);
  assert.equal((await early.json()).error, "answer-first");
  // The answer, without If-Match (as Eyevinn's player sends it).
  const answered = await patch(location, "application/sdp", PLAYER_ANSWER);
  assert.equal(answered.status, 204);
  assert.equal(answered.headers.get("etag"), etag);
  assert.deepEqual(handled.at(-1), {
    type: "webrtc-answer",
    streamId: "s",
    answer: { type: "answer", sdp: PLAYER_ANSWER },
  });
  const again = await patch(location, "application/sdp", PLAYER_ANSWER);
  assert.equal(again.status, 409);
  assert.equal((await again.json()).error, "answered");
  // Trickle now reaches Janus under its own mid.
  const trickled = await patch(
    location,
    "application/trickle-ice-sdpfrag",
    "a=ice-ufrag:ply1\r\na=ice-pwd:playerplayerplayer1234\r\na=mid:0\r\n" +
      "a=candidate:1 1 udp 1 10.0.0.1 5000 typ host\r\n",
    { "if-match": etag! },
  );
  assert.equal(trickled.status, 204);
  // GET and HEAD on the session: 204, no content (the WHEP draft).
  for (const method of ["GET", "HEAD"]) {
    const got = await send(location, { method });
    assert.equal(got.status, 204, method);
    assert.equal(got.body, null, method);
  }
  const put = await send(location, { method: "PUT" });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get("allow"), "GET, HEAD, PATCH, DELETE, OPTIONS");
  await put.body?.cancel();
  const options = await send(location, { method: "OPTIONS" });
  assert.equal(
    options.headers.get("allow"),
    "GET, HEAD, PATCH, DELETE, OPTIONS",
  );
  const candidate = handled.at(-1);
  assert.equal(candidate?.type, "webrtc-ice-candidate");
  assert.equal(
    candidate?.type === "webrtc-ice-candidate" && candidate.candidate.sdpMid,
    "0",
  );
  assert.equal(endpoint.size, 1);
});

Deno.test("WHEP server offer: an empty POST with no Content-Type (the first drafts, Meetecho's client) too; a body without one is 415; an answer PATCH on a client-offer session is 409", async () => {
  const { send, patch } = whepEndpoint();
  const bare = await send("/whep/s", { method: "POST" });
  assert.equal(bare.status, 201);
  assert.equal(await bare.text(), JANUS_OFFER);
  const untyped = await send("/whep/s", { method: "POST", body: "v=0" });
  assert.equal(untyped.status, 415);
  await untyped.body?.cancel();
  // A client offer Janus's VP8 cannot serve: 400, the status on which
  // players switch to a server offer.
  const h264 = await send("/whep/s", {
    method: "POST",
    body: H264_OFFER,
    headers: { "content-type": "application/sdp" },
  });
  assert.equal(h264.status, 400);
  const problem = await h264.json();
  assert.equal(problem.error, "unplayable-offer");
  assert.match(problem.detail ?? problem.message, /POST without an offer/);
  const vp8 = await send("/whep/s", {
    method: "POST",
    body: PLAYER_ANSWER.replace("a=setup:active", "a=setup:actpass"),
    headers: { "content-type": "application/sdp" },
  });
  assert.equal(vp8.status, 201);
  const location = vp8.headers.get("location")!;
  await vp8.body?.cancel();
  const stray = await patch(location, "application/sdp", PLAYER_ANSWER);
  assert.equal(stray.status, 409);
  assert.equal((await stray.json()).error, "not-offered");
  // OPTIONS says a WHEP session takes an SDP answer as well as trickle.
  const options = await send(location, { method: "OPTIONS" });
  assert.equal(
    options.headers.get("accept-patch"),
    "application/trickle-ice-sdpfrag, application/sdp",
  );
});

Deno.test("WHEP server offer: an ICE restart gives Janus the player's answer with its new credentials and the player Janus's new ones", async () => {
  const { send, patch, answers } = whepEndpoint();
  const created = await send("/whep/s", { method: "POST" });
  const location = created.headers.get("location")!;
  await created.body?.cancel();
  await patch(location, "application/sdp", PLAYER_ANSWER);
  const restarted = await patch(
    location,
    "application/trickle-ice-sdpfrag",
    "a=ice-ufrag:ply2\r\na=ice-pwd:playerplayerplayer5678\r\n",
    { "if-match": "*" },
  );
  assert.equal(restarted.status, 200);
  const fragment = await restarted.text();
  assert.match(fragment, /a=ice-ufrag:jan2/);
  assert.equal(answers.length, 1);
  assert.match(answers[0], /a=ice-ufrag:ply2/);
  assert.match(answers[0], /a=rtpmap:96 VP8\/90000/);
  assert.doesNotMatch(answers[0], /ply1/);
});
