/**
 * Where a WHIP or WHEP session is, as one union with one transition
 * function: its POST's answer, its media deadline and its ICE restarts
 * (four flags and a timer on the session before). Pure: the session
 * (http-session.ts) executes the effects, and a move that does not apply
 * (an answer after the session ended, a second restart at once) is refused
 * here rather than guarded at each call.
 */
import { Refused } from "./http-body.ts";

export type SessionState =
  /** POSTed: the router and Janus have not answered yet. */
  | { phase: "offered" }
  /** Refused before its answer: the POST says why, and the session ends. */
  | { phase: "refused" }
  /**
   * Answered (201): its media pending (a deadline runs), up, or stopped (a
   * WHIP publisher Janus has heard nothing from: a deadline runs again).
   */
  | {
    phase: "answered";
    media: "pending" | "up" | "stopped";
    ice: IceState;
  }
  /** Over: nothing more happens to it. */
  | { phase: "ended" };

/** A session's ICE restarts by PATCH (each one is work for Janus). */
export interface IceState {
  /** One is under way with Janus. */
  restarting: boolean;
  /** When the last one began (`performance.now()`; -Infinity: none yet). */
  restartedAt: number;
}

export type SessionEvent =
  /** The router and Janus answered its offer. */
  | { type: "answer"; sdp: string }
  /** The router refused it (before its answer, the POST says so). */
  | { type: "refuse"; refusal: Refused }
  /** Janus says its media connection is up (`webrtcup`), or flows again. */
  | { type: "media-up" }
  /**
   * Janus receives nothing from the publisher any more (`media` with
   * `receiving: false` for each of its tracks): a client gone without a
   * DELETE (crashed, killed, off the network) unless it comes back.
   */
  | { type: "media-stopped" }
  /** An ICE restart by PATCH begins. */
  | { type: "restart"; at: number }
  /** It is over: `ok` if Janus restarted ICE. */
  | { type: "restarted"; ok: boolean }
  /** Ended: DELETE, a hangup, its media deadline, or the server. */
  | { type: "end" };

export type SessionEffect =
  /** Settle the POST: 201 with the answer, or the refusal. */
  | { do: "answer"; sdp: string }
  | { do: "refuse"; refusal: Refused }
  /**
   * (Re)start the media deadline (MEDIA_CONNECT_TIMEOUT_MS: for media to
   * come up, or back), or stop it.
   */
  | { do: "arm-deadline" }
  | { do: "disarm-deadline" };

export interface Transition {
  state: SessionState;
  effects: SessionEffect[];
}

export const OFFERED: SessionState = { phase: "offered" };

/** `state` after `event`, or undefined where the event does not apply. */
export function transition(
  state: SessionState,
  event: SessionEvent,
): Transition | undefined {
  switch (state.phase) {
    case "offered":
      switch (event.type) {
        case "answer":
          return {
            state: {
              phase: "answered",
              media: "pending",
              ice: { restarting: false, restartedAt: -Infinity },
            },
            effects: [{ do: "answer", sdp: event.sdp }, { do: "arm-deadline" }],
          };
        case "refuse":
          return {
            state: { phase: "refused" },
            effects: [{ do: "refuse", refusal: event.refusal }],
          };
        case "end":
          // Its POST hears it now, not at its answer's timeout.
          return {
            state: { phase: "ended" },
            effects: [{
              do: "refuse",
              refusal: new Refused(
                503,
                "sfu-unavailable",
                "The session ended before the SFU answered",
              ),
            }],
          };
        default:
          return undefined;
      }
    case "refused":
      return event.type === "end"
        ? { state: { phase: "ended" }, effects: [] }
        : undefined;
    case "answered":
      return answered(state, event);
    case "ended":
      return undefined;
    default:
      return unreachable(state);
  }
}

function answered(
  state: SessionState & { phase: "answered" },
  event: SessionEvent,
): Transition | undefined {
  const { ice } = state;
  switch (event.type) {
    case "media-up":
      if (state.media === "up") return undefined;
      return {
        state: { ...state, media: "up" },
        effects: [{ do: "disarm-deadline" }],
      };
    case "media-stopped":
      // Pending, its own deadline runs already.
      if (state.media !== "up") return undefined;
      return {
        state: { ...state, media: "stopped" },
        effects: [{ do: "arm-deadline" }],
      };
    case "restart":
      // One at a time (the endpoint answers 429 before asking).
      if (ice.restarting) return undefined;
      return {
        state: { ...state, ice: { restarting: true, restartedAt: event.at } },
        effects: [],
      };
    case "restarted":
      if (!ice.restarting) return undefined;
      return {
        state: { ...state, ice: { ...ice, restarting: false } },
        // A restart while it first connects, or while its media is
        // stopped: its media has a new chance.
        effects: event.ok && state.media !== "up"
          ? [{ do: "arm-deadline" }]
          : [],
      };
    case "end":
      return {
        state: { phase: "ended" },
        effects: [{ do: "disarm-deadline" }],
      };
    case "answer":
    case "refuse":
      // Its POST has its 201 already: what a later refusal means is the
      // kind's to say (whep.ts ends the player).
      return undefined;
    default:
      return unreachable(event);
  }
}

/**
 * How long before an ICE restart may begin (≤ 0: now): not while one is
 * under way or before the answer, and one per `intervalMs`.
 */
export function restartWait(
  state: SessionState,
  now: number,
  intervalMs: number,
): number {
  if (state.phase !== "answered" || state.ice.restarting) {
    return Math.max(1_000, intervalMs);
  }
  return state.ice.restartedAt + intervalMs - now;
}

/** A case the types say cannot happen: a new state or event needs its row. */
function unreachable(value: never): never {
  throw new Error(`No transition for ${JSON.stringify(value)}`);
}
