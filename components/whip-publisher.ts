/**
 * `<live-broadcaster whip-url>`: the camera to any WHIP endpoint over one
 * {@link HttpMediaSession}, what the endpoint says turned into the
 * broadcaster's facts. A chunk of its own, loaded only with `whip-url`.
 */
import type { BroadcasterFacts } from "./broadcaster-state.ts";
import type { LiveErrorCode } from "./error-policy.ts";
import { HttpMediaSession } from "./http-media-session.ts";

export interface WhipPublisherHost {
  url: string;
  token(): string | null;
  rtcConfiguration(): RTCConfiguration;
  /** Adds the camera's tracks. */
  setup(pc: RTCPeerConnection): void;
  apply(patch: Partial<BroadcasterFacts>, reason: string): void;
  /** Whether it was live before (a drop is then a reconnection). */
  everAccepted(): boolean;
  /** Answered: the stream is live. */
  onLive(): void;
  /** A refusal (`fatal`: for good, everything released) or a reason for waiting. */
  onError(code: LiveErrorCode, message: string, fatal: boolean): void;
}

export function whipPublisher(host: WhipPublisherHost): HttpMediaSession {
  return new HttpMediaSession({
    url: host.url,
    token: host.token,
    rtcConfiguration: host.rtcConfiguration,
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
      switch (status.kind) {
        case "connecting":
          return host.apply({ accepted: false }, "whip connecting");
        case "open":
          host.onLive();
          return host.apply(
            { accepted: true, everAccepted: true, refusal: undefined },
            "whip answered",
          );
        case "retrying": {
          const code = status.status === 409
            ? "stream-taken"
            : status.status === 429
            ? "rate-limited"
            : "signaling-unavailable";
          // Unreachable after it was live: `reconnecting`, as over WebSocket.
          const shown = code !== "signaling-unavailable" ||
            !host.everAccepted();
          host.apply(
            { accepted: false, refusal: shown ? code : undefined },
            `whip ${status.status}`,
          );
          return host.onError(code, `WHIP answered ${status.status}`, false);
        }
        case "refused":
          return host.onError(
            status.status === 401
              ? "token-required"
              : status.status === 403
              ? "token-wrong-stream"
              : "invalid-field",
            status.message,
            true,
          );
      }
    },
    // Taken by someone else, busy or unreachable: ask again.
    retryable: (status) => status === 409 || status === 429 || status >= 500,
  });
}
