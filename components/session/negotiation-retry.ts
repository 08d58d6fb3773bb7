/**
 * What to do when the browser refuses a description of the other side's (an
 * offer a viewer cannot apply, an answer a broadcaster cannot): a new
 * connection after 1 s, 2 s, 4 s, then give up. A refusal while video plays
 * on another connection (a takeover's, make before break) only drops the
 * refused one, and counts. Video that flows starts the count over.
 *
 * Pure: the viewer and the broadcaster (once per viewer) keep the state and
 * act on the effect; tests/unit/negotiation-retry.test.ts covers it.
 */

/** Fresh connections asked for after refusals, before giving up. */
export const NEGOTIATION_RETRIES = 3;
/** The first retry's delay; each one after doubles it. */
export const NEGOTIATION_RETRY_MS = 1_000;

export type NegotiationRetry =
  /** Nothing refused since the last success. */
  | { phase: "clean" }
  /** `failures` refusals since the last success. */
  | { phase: "failing"; failures: number }
  /** Past {@link NEGOTIATION_RETRIES}: no more attempts. */
  | { phase: "gave-up" };

export type NegotiationEvent =
  /** A description was refused; `playing`: video plays on meanwhile. */
  | { kind: "refused"; playing: boolean }
  /** Video flows (or, for a broadcaster, the connection connected). */
  | { kind: "succeeded" };

export type NegotiationEffect =
  /** Close the refused connection; ask for a fresh one after `afterMs`. */
  | { do: "retry"; afterMs: number }
  /** Close the refused connection only: the one playing plays on. */
  | { do: "drop" }
  /** Past the bound: fail (the viewer), or leave that viewer (the broadcaster). */
  | { do: "give-up" }
  | { do: "none" };

export const NEGOTIATION_CLEAN: NegotiationRetry = { phase: "clean" };

/** The next state, and what the caller does. */
export function negotiationStep(
  state: NegotiationRetry,
  event: NegotiationEvent,
): { state: NegotiationRetry; effect: NegotiationEffect } {
  if (event.kind === "succeeded") {
    return { state: NEGOTIATION_CLEAN, effect: { do: "none" } };
  }
  switch (state.phase) {
    case "gave-up":
      return { state, effect: { do: "none" } };
    case "clean":
    case "failing": {
      const failures = (state.phase === "failing" ? state.failures : 0) + 1;
      // Never breaks a picture that plays: past the bound too, the next
      // refusal without one gives up at once.
      if (event.playing) {
        return {
          state: { phase: "failing", failures },
          effect: { do: "drop" },
        };
      }
      if (failures > NEGOTIATION_RETRIES) {
        return { state: { phase: "gave-up" }, effect: { do: "give-up" } };
      }
      return {
        state: { phase: "failing", failures },
        effect: {
          do: "retry",
          afterMs: NEGOTIATION_RETRY_MS * 2 ** (failures - 1),
        },
      };
    }
    default: {
      // Checked when compiled: every phase has its case.
      const phase: never = state;
      return phase;
    }
  }
}
