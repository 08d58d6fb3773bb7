/**
 * The English texts of errors both elements may show: inside the
 * broadcaster's bundle, a chunk in the viewer's (viewer-strings.ts), where
 * only the `error` state shows one.
 */
import type { CommonErrorTexts } from "./strings.ts";

export const COMMON_ERRORS_EN: CommonErrorTexts = {
  signalingUnavailable: "Cannot reach the live server. Retrying…",
  streamFull: "This stream has the maximum number of viewers.",
  invalidStreamId: "This stream id is not valid.",
  missingStreamId: "No stream id was given.",
  notAuthorized: "You do not have access to this stream.",
  authExpired:
    "Your access to this stream has expired. Reload the page to continue.",
  turnAuthFailed:
    "The relay server refused its credentials, so video cannot connect on this network.",
};
