/**
 * A WHIP or WHEP session's media (server/http-sessions.ts): ended when Janus
 * hangs its handle up, or when its media is not up by
 * MEDIA_CONNECT_TIMEOUT_MS; kept once it is. A router stand-in answers the
 * POST; time is a fake clock. With Janus: tests/e2e/whip-http.test.ts.
 */
import assert from "node:assert/strict";
import type { ClientMessage } from "../../protocol/messages.ts";
import { DEFAULT_SDP_LIMITS } from "../../protocol/sdp-check.ts";
import {
  type HttpSession,
  SessionEndpoint,
  type SessionHost,
} from "../../server/http-sessions.ts";
import { createLogger } from "../../server/logger.ts";
import type { Peer } from "../../server/peer.ts";
import { WHIP } from "../../server/whip.ts";
import { fakeClock } from "./support/clock.ts";

const TIMEOUT_MS = 5_000;
const OFFER = [
  "v=0",
  "o=- 1 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "m=video 9 UDP/TLS/RTP/SAVPF 96",
  "a=mid:0",
  "a=rtpmap:96 VP8/90000",
  "",
].join("\r\n");

function setUp(janusAnswers = true) {
  const left: [string, string][] = [];
  /** Settles when the router first hears of a session. */
  const entered = Promise.withResolvers<void>();
  let ids = 0;
  const host: SessionHost = {
    sfuUp: () => true,
    newId: () => `client_${++ids}`,
    connected: () => entered.resolve(),
    // The router and Janus in one: accepted, asked to publish, answered.
    handle(peer: Peer, message: ClientMessage) {
      const streamId = "s";
      if (message.type === "broadcaster-ready") {
        peer.send({ type: "sfu-publish", streamId });
      } else if (message.type === "sfu-offer" && janusAnswers) {
        peer.send({
          type: "sfu-answer",
          streamId,
          answer: { type: "answer", sdp: OFFER },
        });
      }
    },
    leave: (peer, cause) => left.push([peer.id, cause]),
    originAllowed: () => true,
    roomForSession: () => true,
    maxSessions: 10,
    ice: {
      publisher: () => Promise.reject(new Error("unused")),
      subscriber: () => Promise.reject(new Error("unused")),
      answer: () => Promise.reject(new Error("unused")),
    },
    iceRestartIntervalMs: 0,
    maxSdpBytes: 64 * 1024,
    sdpLimits: DEFAULT_SDP_LIMITS,
    mediaConnectTimeoutMs: TIMEOUT_MS,
    logger: createLogger("silent"),
  };
  const endpoint = new SessionEndpoint<HttpSession>(host, WHIP);
  const request = () =>
    endpoint.handle(
      new Request("http://server.test/whip/s", {
        method: "POST",
        body: OFFER,
        headers: { "content-type": "application/sdp" },
      }),
      "192.0.2.1",
    );
  const post = async () => {
    const response = await endpoint.handle(
      new Request("http://server.test/whip/s", {
        method: "POST",
        body: OFFER,
        headers: { "content-type": "application/sdp" },
      }),
      "192.0.2.1",
    );
    assert.equal(response.status, 201);
    return response.headers.get("location")!;
  };
  const deleted = async (location: string) =>
    (await endpoint.handle(
      new Request(`http://server.test${location}`, { method: "DELETE" }),
      "192.0.2.1",
    )).status;
  return { endpoint, left, post, deleted, request, entered: entered.promise };
}

Deno.test("a session whose media is not up by MEDIA_CONNECT_TIMEOUT_MS ends; one whose media came up stays", async () => {
  using clock = fakeClock();
  const { endpoint, left, post, deleted } = setUp();
  const silent = await post();
  clock.tick(TIMEOUT_MS - 1);
  assert.deepEqual(left, []);
  clock.tick(1);
  assert.deepEqual(left, [["client_1", "whip-media-timeout"]]);
  assert.equal(await deleted(silent), 404);

  const connected = await post();
  endpoint.media({
    streamId: "s",
    viewerId: undefined,
    clientId: "client_2",
    up: true,
  });
  clock.tick(TIMEOUT_MS * 10);
  assert.equal(left.length, 1);
  assert.equal(endpoint.size, 1);
  assert.equal(await deleted(connected), 200);
  assert.deepEqual(left.at(-1), ["client_2", "whip-delete"]);
});

Deno.test("Janus hanging up a session's handle ends it; another publisher's, another stream's or a viewer's hangup does not", async () => {
  using _clock = fakeClock();
  const { endpoint, left, post, deleted } = setUp();
  const location = await post();
  const publisher = {
    streamId: "s",
    viewerId: undefined,
    clientId: "client_1",
  };
  endpoint.media({ ...publisher, up: true });
  // A WebSocket broadcaster of the same stream, the same id on another
  // stream, a viewer with the session's id: none is this session.
  endpoint.media({ ...publisher, clientId: "client_ws", up: false });
  endpoint.media({ ...publisher, streamId: "other", up: false });
  endpoint.media({ ...publisher, viewerId: "client_1", up: false });
  assert.deepEqual(left, []);
  endpoint.media({ ...publisher, up: false, reason: "ICE failed" });
  assert.deepEqual(left, [["client_1", "whip-hangup"]]);
  assert.equal(await deleted(location), 404);
});

Deno.test("a session Janus hangs up before it answered: its POST hears 503 at once, not at the answer timeout", async () => {
  using _clock = fakeClock();
  const { endpoint, left, request, entered } = setUp(false);
  const pending = request();
  // Its publish is under way: Janus hangs the handle up.
  await entered;
  endpoint.media({
    streamId: "s",
    viewerId: undefined,
    clientId: "client_1",
    up: false,
  });
  const response = await pending;
  assert.equal(response.status, 503);
  assert.equal((await response.json()).error, "sfu-unavailable");
  assert.deepEqual(left, [["client_1", "whip-hangup"]]);
});
