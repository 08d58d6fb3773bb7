import { esbuildPlugin } from "@web/dev-server-esbuild";
import { chromeLauncher } from "@web/test-runner-chrome";
import puppeteer from "puppeteer-core";

export default {
  files: ["tests/browser/**/*.test.ts"],
  nodeResolve: true,
  plugins: [esbuildPlugin({ ts: true, target: "es2022" })],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: "/usr/bin/chromium",
        args: [
          "--use-fake-device-for-media-stream",
          "--use-fake-ui-for-media-stream",
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
        executablePath: "/usr/bin/firefox-esr",
        extraPrefsFirefox: {
          "media.navigator.streams.fake": true,
          "media.navigator.permission.disabled": true,
        },
      },
    }),
  ],
};
