/** Every string `<live-viewer>` shows, in English and Simplified Chinese. */
import {
  BuiltInStrings,
  COMMON_EN,
  type CommonErrorTexts,
  type CommonStrings,
} from "./strings.ts";

export interface ViewerStrings extends CommonStrings {
  viewerIdle: string;
  viewerConnecting: string;
  viewerWaiting: string;
  viewerNegotiating: string;
  viewerLive: string;
  viewerReconnecting: string;
  viewerEnded: string;
  viewerError: string;
  negotiationFailed: string;
  clickToPlay: string;
  tapToUnmute: string;
  mute: string;
  unmute: string;
  fullscreen: string;
  pictureInPicture: string;
}

/** The texts only the `error` state shows (each error's own): a chunk, viewer-error-texts.ts. */
export type ViewerErrorTexts = Pick<
  ViewerStrings,
  keyof CommonErrorTexts | "negotiationFailed"
>;

/** English but the error texts (all of it: viewer-strings-en.ts). */
export const VIEWER_STATES_EN: Omit<ViewerStrings, keyof ViewerErrorTexts> = {
  ...COMMON_EN,
  viewerIdle: "No stream selected",
  viewerConnecting: "Connecting to the live stream…",
  viewerWaiting: "Not live yet. The video will start by itself.",
  viewerNegotiating: "Starting video…",
  viewerLive: "Live",
  viewerReconnecting: "Connection lost. Reconnecting…",
  viewerEnded: "The stream is paused. It will resume by itself.",
  // The `cannot-decrypt` state, and each end-to-end encryption error.
  e2eeError: "Cannot decrypt this video.",
  viewerError: "The live stream cannot be shown",
  clickToPlay: "Click to play",
  tapToUnmute: "Tap to unmute",
  mute: "Mute",
  unmute: "Unmute",
  fullscreen: "Full screen",
  pictureInPicture: "Picture in picture",
};

/**
 * The English set: the error texts join it when the `error` state first
 * shows ({@link errorTextsLoaded}; few viewers ever meet one). Where their
 * chunk cannot load (offline: the viewer's one such error, a WHEP client
 * that did not load, is then told with it), an error shows `viewerError`
 * (the generic text), in any language: the chunk also says which string
 * explains a code.
 */
const EN = { ...VIEWER_STATES_EN } as ViewerStrings;
let errorTexts: Promise<void> | undefined;

/**
 * Which string explains an error code (error-keys.ts's), once the error
 * texts are here. Its key is a `string` here: error-policy.ts's `ErrorKey`
 * is made of these strings' type.
 */
export let errorKey: ((code: string) => string) | undefined;

/**
 * Resolves once the English error texts are in the set, and
 * {@link errorKey} is here (a chunk, asked for once); one that cannot load
 * leaves the generic `viewerError`.
 */
export function errorTextsLoaded(): Promise<void> {
  return errorTexts ??= import("./viewer-error-texts.ts").then(
    (chunk) => {
      Object.assign(EN, chunk.VIEWER_ERROR_TEXTS_EN);
      errorKey = chunk.errorKey;
    },
    () => {},
  );
}

/** English here (the error texts a chunk); Chinese a chunk loaded by Chinese pages only. */
export const VIEWER_STRINGS: BuiltInStrings<ViewerStrings> = new BuiltInStrings(
  EN,
  async () => (await import("./viewer-strings-zh.ts")).VIEWER_ZH_CN,
);
