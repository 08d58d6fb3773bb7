// Browser tests: real Chromium and Firefox from Debian, fake cameras, real
// WebRTC between real elements, real signaling servers (signaling-plugin.ts).
import { esbuildPlugin } from "@web/dev-server-esbuild";
import { chromeLauncher } from "@web/test-runner-chrome";
import puppeteer from "puppeteer-core";
import { signalingPlugin } from "./tests/browser/signaling-plugin.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FIREFOX = process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr";
// BROWSERS=chromium or BROWSERS=firefox runs one; the default and CI run both.
const wanted = (process.env.BROWSERS ?? "chromium,firefox").split(",");

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
    wanted.includes("chromium") && chromeLauncher({
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
    wanted.includes("firefox") && chromeLauncher({
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
  ].filter(Boolean),
};
