/**
 * One endpoint serves WHIP (whip.ts) or WHEP (whep.ts) over HTTP:
 * `POST /{kind}/{streamId}` with an SDP offer opens a session
 * (http-session.ts), answered in the 201; `PATCH` on its resource carries
 * trickled candidates (RFC 8840 fragments) or an ICE restart (RFC 9725
 * §4.3, with entity tags), `DELETE` ends it. Paths are read by the route
 * table (routes.ts), refusals are problem details (problem-details.ts).
 */
import {
  sdpLimitProblem,
  sdpSyntaxProblem,
  withCrlf,
} from "../../protocol/sdp-check.ts";
import {
  fragmentOf,
  iceCredentials,
  parseFragment,
  type SdpFragment,
  withIce,
} from "../../protocol/sdp-fragment.ts";
import type { MediaEvent } from "../sfu/sfu-gateway.ts";
import { readLimited, Refused } from "./http-body.ts";
import type { HttpSession, SessionKind } from "./http-session.ts";
import { problem } from "./problem-details.ts";
import { type Route, route as routeOf } from "./routes.ts";
import {
  bearer,
  contentType,
  corsHeaders,
  iceServerLinks,
  newEtag,
  SDP,
  TRICKLE,
} from "./session-headers.ts";
import { restartWait } from "./session-state.ts";
import {
  handOn,
  IceRestartElsewhere,
  type SessionHost,
} from "./session-host.ts";
import { ReplacedSessions } from "./replaced-sessions.ts";

/** How long the SFU has to answer before the POST fails with 503. */
const ANSWER_TIMEOUT_MS = 10_000;

type Cors = Record<string, string>;

/**
 * A refused POST's headers: when to ask again (its own, or 5 s when busy),
 * and how to authenticate after a 401 (RFC 9110 §15.5.2 asks for it; RFC
 * 6750 §3's form: no error code when no token came).
 */
function refusalHeaders(refusal: Refused, cors: Cors): Cors {
  const { status, code, retryAfter } = refusal;
  const after = retryAfter ??
    (status === 503 || status === 429 ? 5 : undefined);
  return {
    ...cors,
    ...(after !== undefined ? { "retry-after": String(after) } : {}),
    ...(status === 401
      ? {
        "www-authenticate": code === "token-required"
          ? "Bearer"
          : 'Bearer error="invalid_token"',
      }
      : {}),
  };
}

/** `/{kind}/{streamId}` and `/{kind}/{streamId}/{resource}`. */
export class SessionEndpoint<S extends HttpSession> {
  #host: SessionHost;
  #kind: SessionKind<S>;
  #sessions = new Map<string, S>();
  /** The same sessions by client id (Janus's media events name those). */
  #byId = new Map<string, S>();
  /** Sessions a newer one of the same sender took over. */
  #replaced: ReplacedSessions;

  constructor(host: SessionHost, kind: SessionKind<S>) {
    this.#host = host;
    this.#kind = kind;
    this.#replaced = new ReplacedSessions(() => host.maxSessions);
  }

  /**
   * What a session takes by PATCH: trickle fragments; a WHEP session a
   * server offer's answer (`application/sdp`) too. The same in the 201 as
   * in OPTIONS.
   */
  get #acceptPatch(): string {
    return this.#kind.serverOffers ? `${TRICKLE}, ${SDP}` : TRICKLE;
  }

  /** Sessions open now. */
  get size(): number {
    return this.#sessions.size;
  }

  /**
   * Janus's word on a session's media: up (its deadline is met), stopped
   * (a WHIP publisher heard from no more: a deadline runs), or hung up
   * (ICE or DTLS failed, the client closed): the session ends.
   */
  media(event: MediaEvent): void {
    // A WHIP session is its stream's publisher, a WHEP one a subscriber:
    // each named by its client id (another broadcaster of the same stream,
    // over WebSocket, is not this endpoint's).
    if ((event.viewerId === undefined) !== this.#kind.publishes) return;
    const session = event.clientId && this.#byId.get(event.clientId);
    if (!session || session.streamId !== event.streamId) return;
    if (event.up) {
      return event.flowing === false
        ? session.mediaStopped()
        : session.mediaUp();
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

  /** Ends the sessions of `streams` (their Janus instance was lost). */
  endStreams(streams: readonly string[], cause: string): void {
    const lost = new Set(streams);
    for (const session of [...this.#sessions.values()]) {
      if (lost.has(session.streamId)) this.#end(session, cause);
    }
  }

  /**
   * Answers `request`; `route` is its match in the route table, when the
   * caller has it already.
   */
  async handle(
    request: Request,
    remoteAddress: string,
    route: Route | undefined = routeOf(new URL(request.url).pathname),
  ): Promise<Response> {
    const cors = corsHeaders(request, (o) => this.#host.originAllowed(o));
    try {
      return await this.#route(request, remoteAddress, route, cors);
    } catch (error) {
      if (error instanceof Refused) {
        return problem(error.status, error.code, error.message, cors);
      }
      // Our bug: logged as the HTTP handler logs one, and its 500 carries
      // the CORS grant (without it a browser player sees an opaque failure).
      this.#host.logger.error("http-handler-failed", {
        method: request.method,
        path: new URL(request.url).pathname.slice(0, 200),
        error: String(error),
      });
      return problem(
        500,
        "internal-error",
        "The server failed on this request",
        cors,
      );
    }
  }

  async #route(
    request: Request,
    remoteAddress: string,
    route: Route | undefined,
    cors: Cors,
  ): Promise<Response> {
    const name = this.#kind.name.toUpperCase();
    if (
      (route?.name !== "stream" && route?.name !== "session") ||
      route.kind !== this.#kind.name
    ) {
      return problem(404, "not-found", `No such ${name} resource`, cors);
    }
    const get = this.#kind.answersGet ? "GET, HEAD, " : "";
    const allow = route.name === "session"
      ? `${get}PATCH, DELETE, OPTIONS`
      : `${get}POST, OPTIONS`;
    if (request.method === "OPTIONS") {
      // What this URL takes (`allow`), and for CORS every method of the
      // session too: clients read PATCH there to decide whether to trickle
      // (Eyevinn's WHIP client reads `access-control-allow-methods`). GET
      // and HEAD need no grant.
      const session = "PATCH, DELETE, OPTIONS";
      return new Response(null, {
        status: 204,
        headers: {
          ...cors,
          allow,
          "access-control-allow-methods": route.name === "session"
            ? session
            : `POST, ${session}`,
          // `etag`: Eyevinn's WHIP client sends its tag in an ETag header.
          "access-control-allow-headers":
            "authorization, content-type, if-match, etag",
          "access-control-max-age": "600",
          "accept-post": SDP,
          "accept-patch": this.#acceptPatch,
        },
      });
    }
    const gets = request.method === "GET" || request.method === "HEAD";
    if (route.name === "stream") {
      if (gets && this.#kind.answersGet) {
        return new Response(null, { status: 204, headers: cors });
      }
      if (request.method !== "POST") {
        return problem(405, "method-not-allowed", "POST an SDP offer", {
          ...cors,
          allow,
        });
      }
      return await this.#open(request, route.streamId, remoteAddress, cors);
    }
    const session = this.#sessions.get(route.resource);
    if (!session || session.streamId !== route.streamId) {
      return this.#gone(route.resource, cors);
    }
    switch (request.method) {
      case "DELETE":
        this.#end(session, `${this.#kind.name}-delete`);
        return new Response(null, { status: 200, headers: cors });
      case "PATCH":
        return await this.#patch(request, session, cors);
      default:
        if (gets && this.#kind.answersGet) {
          return new Response(null, { status: 204, headers: cors });
        }
        return problem(405, "method-not-allowed", "PATCH or DELETE", {
          ...cors,
          allow,
        });
    }
  }

  async #open(
    request: Request,
    streamId: string,
    remoteAddress: string,
    cors: Cors,
  ): Promise<Response> {
    // A WHEP player may POST no offer at all and get the server's
    // (`application/sdp` with an empty body, or no body and no type).
    const type = contentType(request);
    const offersFirst = this.#kind.serverOffers;
    if (type !== SDP && !(offersFirst && type === undefined)) {
      return problem(415, "unsupported-media-type", `Send ${SDP}`, cors);
    }
    const body = await readLimited(request, this.#host.maxSdpBytes);
    const serverOffer = offersFirst && body.trim() === "";
    if (!serverOffer && type !== SDP) {
      return problem(415, "unsupported-media-type", `Send ${SDP}`, cors);
    }
    // Refused here, at once: Janus would take 10 s to fail on some of it.
    const unusable = serverOffer ? undefined : sdpLimitProblem(
      body,
      this.#host.sdpLimits,
    ) ??
      sdpSyntaxProblem(body) ??
      (this.#kind.usable(body) ? undefined : this.#kind.unusable);
    if (unusable) return problem(400, "bad-sdp", unusable, cors);
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
    const session = this.#kind.open(this.#host, {
      kind: this.#kind.name,
      streamId,
      offer: serverOffer ? "" : withCrlf(body),
      remoteAddress,
      onEnd: (ended, cause) => this.#end(ended as S, cause),
    });
    this.#sessions.set(session.resource, session);
    this.#byId.set(session.id, session);
    this.#host.connected(session);
    handOn(this.#host, session, session.enter(bearer(request)));
    // A client gone before its answer (Deno aborts the request's signal when
    // the connection drops) leaves no session behind. Deno aborts it after
    // any response too, so the listener goes before the response does.
    const aborted = () => this.#end(session, `${this.#kind.name}-aborted`);
    request.signal.addEventListener("abort", aborted, { once: true });
    if (request.signal.aborted) aborted();
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
      return new Response(answer, {
        status: 201,
        headers: new Headers([
          ...Object.entries(cors),
          ["content-type", SDP],
          ["location", location],
          ["etag", session.etag],
          ["accept-patch", this.#acceptPatch],
          ...iceServerLinks(session.iceServers).map((
            link,
          ): [string, string] => ["link", link]),
        ]),
      });
    } catch (error) {
      this.#end(session, `${this.#kind.name}-refused`);
      // Our bug: `handle` logs it and answers 500.
      if (!(error instanceof Refused)) throw error;
      return problem(
        error.status,
        error.code,
        error.message,
        refusalHeaders(error, cors),
      );
    } finally {
      clearTimeout(timer);
      request.signal.removeEventListener("abort", aborted);
    }
  }

  /** Trickled candidates (RFC 8840 fragments) for the client's connection. */
  async #patch(request: Request, session: S, cors: Cors): Promise<Response> {
    // A server offer's answer (WHEP); WHIP takes trickle fragments only.
    if (contentType(request) === SDP && this.#kind.serverOffers) {
      return await this.#answer(request, session, cors);
    }
    if (contentType(request) !== TRICKLE) {
      return problem(415, "unsupported-media-type", `Send ${TRICKLE}`, cors);
    }
    // A server offer's session has no description of the client's before
    // its answer: nothing to trickle into yet.
    if (session.offer === "") {
      return problem(409, "answer-first", "PATCH the SDP answer first", cors);
    }
    const fragment = await readLimited(request, this.#host.maxSdpBytes);
    // Ended while its body came (a DELETE, a hangup, its deadline): answered
    // as a PATCH of an ended session is, not as if it were alive.
    if (!session.isOpen) return this.#gone(session.resource, cors);
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
    return await this.#trickle(session, parsed, cors) ??
      new Response(null, { status: 204, headers: cors });
  }

  /**
   * A server offer's answer (`application/sdp`): it goes to Janus; 204.
   * Once only: a second is a renegotiation WHEP cannot carry (409).
   */
  async #answer(request: Request, session: S, cors: Cors): Promise<Response> {
    const ifMatch = request.headers.get("if-match")?.trim();
    if (ifMatch !== undefined && ifMatch !== "*" && ifMatch !== session.etag) {
      return problem(412, "etag-mismatch", "Another ICE session is current", {
        ...cors,
        etag: session.etag,
      });
    }
    const body = await readLimited(request, this.#host.maxSdpBytes);
    const unusable = sdpLimitProblem(body, this.#host.sdpLimits) ??
      sdpSyntaxProblem(body);
    if (unusable) return problem(400, "bad-sdp", unusable, cors);
    // Ended while its body came (a DELETE, its deadline, the stream's end).
    if (!session.isOpen) return this.#gone(session.resource, cors);
    const taken = await session.acceptAnswer(withCrlf(body));
    if (!session.isOpen) return this.#gone(session.resource, cors);
    if (taken !== undefined) {
      return problem(409, taken.code, taken.message, cors);
    }
    return new Response(null, {
      status: 204,
      headers: { ...cors, etag: session.etag },
    });
  }

  /** New ICE credentials: the client and Janus restart ICE (200, new ETag). */
  async #restart(
    session: S,
    fragment: SdpFragment,
    cors: Cors,
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
    const interval = this.#host.iceRestartIntervalMs;
    const wait = restartWait(session.state, performance.now(), interval);
    if (wait > 0) {
      return problem(429, "ice-restart-too-soon", "ICE restarted just now", {
        ...cors,
        "retry-after": String(Math.max(1, Math.ceil(wait / 1000))),
      });
    }
    session.restartBegan(performance.now());
    // The candidates follow, trickled, once Janus knows the new credentials.
    const offer = withIce(session.offer, { ...fragment, candidates: [] });
    let answer: string;
    try {
      answer = await session.restartIce(offer);
    } catch (error) {
      session.restartEnded(false);
      // Ended meanwhile (Janus fails a restart of what it let go).
      if (!session.isOpen) return this.#gone(session.resource, cors);
      if (error instanceof IceRestartElsewhere) {
        // Not a 503 (a player would ask here again): a new session.
        return problem(
          422,
          "ice-restart-elsewhere",
          "This server cannot restart this session's ICE: start a new session",
          cors,
        );
      }
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
    if (!session.isOpen) return this.#gone(session.resource, cors);
    session.offer = offer;
    session.etag = newEtag();
    session.restartEnded(true);
    const gone = await this.#trickle(session, fragment, cors);
    if (gone) return gone;
    this.#host.logger.info(`${this.#kind.name}-ice-restart`, {
      streamId: session.streamId,
      clientId: session.id,
    });
    return new Response(fragmentOf(answer), {
      status: 200,
      headers: { ...cors, "content-type": TRICKLE, etag: session.etag },
    });
  }

  /**
   * The fragment's candidates, in order; a 404 (or 409) if the session
   * ended meanwhile (each waits on the router).
   */
  async #trickle(
    session: S,
    fragment: SdpFragment,
    cors: Cors,
  ): Promise<Response | undefined> {
    for (const { candidate, mid } of fragment.candidates) {
      await session.trickle(candidate, mid);
      if (!session.isOpen) return this.#gone(session.resource, cors);
    }
    return undefined;
  }

  /**
   * A session that is not, or no longer, here: 409 if a newer one of the
   * same sender took over (it must not come back for the stream), else 404.
   */
  #gone(resource: string, cors: Cors): Response {
    if (this.#replaced.has(resource)) {
      return problem(
        409,
        "replaced",
        "A newer session of this sender took over the stream",
        cors,
      );
    }
    const name = this.#kind.name.toUpperCase();
    return problem(404, "not-found", `No such ${name} session`, cors);
  }

  #end(session: S, cause: string): void {
    if (!this.#sessions.delete(session.resource)) return;
    this.#byId.delete(session.id);
    session.ended();
    if (cause === "replaced") this.#replaced.remember(session.resource);
    this.#host.leave(session, cause);
  }
}
