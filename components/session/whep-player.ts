/**
 * `<live-viewer whep-url>`: plays any WHEP endpoint over one
 * {@link HttpMediaSession}, what the endpoint says turned into the viewer's
 * facts ({@link whepFacts}). A chunk of its own, loaded only with
 * `whep-url`.
 */
import type { LiveErrorCode } from "./error-policy.ts";
import {
  HttpMediaSession,
  type HttpMediaStatus,
} from "./http-media-session.ts";
import type { ViewerFacts } from "../state/viewer-state.ts";

export interface WhepPlayerHost {
  url: string;
  token(): string | null;
  rtcConfiguration(): RTCConfiguration;
  onStream(stream: MediaStream): void;
  onConnectionState(state: RTCPeerConnectionState): void;
  apply(patch: Partial<ViewerFacts>, reason: string): void;
  /** Refused for good. */
  onRefused(code: LiveErrorCode, message: string): void;
}

/**
 * The facts after `status`: there is no socket, so the endpoint stands for
 * it (`signaling: "open"`); answered is the broadcaster present, 404 not
 * live yet (`waiting`), anything else retried is unknown; a refusal is the
 * error (401 token-required, 403 token-wrong-stream, other invalid-field).
 */
export function whepFacts(
  status: HttpMediaStatus,
): {
  patch: Partial<ViewerFacts>;
  refused?: { code: LiveErrorCode; message: string };
} {
  if (status.kind === "refused") {
    const code = status.status === 401
      ? "token-required"
      : status.status === 403
      ? "token-wrong-stream"
      : "invalid-field";
    return {
      patch: { failure: code },
      refused: { code, message: status.message },
    };
  }
  return {
    patch: {
      hasStreamId: true,
      signaling: "open",
      everOpen: true,
      presence: status.kind === "open"
        ? "present"
        : status.kind === "retrying" && status.status === 404
        ? "waiting"
        : "unknown",
    },
  };
}

export function whepPlayer(host: WhepPlayerHost): HttpMediaSession {
  const player: HttpMediaSession = new HttpMediaSession({
    url: host.url,
    token: host.token,
    rtcConfiguration: host.rtcConfiguration,
    setup: (pc) => {
      pc.addTransceiver("video", { direction: "recvonly" });
      pc.addTransceiver("audio", { direction: "recvonly" });
      pc.ontrack = ({ streams, track, receiver }) => {
        const live = receiver as { jitterBufferTarget?: number | null };
        if ("jitterBufferTarget" in live) live.jitterBufferTarget = 0;
        if (player.connection === pc) {
          host.onStream(streams[0] ?? new MediaStream([track]));
        }
      };
    },
    onConnectionState: host.onConnectionState,
    onStatus: (status) => {
      const { patch, refused } = whepFacts(status);
      host.apply(patch, `whep ${status.kind}`);
      if (refused) host.onRefused(refused.code, refused.message);
    },
    // Not live yet, busy or unreachable: ask again.
    retryable: (status) => status === 404 || status === 429 || status >= 500,
  });
  return player;
}
