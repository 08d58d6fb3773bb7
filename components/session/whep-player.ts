/**
 * `<live-viewer whep-url>`: plays any WHEP endpoint over one
 * {@link HttpMediaSession}, what the endpoint says turned into the viewer's
 * facts ({@link whepFacts}). A chunk of its own, loaded only with
 * `whep-url`.
 */
import type { ErrorPolicy, LiveErrorCode, Ruling } from "./error-policy.ts";
import { stoppedReceiving } from "./receive-silence.ts";
import {
  HttpMediaSession,
  type HttpMediaStatus,
  retriesBy,
  ruling,
} from "./http-media-session.ts";
import type { PeerLink } from "./stream-session.ts";
import type { ViewerPeerOptions } from "./viewer-peer.ts";
import type { ViewerFacts } from "../state/viewer-state.ts";

/**
 * What the player tells the viewer: the same object the viewer gives its
 * peer (viewer-peer.ts's options), so that the element holds one set of
 * callbacks for both.
 */
export interface WhepPlayerHost
  extends Pick<ViewerPeerOptions, "onStream" | "onConnectionState"> {
  apply(patch: Partial<ViewerFacts>, reason: string): void;
  /** Refused for good: a `live-error`. */
  onError(code: LiveErrorCode, message: string, cause?: unknown): void;
}

/** The policy's row for a code, for a viewer. */
export type ViewerRule = (code: string | undefined) => Ruling | undefined;

/**
 * The facts after `status`: there is no socket, so the endpoint stands for
 * it (`signaling: "open"`); answered is the broadcaster present, 409 (the
 * WHEP draft's "no live publisher"; 404 from servers before it) not live
 * yet (`waiting`), anything else retried is unknown; a refusal is the
 * error, its code the body's where the policy has a row for it, else from
 * the status (401 token-required, 403 token-wrong-stream, other
 * invalid-field).
 */
export function whepFacts(
  status: HttpMediaStatus,
  rule: ViewerRule,
): {
  patch: Partial<ViewerFacts>;
  refused?: { code: LiveErrorCode; message: string };
} {
  if (status.kind === "refused") {
    const code = rule(status.code)?.code ??
      (status.status === 401
        ? "token-required"
        : status.status === 403
        ? "token-wrong-stream"
        : "invalid-field");
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
        : status.kind === "retrying" &&
            (status.status === 404 || status.status === 409)
        ? "waiting"
        : "unknown",
    },
  };
}

/**
 * Whether to ask again: as the policy says for the body's code (a full
 * stream fails, as over the socket), else not live yet (409, or 404 from
 * servers before the draft said 409), busy or unreachable. A 409 with a
 * code the policy knows is that code's (`stream-encrypted` is not retried).
 */
export function whepRetries(
  status: number,
  code: string | undefined,
  rule: ViewerRule,
): boolean {
  const ruled = rule(code);
  return retriesBy(
    ruled,
    status === 404 || status === 429 || status >= 500 ||
      (status === 409 && !ruled),
  );
}

/**
 * A player for `url`, with the element's `token` and its session's
 * connections; `errors` is the viewer's table (passed in: this chunk
 * imports nothing the element's bundle holds).
 */
export function whepPlayer(
  url: string,
  element: { readonly token: string | null },
  link: Pick<PeerLink, "newConnection">,
  host: WhepPlayerHost,
  errors: ErrorPolicy,
): HttpMediaSession {
  const rule: ViewerRule = (code) => ruling(code, errors);
  const player: HttpMediaSession = new HttpMediaSession({
    url,
    token: () => element.token,
    newConnection: () => link.newConnection(),
    setup: (pc) => {
      pc.addTransceiver("video", { direction: "recvonly" });
      pc.addTransceiver("audio", { direction: "recvonly" });
      // Its two tracks shown together, as one, whatever streams the
      // endpoint sent them in (none: `a=msid:- <track>`; or one each):
      // else the audio's would replace the video's.
      const stream = new MediaStream();
      pc.ontrack = ({ track, receiver }) => {
        const live = receiver as { jitterBufferTarget?: number | null };
        if ("jitterBufferTarget" in live) live.jitterBufferTarget = 0;
        stream.addTrack(track);
        if (player.connection === pc) host.onStream(stream);
      };
    },
    onConnectionState: host.onConnectionState,
    onStatus: (status) => {
      const { patch, refused } = whepFacts(status, rule);
      host.apply(patch, `whep ${status.kind}`);
      if (refused) host.onError(refused.code, refused.message);
    },
    retryable: (status, code) => whepRetries(status, code, rule),
    // Our endpoint serves Firefox (its own codec numbers) this way.
    serverOffer: true,
    stoppedReceiving,
  });
  return player;
}
