/**
 * A WHIP or WHEP session as the router sees it: a client without a socket,
 * a {@link Peer} like any other (tokens, caps, takeover, audit, rate
 * limits). Its offer came in a POST, which its answer (or refusal) settles;
 * whip.ts and whep.ts say what each kind does with the router's messages,
 * session-endpoint.ts serves it over HTTP. Its state is one union changed
 * in one place (`#apply`, by session-state.ts's `transition`).
 */
import type {
  ClientMessage,
  IceServer,
  ServerMessage,
} from "../../protocol/messages.ts";
import type { DropReason } from "../observe/metrics.ts";
import type { Peer } from "../signaling/peer.ts";
import { ERROR_STATUS } from "./error-status.ts";
import { Refused } from "./http-body.ts";
import type { SessionKindName } from "./routes.ts";
import { newEtag } from "./session-headers.ts";
import type { SessionHost } from "./session-host.ts";
import {
  OFFERED,
  type SessionEffect,
  type SessionEvent,
  type SessionState,
  transition,
} from "./session-state.ts";

/** What a session is opened with. */
export interface SessionInit {
  kind: SessionKindName;
  streamId: string;
  /** The client's offer, checked and with CRLF line ends. */
  offer: string;
  remoteAddress: string;
  /** It ended itself (the endpoint forgets it and tells the router). */
  onEnd(session: HttpSession, cause: string): void;
}

/** One kind of session: how it is made, and what its offer must hold. */
export interface SessionKind<S extends HttpSession> {
  /** The path's first segment. */
  name: SessionKindName;
  /** Whether the offer is one this kind can use (else 400 with `unusable`). */
  usable(offer: string): boolean;
  /** Why an offer that is not {@link usable} is refused. */
  unusable: string;
  /** Its sessions publish their stream (WHIP), rather than watch it (WHEP). */
  publishes: boolean;
  /**
   * A POST without an offer gets the server's (WHEP): the client's answer
   * then comes by PATCH (`application/sdp`).
   */
  serverOffers: boolean;
  /**
   * GET (and HEAD) on its endpoint and sessions is 204, no content (the
   * WHEP draft's HTTP usage: they have no representation); else 405.
   */
  answersGet: boolean;
  open(host: SessionHost, init: SessionInit): S;
}

export abstract class HttpSession implements Peer {
  readonly id: string;
  readonly remoteAddress: string;
  /** Through the SFU only: it cannot exchange media with a browser peer. */
  readonly sfuOnly = true;
  /** The resource's unguessable name in its URL (PATCH and DELETE). */
  readonly resource = crypto.randomUUID();
  readonly kind: SessionKindName;
  readonly streamId: string;
  /** The client's offer (with its current ICE credentials after a restart). */
  offer: string;
  /** The entity tag of the ICE session (RFC 9725 §4.3): new at each restart. */
  etag = newEtag();
  resumed = undefined;
  /** The ICE servers the server grants it (for the `Link` headers). */
  iceServers: IceServer[] | undefined;
  protected readonly host: SessionHost;
  #state: SessionState = OFFERED;
  #answer = Promise.withResolvers<string>();
  /** Ends it if its media is not up in time (MEDIA_CONNECT_TIMEOUT_MS). */
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #onEnd: SessionInit["onEnd"];

  constructor(host: SessionHost, init: SessionInit) {
    this.host = host;
    this.id = host.newId();
    this.kind = init.kind;
    this.streamId = init.streamId;
    this.offer = init.offer;
    this.remoteAddress = init.remoteAddress;
    this.#onEnd = init.onEnd;
    this.#answer.promise.catch(() => {});
  }

  get state(): SessionState {
    return this.#state;
  }

  get isOpen(): boolean {
    return this.#state.phase !== "ended";
  }

  /** The answer for the client, or why not ({@link Refused}). */
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

  /**
   * The client's answer to a server offer, by PATCH: undefined when taken,
   * else why not (not a server offer, or answered already).
   */
  acceptAnswer(
    _answer: string,
  ): Promise<{ code: string; message: string } | undefined> {
    return Promise.resolve({
      code: "not-offered",
      message: "This session has no server offer to answer",
    });
  }

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

  /** Janus says its media is up (or flows again): its deadline is met. */
  mediaUp(): void {
    this.#apply({ type: "media-up" });
  }

  /** Janus receives nothing from the publisher any more: a deadline runs. */
  mediaStopped(): void {
    this.#apply({ type: "media-stopped" });
  }

  /** An ICE restart begins (the endpoint checked it may: restartWait). */
  restartBegan(at: number): void {
    this.#apply({ type: "restart", at });
  }

  /** The ICE restart is over; `ok`: Janus has the new credentials. */
  restartEnded(ok: boolean): void {
    this.#apply({ type: "restarted", ok });
  }

  /** The endpoint forgot it: over (a POST still waiting hears 503). */
  ended(): void {
    this.#apply({ type: "end" });
  }

  /** Whether its POST was answered or refused already. */
  protected get settled(): boolean {
    return this.#state.phase !== "offered";
  }

  protected answered(sdp: string): void {
    this.#apply({ type: "answer", sdp });
  }

  protected refuse(
    status: number,
    code: string,
    message: string,
    retryAfter?: number,
  ): void {
    this.#apply({
      type: "refuse",
      refusal: new Refused(status, code, message, retryAfter),
    });
  }

  /** Refused by the router before it was answered: the POST says why. */
  protected refused(message: ServerMessage & { type: "error" }): void {
    // A newer node may send a code this one does not know yet.
    const status = ERROR_STATUS[message.code] ?? 503;
    this.refuse(status, message.code, message.message);
  }

  /** It ends itself (the endpoint then calls {@link ended}). */
  protected end(cause: string): void {
    this.#onEnd(this, cause);
  }

  /** The one place its state changes; a move that does not apply is dropped. */
  #apply(event: SessionEvent): void {
    const next = transition(this.#state, event);
    if (!next) return;
    const from = this.#state.phase;
    this.#state = next.state;
    if (from !== next.state.phase) {
      this.host.logger.debug(`${this.kind}-session`, {
        clientId: this.id,
        change: `${from} -> ${next.state.phase}`,
      });
    }
    for (const effect of next.effects) this.#execute(effect);
  }

  #execute(effect: SessionEffect): void {
    switch (effect.do) {
      case "answer":
        return this.#answer.resolve(effect.sdp);
      case "refuse":
        return this.#answer.reject(effect.refusal);
      case "arm-deadline":
        clearTimeout(this.#deadline);
        this.#deadline = setTimeout(
          () => this.#mediaLate(),
          this.host.mediaConnectTimeoutMs,
        );
        return;
      case "disarm-deadline":
        clearTimeout(this.#deadline);
        this.#deadline = undefined;
        return;
    }
  }

  #mediaLate(): void {
    // Never up, or up and then stopped (its client gone without a DELETE).
    const why = this.#state.phase === "answered" &&
        this.#state.media === "stopped"
      ? "media-lost"
      : "media-timeout";
    this.host.logger.warn(`${this.kind}-${why}`, {
      streamId: this.streamId,
      clientId: this.id,
      afterMs: this.host.mediaConnectTimeoutMs,
    });
    this.end(`${this.kind}-${why}`);
  }
}
