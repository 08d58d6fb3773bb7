/**
 * What `<live-viewer>` does when the browser refused the broadcaster's
 * offer: the server is told, a `live-error`, then a fresh connection
 * after a backoff (negotiation-retry.ts), the way a failed one is asked
 * for; past the bound, the `error` state. A refused takeover is dropped and
 * the picture plays on. A chunk of its own: rare, and the socket that
 * brought the offer is up.
 */
import {
  MAX_NEGOTIATION_REASON_LENGTH,
  type NegotiationStage,
} from "../../protocol/messages.ts";
import {
  NEGOTIATION_CLEAN,
  type NegotiationRetry,
  negotiationStep,
} from "./negotiation-retry.ts";
import type { PeerLink } from "./stream-session.ts";

/** Says a refusal: its code, message, and what the browser threw. */
type Say = (
  code: "negotiation-failed",
  message: string,
  cause: unknown,
) => void;

/**
 * One refusal: tells the server (before a give-up closes the session), says
 * it (the element's `live-error`, or the session's report when giving up:
 * the `error` state), asks for a fresh connection through `retry` after the
 * backoff, and returns the viewer's next retry state. `playing`: video plays
 * on (a takeover's, or the element is live).
 */
export function viewerRefused(
  state: NegotiationRetry | undefined,
  playing: boolean,
  stage: NegotiationStage,
  error: unknown,
  session: Pick<PeerLink, "streamId" | "send"> & { report: Say },
  element: { onError: Say },
  retry: (afterMs: number) => void,
): NegotiationRetry {
  // The server logs it (`negotiation-failed`; a broadcaster's report of an
  // answer is broadcast-peers.ts's, with the viewer's id). Here, not in a
  // module both share: in live-widgets.js that would be a chunk the bundle
  // imports.
  const { streamId } = session;
  if (streamId) {
    session.send({
      type: "negotiation-failed",
      streamId,
      stage,
      reason: String(error).slice(0, MAX_NEGOTIATION_REASON_LENGTH),
    });
  }
  const step = negotiationStep(state ?? NEGOTIATION_CLEAN, {
    kind: "refused",
    playing,
  });
  const code = "negotiation-failed";
  const message = `The browser refused the offer (${stage}): ${error}`;
  const { effect } = step;
  if (effect.do === "give-up") session.report(code, message, error);
  else {
    element.onError(code, message, error);
    // Up to half as long again, at random: viewers refused together (one
    // broadcaster's offers) do not all come back at once.
    if (effect.do === "retry") retry(effect.afterMs * (1 + Math.random() / 2));
  }
  return step.state;
}
