/**
 * Eyevinn's `@eyevinn/webrtc-player` (npm, a WHEP player nobody here
 * wrote), bundled for a lab page: it offers first and, refused with exactly
 * a 400, asks for the server's offer (an empty POST) and PATCHes its answer.
 */
import * as esbuild from "esbuild";

const ROOT = new URL("../../../", import.meta.url).pathname;

let bundle: Promise<string> | undefined;

/** The player as one script that sets `window.WebRTCPlayer`. */
export function eyevinnPlayerScript(): Promise<string> {
  bundle ??= (async () => {
    const result = await esbuild.build({
      stdin: {
        contents: 'import { WebRTCPlayer } from "@eyevinn/webrtc-player";\n' +
          "globalThis.WebRTCPlayer = WebRTCPlayer;\n",
        resolveDir: ROOT,
        loader: "js",
      },
      bundle: true,
      format: "iife",
      platform: "browser",
      write: false,
      logLevel: "silent",
    });
    await esbuild.stop();
    return result.outputFiles[0].text;
  })();
  return bundle;
}
