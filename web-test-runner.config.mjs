// Browser tests: real Chromium and Firefox from Debian, fake cameras, real
// WebRTC between real elements, real signaling servers (signaling-plugin.ts).
import { esbuildPlugin } from "@web/dev-server-esbuild";
import { chromeLauncher } from "@web/test-runner-chrome";
import puppeteer from "puppeteer-core";
import { signalingPlugin } from "./tests/browser/signaling-plugin.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FIREFOX = process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr";

export default {
  files: ["tests/browser/**/*.test.ts"],
  nodeResolve: true,
  // One file at a time per browser: every test runs several real peer
  // connections and the machine has two cores.
  concurrency: 1,
  testFramework: { config: { timeout: 30_000 } },
  testsFinishTimeout: 600_000,
  plugins: [
    esbuildPlugin({ ts: true, target: "es2022" }),
    signalingPlugin(),
  ],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: CHROMIUM,
        args: [
          "--use-fake-device-for-media-stream",
          "--use-fake-ui-for-media-stream",
          "--autoplay-policy=no-user-gesture-required",
          "--no-sandbox",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
        ],
      },
    }),
    chromeLauncher({
      puppeteer,
      launchOptions: {
        browser: "firefox",
        executablePath: FIREFOX,
        extraPrefsFirefox: {
          "media.navigator.streams.fake": true,
          "media.navigator.permission.disabled": true,
          "media.autoplay.default": 0,
        },
      },
    }),
  ],
};
