/**
 * The viewer's English error texts, those only its `error` state shows, and
 * which of its strings explains a code (error-keys.ts's `errorKey`, which
 * the state reads in any language): a chunk of the viewer's bundle, loaded
 * when that state first shows (viewer-strings.ts).
 */
import { COMMON_ERRORS_EN } from "./error-texts.ts";
export { errorKey } from "./error-keys.ts";
import type { ViewerErrorTexts } from "./viewer-strings.ts";

export const VIEWER_ERROR_TEXTS_EN: ViewerErrorTexts = {
  ...COMMON_ERRORS_EN,
  negotiationFailed: "This browser cannot play this stream.",
};
