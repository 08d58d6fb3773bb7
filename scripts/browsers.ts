/**
 * Where Debian puts the browsers (their own downloads are not reachable
 * here), and the Chromium flags every automated run needs: a fake camera
 * that needs no permission prompt, autoplay allowed, and no background
 * traffic, which a closed network would otherwise refuse by the hundred.
 */
export const CHROMIUM_PATH = Deno.env.get("CHROMIUM_PATH") ??
  "/usr/bin/chromium";
export const FIREFOX_PATH = Deno.env.get("FIREFOX_PATH") ??
  "/usr/bin/firefox-esr";

export const CHROMIUM_ARGS = [
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  "--autoplay-policy=no-user-gesture-required",
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Firefox's fake camera and microphone, with no permission prompt. */
export const FIREFOX_PREFS = {
  "media.navigator.streams.fake": true,
  "media.navigator.permission.disabled": true,
  "media.autoplay.default": 0,
};
