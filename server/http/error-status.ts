/**
 * The HTTP status of each error code, for a WHIP or WHEP POST the router
 * refused before its answer. Keyed by the protocol's `ErrorCode`: a code
 * added to protocol/error-codes.ts does not compile until it has a status
 * here.
 */
import type { ErrorCode } from "../../protocol/error-codes.ts";

export const ERROR_STATUS: Record<ErrorCode, number> = {
  // No token, or one this server does not take: authenticate.
  "token-required": 401,
  "token-malformed": 401,
  "token-signature": 401,
  "token-algorithm": 401,
  "token-expired": 401,
  "token-not-yet-valid": 401,
  // A good token, for another stream or role.
  "token-wrong-stream": 403,
  "token-wrong-role": 403,
  "stream-taken": 409,
  // Taken over by a newer session of the same sender (409, as the endpoint
  // answers the same takeover when it closes the session).
  "replaced": 409,
  "invalid-stream-id": 400,
  "join-rate-limited": 429,
  "rate-limited": 429,
  // A full stream, a store or SFU away: try again later.
  "stream-full": 503,
  "cluster-unavailable": 503,
  "sfu-unavailable": 503,
  // 409, not 422: the offer is fine; what refuses it is the stream's state
  // now (its broadcaster encrypts end to end, and a WHEP player cannot
  // decrypt). The same request may succeed once a broadcaster that does not
  // encrypt is live (RFC 9110 §15.5.10), as with "stream-taken".
  "stream-encrypted": 409,
  // Refusals of a message the session wrote itself rather than of the
  // client's request, or our own failures (the SFU's answer timed out):
  // not the client's to fix, so no 4xx; 503, try again.
  "bad-json": 503,
  "binary-unsupported": 503,
  "bad-message": 503,
  "unknown-type": 503,
  "invalid-field": 503,
  "message-too-large": 503,
  "not-in-stream": 503,
  "wrong-role": 503,
  "unknown-viewer": 503,
  "no-broadcaster": 503,
  "internal-error": 503,
  "resume-refused": 503,
  // Janus could not take an offer the endpoint's own checks let through.
  "bad-sdp": 503,
};
