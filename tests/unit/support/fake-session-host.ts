/**
 * A WHIP endpoint (server/http/session-endpoint.ts) over a stand-in for the router
 * and Janus: the router admits, asks to publish and Janus answers at once
 * (or never, with `janusAnswers: false`); ICE restarts answer with new
 * credentials. Requests go to `endpoint.handle` as plain `Request`s.
 */
import type { ClientMessage } from "../../../protocol/messages.ts";
import { DEFAULT_SDP_LIMITS } from "../../../protocol/sdp-check.ts";
import type { HttpSession } from "../../../server/http/http-session.ts";
import { SessionEndpoint } from "../../../server/http/session-endpoint.ts";
import type { SessionHost } from "../../../server/http/session-host.ts";
import { createLogger } from "../../../server/observe/logger.ts";
import type { Peer } from "../../../server/signaling/peer.ts";
import { WHIP } from "../../../server/http/whip.ts";

export const MEDIA_TIMEOUT_MS = 5_000;
export const OFFER = [
  "v=0",
  "o=- 1 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "m=video 9 UDP/TLS/RTP/SAVPF 96",
  "a=ice-ufrag:old1",
  "a=ice-pwd:oldpasswordoldpassword12",
  "a=mid:0",
  "a=rtpmap:96 VP8/90000",
  "",
].join("\r\n");
/** Janus's answer, and its credentials after a restart. */
const ANSWER = OFFER.replace("old1", "jan1");
const RESTARTED = OFFER.replace("old1", "jan2");

export interface FakeHostOptions extends Partial<SessionHost> {
  janusAnswers?: boolean;
}

export function whipEndpoint(options: FakeHostOptions = {}) {
  const { janusAnswers = true, ...overrides } = options;
  const left: [string, string][] = [];
  const restarts: string[] = [];
  /** Settles when the router first hears of a session. */
  const entered = Promise.withResolvers<void>();
  let ids = 0;
  const host: SessionHost = {
    sfuUp: () => true,
    newId: () => `client_${++ids}`,
    connected: () => entered.resolve(),
    handle(peer: Peer, message: ClientMessage) {
      const streamId = "s";
      if (message.type === "broadcaster-ready") {
        peer.send({ type: "sfu-publish", streamId });
      } else if (message.type === "sfu-offer" && janusAnswers) {
        peer.send({
          type: "sfu-answer",
          streamId,
          answer: { type: "answer", sdp: ANSWER },
        });
      }
    },
    leave: (peer, cause) => left.push([peer.id, cause]),
    originAllowed: (origin) => origin === "https://shop.example",
    roomForSession: () => true,
    maxSessions: 10,
    ice: {
      publisher: (_streamId, offer) => {
        restarts.push(offer);
        return Promise.resolve(RESTARTED);
      },
      subscriber: () => Promise.reject(new Error("no subscribers here")),
      answer: () => Promise.reject(new Error("no subscribers here")),
    },
    iceRestartIntervalMs: 0,
    maxSdpBytes: 64 * 1024,
    sdpLimits: DEFAULT_SDP_LIMITS,
    mediaConnectTimeoutMs: MEDIA_TIMEOUT_MS,
    logger: createLogger("silent"),
    ...overrides,
  };
  const endpoint = new SessionEndpoint<HttpSession>(host, WHIP);
  const send = (
    path: string,
    init: RequestInit & { headers?: Record<string, string> } = {},
  ) =>
    endpoint.handle(
      new Request(`http://server.test${path}`, init),
      "192.0.2.1",
    );
  const request = (headers: Record<string, string> = {}, body = OFFER) =>
    send("/whip/s", {
      method: "POST",
      body,
      headers: { "content-type": "application/sdp", ...headers },
    });
  /** POSTs the offer; the 201's location and ETag. */
  const post = async (headers: Record<string, string> = {}) => {
    const response = await request(headers);
    if (response.status !== 201) {
      throw new Error(`POST: ${response.status} ${await response.text()}`);
    }
    return {
      location: response.headers.get("location")!,
      etag: response.headers.get("etag")!,
      response,
    };
  };
  /** A PATCH of `location` with a trickle fragment. */
  const patch = (
    location: string,
    body: string,
    headers: Record<string, string> = {},
  ) =>
    send(location, {
      method: "PATCH",
      body,
      headers: {
        "content-type": "application/trickle-ice-sdpfrag",
        ...headers,
      },
    });
  const deleted = async (location: string) =>
    (await send(location, { method: "DELETE" })).status;
  return {
    endpoint,
    left,
    restarts,
    post,
    request,
    send,
    patch,
    deleted,
    entered: entered.promise,
  };
}
