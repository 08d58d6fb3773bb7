/**
 * What WHIP (server/http/whip.ts) and WHEP (server/http/whep.ts) share: a session is a
 * client without a socket, a {@link Peer} the router treats like any other
 * (tokens, caps, takeover, audit, rate limits), opened by POSTing an SDP
 * offer and answered in the 201; `PATCH` carries trickled candidates
 * (RFC 8840 fragments) and `DELETE` ends it. One {@link SessionEndpoint}
 * serves `/{kind}/{streamId}` and `/{kind}/{streamId}/{resource}` for
 * either kind.
 */
import type {
  ClientMessage,
  IceServer,
  ServerMessage,
} from "../../protocol/messages.ts";
import { STREAM_ID_PATTERN } from "../../protocol/messages.ts";
import {
  sdpLimitProblem,
  type SdpLimits,
  sdpSyntaxProblem,
  withCrlf,
} from "../../protocol/sdp-check.ts";
import {
  fragmentOf,
  iceCredentials,
  parseFragment,
  type SdpFragment,
  TRICKLE_ICE_SDPFRAG,
  withIce,
} from "../../protocol/sdp-fragment.ts";
import type { Logger } from "../observe/logger.ts";
import type { DropReason } from "../observe/metrics.ts";
import type { Peer } from "../signaling/peer.ts";
import type { MediaEvent } from "../sfu/sfu-gateway.ts";
import { problem } from "./problem-details.ts";
import { decoded, readLimited, Refused } from "./http-body.ts";

/** What the endpoints need of the server. */
export interface SessionHost {
  /** Whether Janus is linked (else 503: these clients need the SFU). */
  sfuUp(): boolean;
  /** A fresh client id. */
  newId(): string;
  connected(peer: Peer): void;
  handle(peer: Peer, message: ClientMessage): void | Promise<void>;
  /** The session ended (DELETE, refused, or closed by the server). */
  leave(peer: Peer, cause: string): void;
  /** Whether `origin` may use the endpoint (CORS, as for WebSockets). */
  originAllowed(origin: string | null): boolean;
  /** Whether another WHIP or WHEP session fits (MAX_HTTP_SESSIONS). */
  roomForSession(): boolean;
  /** MAX_HTTP_SESSIONS (also bounds what is remembered of ended ones). */
  maxSessions: number;
  /** ICE restarts with Janus (they concern only the client and Janus). */
  ice: IceRestarts;
  /** A session's ICE restarts at most one per this (ICE_RESTART_INTERVAL_MS). */
  iceRestartIntervalMs: number;
  /** Largest body (MAX_SDP_BYTES): read no further than this. */
  maxSdpBytes: number;
  /** Bounds on an offer or fragment (MAX_SDP_MEDIA_SECTIONS, _LINES, _LINE_BYTES). */
  sdpLimits: SdpLimits;
  /** A session whose media is not up this long after its 201 ends (MEDIA_CONNECT_TIMEOUT_MS). */
  mediaConnectTimeoutMs: number;
  logger: Logger;
}

/** What an ICE restart by PATCH asks of Janus (server/sfu/sfu-gateway.ts). */
export interface IceRestarts {
  /** The publisher's offer with new credentials: Janus's answer. */
  publisher(streamId: string, offer: string): Promise<string>;
  /** A subscriber's restart: Janus's new offer. */
  subscriber(streamId: string, viewerId: string): Promise<string>;
  /** The subscriber's answer to that offer. */
  answer(streamId: string, viewerId: string, answer: string): Promise<void>;
}

/** How long the SFU has to answer before the POST fails with 503. */
const ANSWER_TIMEOUT_MS = 10_000;

const SDP = "application/sdp";
const TRICKLE = TRICKLE_ICE_SDPFRAG;

/** A refusal as an HTTP status, from the router's error codes. */
const STATUS: Record<string, number> = {
  "token-required": 401,
  "token-malformed": 401,
  "token-signature": 401,
  "token-algorithm": 401,
  "token-expired": 401,
  "token-not-yet-valid": 401,
  "token-wrong-stream": 403,
  "token-wrong-role": 403,
  "stream-taken": 409,
  "invalid-stream-id": 400,
  "join-rate-limited": 429,
  "rate-limited": 429,
  // A full stream, a store or SFU away: try again later.
  "stream-full": 503,
  "cluster-unavailable": 503,
  "sfu-unavailable": 503,
};

/** A client without a socket, as the router sees it. */
export abstract class HttpSession implements Peer {
  readonly id: string;
  readonly remoteAddress: string;
  /** Through the SFU only: it cannot exchange media with a browser peer. */
  readonly sfuOnly = true;
  /** The resource's unguessable name in its URL (PATCH and DELETE). */
  readonly resource = crypto.randomUUID();
  readonly streamId: string;
  /** The client's offer (with its current ICE credentials after a restart). */
  offer: string;
  /** The entity tag of the ICE session (RFC 9725 §4.3): new at each restart. */
  etag = newEtag();
  /** When its last ICE restart began (`performance.now()`). */
  restartedAt = -Infinity;
  /** An ICE restart is under way (with Janus). */
  restarting = false;
  resumed = undefined;
  isOpen = true;
  /** The ICE servers the server grants it (for the `Link` headers). */
  iceServers: IceServer[] | undefined;
  /** Janus said its media connection is up (`webrtcup`). */
  mediaUp = false;
  /** Ends it if its media is not up in time (MEDIA_CONNECT_TIMEOUT_MS). */
  mediaDeadline: ReturnType<typeof setTimeout> | undefined;
  protected readonly host: SessionHost;
  #answer = Promise.withResolvers<string>();
  #onEnd: (session: HttpSession, cause: string) => void;

  constructor(
    host: SessionHost,
    streamId: string,
    offer: string,
    remoteAddress: string,
    onEnd: (session: HttpSession, cause: string) => void,
  ) {
    this.host = host;
    this.id = host.newId();
    this.streamId = streamId;
    this.offer = offer;
    this.remoteAddress = remoteAddress;
    this.#onEnd = onEnd;
    this.#answer.promise.catch(() => {});
  }

  /** The answer for the client, or why not. */
  get answer(): Promise<string> {
    return this.#answer.promise;
  }

  /** Its announce or join, with the POST's token. */
  abstract enter(token: string | undefined): ClientMessage;

  /** A server message for this client. */
  abstract send(message: ServerMessage): void;

  /**
   * An ICE restart: `offer` is the client's offer with its new credentials
   * (candidates come after, trickled); the answer whose ICE part goes back.
   */
  abstract restartIce(offer: string): Promise<string>;

  /** A candidate the client trickled, under its `mid`. */
  abstract trickle(
    candidate: string,
    mid: string | undefined,
  ): void | Promise<void>;

  sendRaw(text: string, message?: ServerMessage): void {
    // Only a frame from another node comes without its message.
    this.send(message ?? JSON.parse(text) as ServerMessage);
  }

  close(_code: number, reason: string, why: DropReason): void {
    if (!this.isOpen) return;
    this.refuse(409, "replaced", reason);
    // Taken over by a newer session of the same sender: remembered, so the
    // old one learns it rather than coming back for the stream.
    this.end(why === "replaced" ? "replaced" : "closed");
  }

  /** The POST was answered (201): later refusals end the session instead. */
  protected settled = false;

  protected answered(sdp: string): void {
    this.settled = true;
    this.#answer.resolve(sdp);
  }

  protected refuse(status: number, code: string, message: string): void {
    this.settled = true;
    this.#answer.reject(new Refused(status, code, message));
  }

  /** Refused by the server before it was answered: the POST says why. */
  protected refused(message: ServerMessage & { type: "error" }): void {
    this.refuse(STATUS[message.code] ?? 503, message.code, message.message);
  }

  protected end(cause: string): void {
    this.#onEnd(this, cause);
  }

  /** Ended before its POST was answered: the POST hears it now, not at its timeout. */
  abandoned(): void {
    if (this.settled) return;
    this.refuse(
      503,
      "sfu-unavailable",
      "The session ended before the SFU answered",
    );
  }
}

/** One kind of session: how it is made, and what its offer must hold. */
export interface SessionKind<S extends HttpSession> {
  /** The path's first segment: `whip` or `whep`. */
  name: string;
  /** Whether the offer is one this kind can use (else 400 with `unusable`). */
  usable(offer: string): boolean;
  /** Why an offer that is not {@link usable} is refused. */
  unusable: string;
  /** Its sessions publish their stream (WHIP), rather than watch it (WHEP). */
  publishes: boolean;
  open(
    host: SessionHost,
    streamId: string,
    offer: string,
    remoteAddress: string,
    onEnd: (session: HttpSession, cause: string) => void,
  ): S;
}

/** How long a session taken over is remembered (PATCH then gets 409). */
const REPLACED_MEMORY_MS = 10 * 60_000;

/** `/{kind}/{streamId}` and `/{kind}/{streamId}/{resource}`. */
export class SessionEndpoint<S extends HttpSession> {
  #host: SessionHost;
  #kind: SessionKind<S>;
  #sessions = new Map<string, S>();
  /** The same sessions by client id (Janus's media events name those). */
  #byId = new Map<string, S>();
  /**
   * Sessions a newer one of the same sender took over, with when: their
   * client hears 409 `replaced` instead of 404 (after which it would POST
   * again and take the stream back: two tabs taking turns).
   */
  #replaced = new Map<string, number>();

  constructor(host: SessionHost, kind: SessionKind<S>) {
    this.#host = host;
    this.#kind = kind;
  }

  /** Sessions open now. */
  get size(): number {
    return this.#sessions.size;
  }

  /**
   * Janus's word on a session's media: up (its deadline is met), or hung up
   * (ICE or DTLS failed, the client closed): the session ends. WHIP
   * sessions are the stream's publisher (no viewer), WHEP ones a viewer.
   */
  media(event: MediaEvent): void {
    // A WHIP session is its stream's publisher, a WHEP one a subscriber:
    // each named by its client id (another broadcaster of the same stream,
    // over WebSocket, is not this endpoint's).
    if ((event.viewerId === undefined) !== this.#kind.publishes) return;
    const session = event.clientId && this.#byId.get(event.clientId);
    if (!session || session.streamId !== event.streamId) return;
    if (event.up) {
      session.mediaUp = true;
      clearTimeout(session.mediaDeadline);
      return;
    }
    this.#host.logger.info(`${this.#kind.name}-hangup`, {
      streamId: session.streamId,
      clientId: session.id,
      reason: event.reason,
    });
    this.#end(session, `${this.#kind.name}-hangup`);
  }

  /** Janus lost: every session with it (none can go peer to peer). */
  endAll(cause: string): void {
    for (const session of [...this.#sessions.values()]) {
      this.#end(session, cause);
    }
  }

  async handle(request: Request, remoteAddress: string): Promise<Response> {
    const cors = corsHeaders(request, this.#host);
    try {
      return await this.#route(request, remoteAddress, cors);
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      return problem(error.status, error.code, error.message, cors);
    }
  }

  async #route(
    request: Request,
    remoteAddress: string,
    cors: Record<string, string>,
  ): Promise<Response> {
    const url = new URL(request.url);
    const [, , rawStream, resource, extra] = url.pathname.split("/");
    const streamId = decoded(rawStream ?? "");
    const name = this.#kind.name.toUpperCase();
    if (extra !== undefined || !STREAM_ID_PATTERN.test(streamId)) {
      return problem(404, "not-found", `No such ${name} resource`, cors);
    }
    if (request.method === "OPTIONS") {
      return new Response(null, {
        status: 204,
        headers: {
          ...cors,
          "access-control-allow-methods": resource
            ? "PATCH, DELETE, OPTIONS"
            : "POST, OPTIONS",
          "access-control-allow-headers":
            "authorization, content-type, if-match",
          "access-control-max-age": "600",
          "accept-post": SDP,
        },
      });
    }
    if (resource === undefined) {
      if (request.method !== "POST") {
        return problem(405, "method-not-allowed", "POST an SDP offer", {
          ...cors,
          allow: "POST, OPTIONS",
        });
      }
      return await this.#open(request, streamId, remoteAddress, cors);
    }
    const session = this.#sessions.get(resource);
    if (!session || session.streamId !== streamId) {
      if (this.#wasReplaced(resource)) {
        return problem(
          409,
          "replaced",
          "A newer session of this sender took over the stream",
          cors,
        );
      }
      return problem(404, "not-found", `No such ${name} session`, cors);
    }
    switch (request.method) {
      case "DELETE":
        this.#end(session, `${this.#kind.name}-delete`);
        return new Response(null, { status: 200, headers: cors });
      case "PATCH":
        return await this.#patch(request, session, cors);
      default:
        return problem(405, "method-not-allowed", "PATCH or DELETE", {
          ...cors,
          allow: "PATCH, DELETE, OPTIONS",
        });
    }
  }

  async #open(
    request: Request,
    streamId: string,
    remoteAddress: string,
    cors: Record<string, string>,
  ): Promise<Response> {
    if (contentType(request) !== SDP) {
      return problem(415, "unsupported-media-type", `Send ${SDP}`, cors);
    }
    const body = await readLimited(request, this.#host.maxSdpBytes);
    // Refused here, at once: Janus would take 10 s to fail on some of it.
    const unusable = sdpLimitProblem(body, this.#host.sdpLimits) ??
      sdpSyntaxProblem(body) ??
      (this.#kind.usable(body) ? undefined : this.#kind.unusable);
    if (unusable) return problem(400, "bad-sdp", unusable, cors);
    const offer = withCrlf(body);
    const retry = { ...cors, "retry-after": "5" };
    if (!this.#host.sfuUp()) {
      return problem(503, "sfu-unavailable", "The SFU is not reachable", retry);
    }
    if (!this.#host.roomForSession()) {
      return problem(
        503,
        "server-full",
        "The server is at its limit of WHIP and WHEP sessions",
        retry,
      );
    }
    const session = this.#kind.open(
      this.#host,
      streamId,
      offer,
      remoteAddress,
      (ended, cause) => this.#end(ended as S, cause),
    );
    this.#sessions.set(session.resource, session);
    this.#byId.set(session.id, session);
    this.#host.connected(session);
    void this.#host.handle(session, session.enter(bearer(request)));
    const timer = setTimeout(
      () =>
        session.send({
          type: "error",
          code: "internal-error",
          message: "The SFU did not answer in time",
        }),
      ANSWER_TIMEOUT_MS,
    );
    try {
      const answer = await session.answer;
      const location = `/${this.#kind.name}/${
        encodeURIComponent(streamId)
      }/${session.resource}`;
      this.#awaitMedia(session);
      return new Response(answer, {
        status: 201,
        headers: new Headers([
          ...Object.entries(cors),
          ["content-type", SDP],
          ["location", location],
          ["etag", session.etag],
          ["accept-patch", TRICKLE],
          ...iceServerLinks(session.iceServers).map((
            link,
          ): [string, string] => ["link", link]),
        ]),
      });
    } catch (error) {
      this.#end(session, `${this.#kind.name}-refused`);
      // Our bug: the HTTP handler logs it and answers a plain 500.
      if (!(error instanceof Refused)) throw error;
      return problem(
        error.status,
        error.code,
        error.message,
        error.status === 503 || error.status === 429 ? retry : cors,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** Trickled candidates (RFC 8840 fragments) for the client's connection. */
  async #patch(
    request: Request,
    session: S,
    cors: Record<string, string>,
  ): Promise<Response> {
    if (contentType(request) !== TRICKLE) {
      return problem(415, "unsupported-media-type", `Send ${TRICKLE}`, cors);
    }
    const fragment = await readLimited(request, this.#host.maxSdpBytes);
    const tooLarge = sdpLimitProblem(fragment, this.#host.sdpLimits);
    if (tooLarge) return problem(400, "bad-sdp", tooLarge, cors);
    const parsed = parseFragment(fragment);
    const current = iceCredentials(session.offer);
    const restart = parsed.ufrag !== undefined &&
      parsed.ufrag !== current?.ufrag;
    // RFC 9725 §4.3: a restart carries `If-Match: "*"`; a trickle the
    // entity tag it knows, if any; an old one is a lost race.
    const ifMatch = request.headers.get("if-match")?.trim();
    if (restart && ifMatch === undefined) {
      return problem(
        428,
        "if-match-required",
        'An ICE restart needs If-Match: "*"',
        cors,
      );
    }
    if (ifMatch !== undefined && ifMatch !== "*" && ifMatch !== session.etag) {
      return problem(412, "etag-mismatch", "Another ICE session is current", {
        ...cors,
        etag: session.etag,
      });
    }
    if (restart) return await this.#restart(session, parsed, cors);
    for (const { candidate, mid } of parsed.candidates) {
      await session.trickle(candidate, mid);
    }
    return new Response(null, { status: 204, headers: cors });
  }

  /** New ICE credentials: the client and Janus restart ICE (200, new ETag). */
  async #restart(
    session: S,
    fragment: SdpFragment,
    cors: Record<string, string>,
  ): Promise<Response> {
    if (!fragment.pwd) {
      return problem(
        400,
        "bad-fragment",
        "A new ice-ufrag needs its ice-pwd",
        cors,
      );
    }
    // One at a time, and not more often than the interval: each is work
    // for Janus.
    const wait = session.restarting
      ? Math.max(1_000, this.#host.iceRestartIntervalMs)
      : session.restartedAt + this.#host.iceRestartIntervalMs -
        performance.now();
    if (wait > 0) {
      return problem(429, "ice-restart-too-soon", "ICE restarted just now", {
        ...cors,
        "retry-after": String(Math.max(1, Math.ceil(wait / 1000))),
      });
    }
    session.restartedAt = performance.now();
    session.restarting = true;
    // The candidates follow, trickled, once Janus knows the new credentials.
    const offer = withIce(session.offer, { ...fragment, candidates: [] });
    let answer: string;
    try {
      answer = await session.restartIce(offer);
    } catch (error) {
      session.restarting = false;
      // The session stays: the client may try again or start anew.
      this.#host.logger.warn(`${this.#kind.name}-ice-restart-failed`, {
        streamId: session.streamId,
        error: String(error),
      });
      return problem(
        503,
        "ice-restart-failed",
        "The SFU did not restart ICE",
        { ...cors, "retry-after": "2" },
      );
    }
    session.restarting = false;
    session.offer = offer;
    session.etag = newEtag();
    // A restart while it first connects: its media has a new chance.
    if (!session.mediaUp) {
      clearTimeout(session.mediaDeadline);
      this.#awaitMedia(session);
    }
    for (const { candidate, mid } of fragment.candidates) {
      await session.trickle(candidate, mid);
    }
    this.#host.logger.info(`${this.#kind.name}-ice-restart`, {
      streamId: session.streamId,
      clientId: session.id,
    });
    return new Response(fragmentOf(answer), {
      status: 200,
      headers: { ...cors, "content-type": TRICKLE, etag: session.etag },
    });
  }

  #wasReplaced(resource: string): boolean {
    const at = this.#replaced.get(resource);
    return at !== undefined && performance.now() - at < REPLACED_MEMORY_MS;
  }

  /** Ends `session` unless Janus says its media is up in time. */
  #awaitMedia(session: S): void {
    if (session.mediaUp || !session.isOpen) return;
    session.mediaDeadline = setTimeout(() => {
      if (session.mediaUp) return;
      this.#host.logger.warn(`${this.#kind.name}-media-timeout`, {
        streamId: session.streamId,
        clientId: session.id,
        afterMs: this.#host.mediaConnectTimeoutMs,
      });
      this.#end(session, `${this.#kind.name}-media-timeout`);
    }, this.#host.mediaConnectTimeoutMs);
  }

  #end(session: S, cause: string): void {
    if (!this.#sessions.delete(session.resource)) return;
    this.#byId.delete(session.id);
    clearTimeout(session.mediaDeadline);
    session.abandoned();
    if (cause === "replaced") {
      const now = performance.now();
      // Oldest first: forget what is past its time, and never more than
      // there may be sessions.
      for (const [resource, at] of this.#replaced) {
        if (
          now - at < REPLACED_MEMORY_MS &&
          this.#replaced.size < this.#host.maxSessions
        ) break;
        this.#replaced.delete(resource);
      }
      this.#replaced.set(session.resource, now);
    }
    session.isOpen = false;
    this.#host.leave(session, cause);
  }
}

/** A strong entity tag, quoted (RFC 9110 §8.8.3). */
function newEtag(): string {
  return `"${crypto.randomUUID()}"`;
}

function contentType(request: Request): string | undefined {
  return request.headers.get("content-type")?.split(";")[0].trim()
    .toLowerCase();
}

function bearer(request: Request): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")
    ?.[1];
}

/** RFC 9725 `Link` headers for ICE servers (TURN with its credentials). */
function iceServerLinks(servers: IceServer[] | undefined): string[] {
  const links: string[] = [];
  for (const server of servers ?? []) {
    const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
    for (const url of urls) {
      const credentials = server.username !== undefined
        ? `; username="${server.username}"; credential="${server.credential}"; credential-type="password"`
        : "";
      links.push(`<${url}>; rel="ice-server"${credentials}`);
    }
  }
  return links;
}

/** CORS grant for an allowed Origin (WHIP and WHEP clients read these headers). */
function corsHeaders(
  request: Request,
  host: Pick<SessionHost, "originAllowed">,
): Record<string, string> {
  const origin = request.headers.get("origin");
  if (!origin || !host.originAllowed(origin)) return {};
  return {
    "access-control-allow-origin": origin,
    "access-control-expose-headers": "location, link, etag",
    vary: "origin",
  };
}
