// Browser tests: real Chromium and Firefox from Debian, fake cameras, real
// WebRTC between real elements, real signaling servers
// (tests/browser/support/signaling-plugin.ts).
import { existsSync } from "node:fs";
import { esbuildPlugin } from "@web/dev-server-esbuild";
import { chromeLauncher } from "@web/test-runner-chrome";
import puppeteer from "puppeteer-core";
import {
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  FIREFOX_PATH,
  FIREFOX_PREFS,
} from "./scripts/browsers.ts";
import { signalingPlugin } from "./tests/browser/support/signaling-plugin.ts";
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
  middleware: [
    // A file started by URL under its built name (the e2ee worker:
    // `new URL("./e2ee-worker.js", import.meta.url)`, scripts/bundles.ts)
    // is its .ts source here, compiled like the rest.
    function builtName(context, next) {
      const { path } = context;
      if (path.startsWith("/components/") && path.endsWith(".js")) {
        const source = `${path.slice(0, -3)}.ts`;
        if (existsSync(`.${source}`)) context.path = source;
      }
      return next();
    },
  ],
  plugins: [
    esbuildPlugin({ ts: true, target: "es2022" }),
    signalingPlugin(),
  ],
  browsers: [
    wanted.includes("chromium") && chromeLauncher({
      launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
    }),
    wanted.includes("firefox") && chromeLauncher({
      puppeteer,
      launchOptions: {
        browser: "firefox",
        executablePath: FIREFOX_PATH,
        extraPrefsFirefox: FIREFOX_PREFS,
      },
    }),
  ].filter(Boolean),
};
