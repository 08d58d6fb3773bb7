/**
 * What `<live-broadcaster>` shows, as a pure function of what it knows. The
 * element keeps one {@link BroadcasterFacts} record, changes it in one place,
 * and publishes `broadcasterState(facts)`; tests/unit/broadcaster-state.test.ts
 * covers every case.
 */
import type { LiveErrorCode } from "../session/error-policy.ts";

/** What the provider sees. */
export type BroadcasterState =
  | "idle"
  | "starting-camera"
  | "connecting"
  | "live"
  | "reconnecting"
  | "error";

/** What the provider asked for: the rest of the state follows from it. */
export type Intent = "stopped" | "capturing" | "broadcasting";

export interface BroadcasterFacts {
  intent: Intent;
  /** A failure retrying cannot fix: everything was released. */
  failure: LiveErrorCode | undefined;
  /**
   * Refused for now, and asking again (the stream is taken, too many
   * attempts, the server never reached yet), or until "Try again" (TURN
   * credentials refused on a relay-only connection).
   */
  refusal: LiveErrorCode | undefined;
  /** The server accepted this socket as the stream's broadcaster. */
  accepted: boolean;
  /** Accepted at least once in this run: a later drop is a reconnection. */
  everAccepted: boolean;
}

export const INITIAL_BROADCASTER_FACTS: BroadcasterFacts = {
  intent: "stopped",
  failure: undefined,
  refusal: undefined,
  accepted: false,
  everAccepted: false,
};

export function broadcasterState(facts: BroadcasterFacts): BroadcasterState {
  if (facts.failure) return "error";
  // Every case returns: an intent without one is a compile error (the
  // function would end without a state).
  switch (facts.intent) {
    case "stopped":
      return "idle";
    case "capturing":
      return "starting-camera";
    case "broadcasting":
      // A refusal may come while accepted (TURN credentials refused).
      if (facts.refusal) return "error";
      if (facts.accepted) return "live";
      return facts.everAccepted ? "reconnecting" : "connecting";
  }
}

/** Which error the `error` state explains, when it is one. */
export function broadcasterError(
  facts: BroadcasterFacts,
): LiveErrorCode | undefined {
  return broadcasterState(facts) === "error"
    ? facts.failure ?? facts.refusal
    : undefined;
}
