/**
 * WHIP ingest (RFC 9725) with Janus behind: `POST /whip/{streamId}` makes
 * the sender that stream's broadcaster, through the SFU. A WHIP session is a
 * broadcaster without a socket: a {@link Peer} the router treats like any
 * other (tokens, takeover, `stream-taken`, audit, rate limits), whose
 * `broadcaster-ready` and `sfu-offer` come from the HTTP request and whose
 * `sfu-answer` goes back as the 201's body. PATCH carries trickled
 * candidates; DELETE ends it (viewers hear `broadcaster-left`).
 */
import type {
  ClientMessage,
  IceServer,
  ServerMessage,
} from "../protocol/messages.ts";
import { STREAM_ID_PATTERN } from "../protocol/messages.ts";
import type { DropReason } from "./metrics.ts";
import type { Peer } from "./peer.ts";

/** What the endpoint needs of the server. */
export interface WhipHost {
  /** Whether Janus is linked (else 503: a WHIP sender cannot go peer to peer). */
  sfuUp(): boolean;
  /** A fresh client id. */
  newId(): string;
  connected(peer: Peer): void;
  handle(peer: Peer, message: ClientMessage): void | Promise<void>;
  /** The session ended (DELETE, or closed by the server). */
  leave(peer: Peer, cause: string): void;
  /** Whether `origin` may use the endpoint (CORS, as for WebSockets). */
  originAllowed(origin: string | null): boolean;
  /** Whether another WHIP or WHEP session fits (MAX_HTTP_SESSIONS). */
  roomForSession(): boolean;
}

/** Largest SDP offer accepted (a browser's is a few KB). */
export const MAX_WHIP_SDP_BYTES = 64 * 1024;
/** How long the SFU has to answer before the POST fails with 503. */
const ANSWER_TIMEOUT_MS = 10_000;

export const SDP = "application/sdp";
export const TRICKLE = "application/trickle-ice-sdpfrag";

/** A refusal as an HTTP status, from the router's error codes. */
export const STATUS: Record<string, number> = {
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
  "cluster-unavailable": 503,
};

export class WhipRefused extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** One WHIP publisher, as the router sees it. */
export class WhipSession implements Peer {
  readonly id: string;
  readonly remoteAddress: string;
  /** Publishes through the SFU only: it cannot answer a viewer itself. */
  readonly sfuOnly = true;
  /** The resource's unguessable name in its URL (PATCH and DELETE). */
  readonly resource = crypto.randomUUID();
  readonly streamId: string;
  resumed = undefined;
  isOpen = true;
  iceServers: IceServer[] | undefined;
  #offer: string;
  #host: WhipHost;
  #answer = Promise.withResolvers<string>();
  #onClose: (session: WhipSession) => void;

  constructor(
    host: WhipHost,
    streamId: string,
    offer: string,
    remoteAddress: string,
    onClose: (session: WhipSession) => void,
  ) {
    this.#host = host;
    this.id = host.newId();
    this.streamId = streamId;
    this.#offer = offer;
    this.remoteAddress = remoteAddress;
    this.#onClose = onClose;
    this.#answer.promise.catch(() => {});
  }

  /** Janus's answer, or why not. */
  get answer(): Promise<string> {
    return this.#answer.promise;
  }

  send(message: ServerMessage): void {
    switch (message.type) {
      case "broadcaster-accepted":
        this.iceServers = message.iceServers;
        return;
      case "sfu-publish":
        void this.#host.handle(this, {
          type: "sfu-offer",
          streamId: this.streamId,
          offer: { type: "offer", sdp: this.#offer },
        });
        return;
      case "sfu-answer":
        return this.#answer.resolve(message.answer.sdp);
      case "error":
        // Refused before it was answered: the POST says why.
        return this.#answer.reject(
          new WhipRefused(
            STATUS[message.code] ?? 503,
            message.code,
            message.message,
          ),
        );
    }
  }

  sendRaw(text: string): void {
    this.send(JSON.parse(text) as ServerMessage);
  }

  close(_code: number, reason: string, _why: DropReason): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.#answer.reject(new WhipRefused(409, "replaced", reason));
    this.#onClose(this);
  }
}

/** `/whip/{streamId}` and `/whip/{streamId}/{resource}`. */
export class WhipEndpoint {
  #host: WhipHost;
  #sessions = new Map<string, WhipSession>();

  constructor(host: WhipHost) {
    this.#host = host;
  }

  /** Sessions open now. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Janus lost: every WHIP publisher with it (it cannot go peer to peer). */
  endAll(cause: string): void {
    for (const session of [...this.#sessions.values()]) {
      this.#end(session, cause);
    }
  }

  async handle(request: Request, remoteAddress: string): Promise<Response> {
    const url = new URL(request.url);
    const [, , rawStream, resource, extra] = url.pathname.split("/");
    const streamId = decodeURIComponent(rawStream ?? "");
    const cors = this.#cors(request);
    if (extra !== undefined || !STREAM_ID_PATTERN.test(streamId)) {
      return problem(404, "not-found", "No such WHIP resource", cors);
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
      return await this.#publish(request, streamId, remoteAddress, cors);
    }
    const session = this.#sessions.get(resource);
    if (!session || session.streamId !== streamId) {
      return problem(404, "not-found", "No such WHIP session", cors);
    }
    switch (request.method) {
      case "DELETE":
        this.#end(session, "whip-delete");
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

  async #publish(
    request: Request,
    streamId: string,
    remoteAddress: string,
    cors: Record<string, string>,
  ): Promise<Response> {
    if (contentType(request) !== SDP) {
      return problem(415, "unsupported-media-type", `Send ${SDP}`, cors);
    }
    const offer = await readLimited(request, MAX_WHIP_SDP_BYTES);
    if (offer === undefined) {
      return problem(
        413,
        "too-large",
        `An offer has at most ${MAX_WHIP_SDP_BYTES} bytes`,
        cors,
      );
    }
    if (!/^v=0\r?\n/.test(offer) || !/^m=video /m.test(offer)) {
      return problem(
        400,
        "bad-sdp",
        "The body is not an SDP offer with video",
        cors,
      );
    }
    const full = refuseWhenFull(this.#host, cors);
    if (full) return full;
    const session = new WhipSession(
      this.#host,
      streamId,
      offer,
      remoteAddress,
      (closed) => this.#sessions.delete(closed.resource),
    );
    this.#sessions.set(session.resource, session);
    this.#host.connected(session);
    const token = bearer(request);
    void this.#host.handle(session, {
      type: "broadcaster-ready",
      streamId,
      ...(token ? { token } : {}),
    });
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
      const location = `/whip/${
        encodeURIComponent(streamId)
      }/${session.resource}`;
      return new Response(answer, {
        status: 201,
        headers: new Headers([
          ...Object.entries(cors),
          ["content-type", SDP],
          ["location", location],
          ...iceServerLinks(session.iceServers).map((link): [
            string,
            string,
          ] => ["link", link]),
        ]),
      });
    } catch (error) {
      this.#end(session, "whip-refused");
      const refused = error instanceof WhipRefused
        ? error
        : new WhipRefused(500, "internal-error", String(error));
      return problem(refused.status, refused.code, refused.message, {
        ...cors,
        ...(refused.status === 503 || refused.status === 429
          ? { "retry-after": "5" }
          : {}),
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Trickled candidates (RFC 8840 fragments) for the publisher's connection. */
  async #patch(
    request: Request,
    session: WhipSession,
    cors: Record<string, string>,
  ): Promise<Response> {
    if (contentType(request) !== TRICKLE) {
      return problem(415, "unsupported-media-type", `Send ${TRICKLE}`, cors);
    }
    const fragment = await readLimited(request, MAX_WHIP_SDP_BYTES);
    if (fragment === undefined) {
      return problem(413, "too-large", "Fragment too large", cors);
    }
    // A new ufrag is an ICE restart, which the SFU side does not do yet.
    if (/^a=ice-ufrag:/m.test(fragment) && /^a=ice-pwd:/m.test(fragment)) {
      return problem(
        422,
        "ice-restart-unsupported",
        "ICE restarts are not supported; publish anew",
        cors,
      );
    }
    let mid: string | undefined;
    for (const line of fragment.split(/\r?\n/)) {
      if (line.startsWith("a=mid:")) mid = line.slice(6);
      else if (line.startsWith("a=candidate:")) {
        await this.#host.handle(session, {
          type: "sfu-ice-candidate",
          streamId: session.streamId,
          candidate: { candidate: line.slice(2), sdpMid: mid ?? "0" },
        });
      }
    }
    return new Response(null, { status: 204, headers: cors });
  }

  #end(session: WhipSession, cause: string): void {
    if (!this.#sessions.delete(session.resource)) return;
    session.isOpen = false;
    this.#host.leave(session, cause);
  }

  #cors(request: Request): Record<string, string> {
    return corsHeaders(request, this.#host);
  }
}

export function contentType(request: Request): string | undefined {
  return request.headers.get("content-type")?.split(";")[0].trim()
    .toLowerCase();
}

export function bearer(request: Request): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(
    request.headers.get("authorization") ?? "",
  );
  return match?.[1];
}

/** The body as text, or undefined past `limit` bytes. */
export async function readLimited(
  request: Request,
  limit: number,
): Promise<string | undefined> {
  const bytes = new Uint8Array(await request.arrayBuffer());
  return bytes.length > limit ? undefined : new TextDecoder().decode(bytes);
}

/** RFC 9725 `Link` headers for ICE servers (TURN with its credentials). */
export function iceServerLinks(servers: IceServer[] | undefined): string[] {
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

export function problem(
  status: number,
  error: string,
  message: string,
  headers: Record<string, string>,
): Response {
  return new Response(JSON.stringify({ error, message }), {
    status,
    headers: { ...headers, "content-type": "application/json" },
  });
}

/** CORS grant for an allowed Origin (WHIP and WHEP clients read these headers). */
export function corsHeaders(
  request: Request,
  host: Pick<WhipHost, "originAllowed">,
): Record<string, string> {
  const origin = request.headers.get("origin");
  if (!origin || !host.originAllowed(origin)) return {};
  return {
    "access-control-allow-origin": origin,
    "access-control-expose-headers": "location, link, etag",
    vary: "origin",
  };
}

/** 503 when Janus is not linked or MAX_HTTP_SESSIONS are open, else undefined. */
export function refuseWhenFull(
  host: WhipHost,
  cors: Record<string, string>,
): Response | undefined {
  const retry = { ...cors, "retry-after": "5" };
  if (!host.sfuUp()) {
    return problem(503, "sfu-unavailable", "The SFU is not reachable", retry);
  }
  if (!host.roomForSession()) {
    return problem(
      503,
      "server-full",
      "The server is at its limit of WHIP and WHEP sessions",
      retry,
    );
  }
}
