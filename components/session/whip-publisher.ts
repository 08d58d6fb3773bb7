/**
 * `<live-broadcaster whip-url>`: the camera to any WHIP endpoint over one
 * {@link HttpMediaSession}, what the endpoint says turned into the
 * broadcaster's facts ({@link whipFacts}). A chunk of its own, loaded only
 * with `whip-url`.
 */
import type { BroadcasterFacts } from "../state/broadcaster-state.ts";
import type { ErrorPolicy, LiveErrorCode, Ruling } from "./error-policy.ts";
import {
  HttpMediaSession,
  type HttpMediaSessionOptions,
  type HttpMediaStatus,
  retriesBy,
  ruling,
} from "./http-media-session.ts";

export interface WhipPublisherHost {
  url: string;
  token(): string | null;
  newConnection(): RTCPeerConnection;
  /** Adds the camera's tracks. */
  setup(pc: RTCPeerConnection): void;
  apply(patch: Partial<BroadcasterFacts>, reason: string): void;
  /** Whether it was live before (a drop is then a reconnection). */
  everAccepted(): boolean;
  /** Answered: the stream is live. */
  onLive(): void;
  /** A refusal (`fatal`: for good, everything released) or a reason for waiting. */
  onError(code: LiveErrorCode, message: string, fatal: boolean): void;
  /**
   * The element's error table, passed in: this chunk imports nothing the
   * element's bundle holds.
   */
  errors: ErrorPolicy;
  /** path-silence.ts's, passed in as `errors` is. */
  fellSilent: HttpMediaSessionOptions["fellSilent"];
}

/** The policy's row for a code, for a broadcaster. */
export type BroadcasterRule = (code: string | undefined) => Ruling | undefined;

/** What one answer of the endpoint means for the broadcaster. */
export interface WhipOutcome {
  patch: Partial<BroadcasterFacts>;
  error?: { code: LiveErrorCode; message: string; fatal: boolean };
}

/**
 * The facts after `status`: answered is live; taken (409), busy (429) or
 * unreachable is a refusal shown while asking again (unreachable after it
 * was live: `reconnecting`, as over WebSocket); 401/403/other is fatal, and
 * so is a live session's 409 (taken over by a newer one: `replaced`). The
 * code is the body's where the policy has a row for it (shown as its retry
 * says), else it comes from the status.
 */
export function whipFacts(
  status: HttpMediaStatus,
  everAccepted: boolean,
  rule: BroadcasterRule,
): WhipOutcome {
  switch (status.kind) {
    case "connecting":
      return { patch: { accepted: false } };
    case "open":
      return {
        patch: { accepted: true, everAccepted: true, refusal: undefined },
      };
    case "retrying": {
      const ruled = rule(status.code);
      const code = ruled?.code ??
        (status.status === 409
          ? "stream-taken"
          : status.status === 429
          ? "rate-limited"
          : "signaling-unavailable");
      const shown = ruled?.reaction.do === "retry"
        ? ruled.reaction.shown
        : code !== "signaling-unavailable" || !everAccepted;
      return {
        patch: { accepted: false, refusal: shown ? code : undefined },
        error: {
          code,
          message: `WHIP answered ${status.status}`,
          fatal: false,
        },
      };
    }
    case "refused":
      return {
        patch: {},
        error: {
          code: rule(status.code)?.code ??
            (status.status === 401
              ? "token-required"
              : status.status === 403
              ? "token-wrong-stream"
              : status.status === 409
              ? "replaced"
              : "invalid-field"),
          message: status.message,
          fatal: true,
        },
      };
  }
}

/**
 * Whether to ask again: as the policy says for the body's code (a session
 * replaced by a newer one of ours stops), else taken by someone else, busy
 * or unreachable.
 */
export function whipRetries(
  status: number,
  code: string | undefined,
  rule: BroadcasterRule,
): boolean {
  return retriesBy(
    rule(code),
    status === 409 || status === 429 || status >= 500,
  );
}

export function whipPublisher(host: WhipPublisherHost): HttpMediaSession {
  const rule: BroadcasterRule = (code) => ruling(code, host.errors);
  return new HttpMediaSession({
    url: host.url,
    token: host.token,
    newConnection: host.newConnection,
    setup: host.setup,
    onConnectionState: (state) => {
      // Repaired by an ICE restart meanwhile (http-media-session.ts).
      if (state === "failed" || state === "disconnected") {
        host.apply({ accepted: false }, `whip ${state}`);
      } else if (state === "connected") {
        host.apply({ accepted: true }, "whip connected");
      }
    },
    onStatus: (status) => {
      const { patch, error } = whipFacts(status, host.everAccepted(), rule);
      if (status.kind === "open") host.onLive();
      if (!error?.fatal) host.apply(patch, `whip ${status.kind}`);
      if (error) host.onError(error.code, error.message, error.fatal);
    },
    retryable: (status, code) => whipRetries(status, code, rule),
    fellSilent: host.fellSilent,
  });
}
