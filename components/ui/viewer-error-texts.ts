/**
 * The viewer's English error texts, those only its `error` state shows: a
 * chunk of the viewer's bundle, loaded when that state first shows
 * (viewer-strings.ts).
 */
import { COMMON_ERRORS_EN } from "./error-texts.ts";
import type { ViewerErrorTexts } from "./viewer-strings.ts";

export const VIEWER_ERROR_TEXTS_EN: ViewerErrorTexts = {
  ...COMMON_ERRORS_EN,
  negotiationFailed: "This browser cannot play this stream.",
};
