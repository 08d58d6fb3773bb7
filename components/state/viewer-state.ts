/**
 * What `<live-viewer>` shows, as a pure function of what it knows. The
 * element keeps one {@link ViewerFacts} record, changes it in one place, and
 * publishes `viewerState(facts)`; tests/unit/viewer-state.test.ts covers
 * every case.
 */
import type { LiveErrorCode } from "../session/error-policy.ts";
import type { Frames } from "../media/frame-watch.ts";
import type { SignalingState } from "../session/signaling-client.ts";

/** What the person sees, one text each. */
export type ViewerState =
  | "idle"
  | "connecting"
  | "waiting"
  | "negotiating"
  | "live"
  | "reconnecting"
  | "ended"
  /** The stream is end-to-end encrypted and this viewer has no key that decrypts it. */
  | "cannot-decrypt"
  | "error";

/** Whether the stream's broadcaster is there, as the server last said. */
export type Presence = "unknown" | "waiting" | "present" | "left";

export interface ViewerFacts {
  /** The element has a `stream-id`. */
  hasStreamId: boolean;
  /** A failure retrying cannot fix. */
  failure: LiveErrorCode | undefined;
  signaling: SignalingState;
  /** The socket was open at least once: a later drop is a reconnection. */
  everOpen: boolean;
  presence: Presence;
  /** The peer connection's state, `none` before there is one. */
  media: RTCPeerConnectionState | "none";
  /** A media stream has arrived on the current connection. */
  hasStream: boolean;
  /** Whether its frames arrive: `none` before the first one. */
  frames: Frames;
  /** The server said the stream is end-to-end encrypted and this viewer has no key (`stream-encrypted`), and sent no offer since. */
  sealed: boolean;
  /**
   * Frames do not decrypt with this viewer's key, as the encryption worker
   * last said: not reset with the other facts (a new stream, say), since
   * the worker says it again only when it changes.
   */
  undecryptable?: boolean;
}

export const INITIAL_VIEWER_FACTS: ViewerFacts = {
  hasStreamId: false,
  failure: undefined,
  signaling: "idle",
  everOpen: false,
  presence: "unknown",
  media: "none",
  hasStream: false,
  frames: "none",
  sealed: false,
};

export function viewerState(facts: ViewerFacts): ViewerState {
  if (facts.failure) return "error";
  if (!facts.hasStreamId) return "idle";
  // Frames, not the connection's state: video flows peer to peer even
  // while the signaling socket is down, and a "connected" path may carry
  // nothing.
  if (facts.hasStream && facts.frames === "flowing") return "live";
  // A broadcaster is there, but no frame of its can be shown here.
  if (
    (facts.sealed || facts.undecryptable) && facts.presence === "present"
  ) return "cannot-decrypt";
  // The picture froze on this connection: it is being recovered.
  if (facts.hasStream && facts.frames === "stalled") return "reconnecting";
  if (facts.signaling !== "open") {
    return facts.everOpen ? "reconnecting" : "connecting";
  }
  // Every case returns: a presence without one is a compile error (the
  // function would end without a state).
  switch (facts.presence) {
    case "unknown":
      return "connecting";
    case "waiting":
      return "waiting";
    case "left":
      return "ended";
    case "present":
      return facts.media === "failed" || facts.media === "disconnected"
        ? "reconnecting"
        : "negotiating";
  }
}
