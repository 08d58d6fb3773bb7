/**
 * WHEP playback (draft-ietf-wish-whep) through Janus: `POST /whep/{streamId}`
 * with the player's offer. A WHEP session is a viewer without a socket: a
 * {@link Peer} the router joins like any other (tokens, viewer caps, audit,
 * rate limits). Its stream goes to the SFU if it is not there yet (a WHEP
 * player cannot be answered by a browser broadcaster); Janus's subscriber
 * offer and the player's offer are answered from each other
 * (sfu/sdp-bridge.ts). PATCH carries trickled candidates; DELETE leaves.
 */
import type {
  ClientMessage,
  IceServer,
  ServerMessage,
} from "../protocol/messages.ts";
import { STREAM_ID_PATTERN } from "../protocol/messages.ts";
import type { DropReason } from "./metrics.ts";
import type { Peer } from "./peer.ts";
import { bridge, janusMid, SdpBridgeError } from "./sfu/sdp-bridge.ts";
import {
  bearer,
  contentType,
  corsHeaders,
  iceServerLinks,
  MAX_WHIP_SDP_BYTES,
  problem,
  readLimited,
  refuseWhenFull,
  SDP,
  STATUS,
  TRICKLE,
  type WhipHost,
  WhipRefused,
} from "./whip.ts";

/** How long the SFU has to offer before the POST fails with 503. */
const OFFER_TIMEOUT_MS = 10_000;

/** One WHEP player, as the router sees it. */
export class WhepSession implements Peer {
  readonly id: string;
  readonly remoteAddress: string;
  /** Watches through the SFU only: its stream is moved there for it. */
  readonly sfuOnly = true;
  readonly resource = crypto.randomUUID();
  readonly streamId: string;
  resumed = undefined;
  isOpen = true;
  iceServers: IceServer[] | undefined;
  /** Janus's offer, once it came (for mapping trickled candidates). */
  janusOffer: string | undefined;
  readonly offer: string;
  #host: WhipHost;
  #answer = Promise.withResolvers<string>();
  #onEnd: (session: WhepSession, cause: string) => void;

  constructor(
    host: WhipHost,
    streamId: string,
    offer: string,
    remoteAddress: string,
    onEnd: (session: WhepSession, cause: string) => void,
  ) {
    this.#host = host;
    this.id = host.newId();
    this.streamId = streamId;
    this.offer = offer;
    this.remoteAddress = remoteAddress;
    this.#onEnd = onEnd;
    this.#answer.promise.catch(() => {});
  }

  /** The player's answer, or why not. */
  get answer(): Promise<string> {
    return this.#answer.promise;
  }

  send(message: ServerMessage): void {
    switch (message.type) {
      case "join-accepted":
        this.iceServers = message.iceServers;
        if (!message.live) {
          this.#refuse(404, "not-live", "The stream is not live");
        }
        return;
      case "webrtc-offer":
        return this.#offered(message.offer.sdp);
      case "broadcaster-left":
        // A WHEP player cannot wait for the next broadcaster: it ends.
        return this.#onEnd(this, "broadcaster-left");
      case "error":
        return this.#refuse(
          message.code === "stream-full" ? 503 : STATUS[message.code] ?? 503,
          message.code,
          message.message,
        );
    }
  }

  sendRaw(text: string): void {
    this.send(JSON.parse(text) as ServerMessage);
  }

  close(_code: number, reason: string, _why: DropReason): void {
    if (!this.isOpen) return;
    this.#refuse(409, "replaced", reason);
    this.#onEnd(this, "closed");
  }

  #offered(sdp: string): void {
    // A second offer would need a renegotiation WHEP has no way to carry.
    if (this.janusOffer !== undefined) {
      return this.#onEnd(this, "renegotiation");
    }
    this.janusOffer = sdp;
    try {
      const { toPlayer, toJanus } = bridge(this.offer, sdp);
      void this.#host.handle(this, {
        type: "webrtc-answer",
        streamId: this.streamId,
        answer: { type: "answer", sdp: toJanus },
      });
      this.#answer.resolve(toPlayer);
    } catch (error) {
      this.#refuse(
        error instanceof SdpBridgeError ? 422 : 500,
        "unplayable-offer",
        String((error as Error).message ?? error),
      );
    }
  }

  #refuse(status: number, code: string, message: string): void {
    this.#answer.reject(new WhipRefused(status, code, message));
  }

  /** Hands a trickled candidate of the player to Janus. */
  trickle(candidate: string, mid: string | undefined): void | Promise<void> {
    const sdpMid = this.janusOffer
      ? janusMid(this.offer, this.janusOffer, mid ?? "")
      : undefined;
    return this.#host.handle(this, {
      type: "webrtc-ice-candidate",
      streamId: this.streamId,
      candidate: { candidate, sdpMid: sdpMid ?? "0" },
    } as ClientMessage);
  }
}

/** `/whep/{streamId}` and `/whep/{streamId}/{resource}`. */
export class WhepEndpoint {
  #host: WhipHost;
  #sessions = new Map<string, WhepSession>();

  constructor(host: WhipHost) {
    this.#host = host;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Janus lost: every WHEP player with it. */
  endAll(cause: string): void {
    for (const session of [...this.#sessions.values()]) {
      this.#end(session, cause);
    }
  }

  async handle(request: Request, remoteAddress: string): Promise<Response> {
    const url = new URL(request.url);
    const [, , rawStream, resource, extra] = url.pathname.split("/");
    const streamId = decodeURIComponent(rawStream ?? "");
    const cors = corsHeaders(request, this.#host);
    if (extra !== undefined || !STREAM_ID_PATTERN.test(streamId)) {
      return problem(404, "not-found", "No such WHEP resource", cors);
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
      return await this.#play(request, streamId, remoteAddress, cors);
    }
    const session = this.#sessions.get(resource);
    if (!session || session.streamId !== streamId) {
      return problem(404, "not-found", "No such WHEP session", cors);
    }
    switch (request.method) {
      case "DELETE":
        this.#end(session, "whep-delete");
        return new Response(null, { status: 200, headers: cors });
      case "PATCH": {
        if (contentType(request) !== TRICKLE) {
          return problem(
            415,
            "unsupported-media-type",
            `Send ${TRICKLE}`,
            cors,
          );
        }
        const fragment = await readLimited(request, MAX_WHIP_SDP_BYTES);
        if (fragment === undefined) {
          return problem(413, "too-large", "Fragment too large", cors);
        }
        if (/^a=ice-ufrag:/m.test(fragment) && /^a=ice-pwd:/m.test(fragment)) {
          return problem(
            422,
            "ice-restart-unsupported",
            "ICE restarts are not supported; play anew",
            cors,
          );
        }
        let mid: string | undefined;
        for (const line of fragment.split(/\r?\n/)) {
          if (line.startsWith("a=mid:")) mid = line.slice(6);
          else if (line.startsWith("a=candidate:")) {
            await session.trickle(line.slice(2), mid);
          }
        }
        return new Response(null, { status: 204, headers: cors });
      }
      default:
        return problem(405, "method-not-allowed", "PATCH or DELETE", {
          ...cors,
          allow: "PATCH, DELETE, OPTIONS",
        });
    }
  }

  async #play(
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
      return problem(413, "too-large", "An offer has at most 64 KiB", cors);
    }
    if (!/^v=0\r?\n/.test(offer) || !/^m=(video|audio) /m.test(offer)) {
      return problem(400, "bad-sdp", "The body is not an SDP offer", cors);
    }
    const full = refuseWhenFull(this.#host, cors);
    if (full) return full;
    const session = new WhepSession(
      this.#host,
      streamId,
      offer,
      remoteAddress,
      (ended, cause) => this.#end(ended, cause),
    );
    this.#sessions.set(session.resource, session);
    this.#host.connected(session);
    const token = bearer(request);
    void this.#host.handle(session, {
      type: "join-stream",
      streamId,
      ...(token ? { token } : {}),
    });
    const timer = setTimeout(
      () =>
        session.send({
          type: "error",
          code: "internal-error",
          message: "The SFU did not offer in time",
        }),
      OFFER_TIMEOUT_MS,
    );
    try {
      const answer = await session.answer;
      return new Response(answer, {
        status: 201,
        headers: new Headers([
          ...Object.entries(cors),
          ["content-type", SDP],
          [
            "location",
            `/whep/${encodeURIComponent(streamId)}/${session.resource}`,
          ],
          ...iceServerLinks(session.iceServers).map((
            link,
          ): [string, string] => ["link", link]),
        ]),
      });
    } catch (error) {
      this.#end(session, "whep-refused");
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

  #end(session: WhepSession, cause: string): void {
    if (!this.#sessions.delete(session.resource)) return;
    session.isOpen = false;
    this.#host.leave(session, cause);
  }
}
