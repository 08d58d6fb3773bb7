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
import type { SignalingRouter } from "./signaling-router.ts";

type Router = Pick<SignalingRouter, "handle" | "refuse">;

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
      handlerFailed(router, logger, peer, message.type, error, rethrow)
    );
  } catch (error) {
    return Promise.reject(error).catch((error) =>
      handlerFailed(router, logger, peer, message.type, error, rethrow)
    );
  }
}

/** Logs and refuses a handler's failure; rethrows it with `rethrow`. */
function handlerFailed(
  router: Router,
  logger: Logger,
  peer: Peer,
  type: string,
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
  });
  if (rethrow) throw error;
}
