/**
 * A bug in a message handler (or a store reply it did not expect: Redis's
 * `OOM`, `READONLY`) must cost that one message, never the process: Deno
 * exits on an unhandled rejection. Sockets (connection.ts) and the WHIP and
 * WHEP sessions (services.ts) hand their messages to the router through
 * {@link handleGuarded}.
 */
import type { ClientMessage } from "../../protocol/messages.ts";
import type { Logger } from "../observe/logger.ts";
import type { Peer } from "./peer.ts";
import type { ProtocolError } from "../../protocol/parse-client-message.ts";

/** What refuses a peer: the router, or its core (whose parts import this). */
interface Refuser {
  refuse(peer: Peer, error: ProtocolError): void;
}

/** The router's `handle`, and its refusal. */
interface Router extends Refuser {
  handle(
    peer: Peer,
    message: ClientMessage,
    text?: string,
  ): void | Promise<void>;
}

/**
 * `router.handle`, whose failure is logged and refused (`internal-error`).
 * Then it never throws nor rejects, unless `rethrow`: a caller that awaits
 * it (an HTTP request's PATCH) answers the failure too, and one that does
 * not must catch (the failure was told already).
 */
export function handleGuarded(
  router: Router,
  logger: Logger,
  peer: Peer,
  message: ClientMessage,
  exact?: string,
  rethrow = false,
): Promise<void> | undefined {
  // The catch's closure is made only for a handler that returned a
  // promise: every routed frame passes here.
  try {
    return router.handle(peer, message, exact)?.catch((error) =>
      handlerFailed(router, logger, peer, message, error, rethrow)
    );
  } catch (error) {
    return Promise.reject(error).catch((error) =>
      handlerFailed(router, logger, peer, message, error, rethrow)
    );
  }
}

/**
 * Runs `step` once `after` settles (a stream's takeover here): a handler's
 * part that waits, after the handler returned. Its failure is logged and
 * refused as a handler's is, never left an unhandled rejection.
 */
export function followUp(
  router: Refuser,
  logger: Logger,
  peer: Peer,
  message: Failed,
  after: Promise<unknown>,
  step: () => void,
): void {
  after.catch(() => {}).then(step).catch((error) =>
    handlerFailed(router, logger, peer, message, error, false)
  );
}

/** The message whose handling failed, as far as its refusal names it. */
type Failed = { type: string; streamId?: string };

/**
 * Logs and refuses a handler's failure (naming the message's stream, so a
 * client that moved on ignores it); rethrows it with `rethrow`.
 */
function handlerFailed(
  router: Refuser,
  logger: Logger,
  peer: Peer,
  { type, streamId }: Failed,
  error: unknown,
  rethrow: boolean,
): void {
  logger.error("handler-failed", {
    clientId: peer.id,
    type,
    error: String(error),
  });
  router.refuse(peer, {
    code: "internal-error",
    message: "The server failed on this message",
    inReplyTo: type,
    streamId,
  });
  if (rethrow) throw error;
}
