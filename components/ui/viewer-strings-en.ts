/** Every string `<live-viewer>` shows in English, in one set (what `live-widgets.js` exports). */
import { VIEWER_STATES_EN, type ViewerStrings } from "./viewer-strings.ts";
import { VIEWER_ERROR_TEXTS_EN } from "./viewer-error-texts.ts";

export const VIEWER_EN: ViewerStrings = {
  ...VIEWER_STATES_EN,
  ...VIEWER_ERROR_TEXTS_EN,
};
