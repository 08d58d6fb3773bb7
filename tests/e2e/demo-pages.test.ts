/**
 * The demo as `deno task dev` serves it, in headless Chromium: the index and
 * theming pages load; a broadcast started on the provider page is seen, as
 * frames, on the order page. Screenshots go to test-results/screenshots/.
 */
import assert from "node:assert/strict";
import * as esbuild from "esbuild";
import { createLogger } from "../../server/observe/logger.ts";
import { startDevServer } from "../../scripts/dev.ts";
import {
  clickInShadow,
  framesIn,
  launchChromium,
  SCREENSHOTS,
  waitForState,
} from "./support/chromium.ts";

Deno.test({
  name:
    "demo: provider page broadcasts, order page and theming page show the video",
  // puppeteer keeps its pipes to the browser beyond single awaits.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await Deno.mkdir(SCREENSHOTS, { recursive: true });
    const dev = await startDevServer(0, createLogger("warn"));
    try {
      await using browser = await launchChromium();
      const base = `http://127.0.0.1:${dev.port}`;

      const index = await browser.newPage();
      await index.setViewport({ width: 1100, height: 700 });
      await index.goto(`${base}/`);
      assert.match(await index.title(), /live-widgets demo/);
      await index.screenshot({ path: `${SCREENSHOTS}index.png` });

      const provider = await browser.newPage();
      await provider.setViewport({ width: 1100, height: 760 });
      await provider.goto(`${base}/provider.html`);
      const order = new URL(provider.url()).searchParams.get("order");
      assert.match(order!, /^order-[0-9a-f]{8}$/);
      await waitForState(provider, "live-broadcaster", "idle");
      await clickInShadow(provider, "live-broadcaster", "[part=start-button]");
      await waitForState(provider, "live-broadcaster", "live");

      const customer = await browser.newPage();
      await customer.setViewport({ width: 1100, height: 760 });
      await customer.goto(`${base}/order.html?order=${order}`);
      await waitForState(customer, "live-viewer", "live");
      assert.ok(await framesIn(customer, "live-viewer") > 0);
      // Let the stats box fill in (it samples once a second) for the picture.
      await customer.waitForFunction(
        () =>
          document.querySelector("live-viewer")!.shadowRoot!.querySelector(
            "[part=stats]",
          ),
        { timeout: 10_000 },
      );
      await customer.bringToFront();
      await customer.screenshot({ path: `${SCREENSHOTS}order.png` });
      await provider.waitForFunction(
        () =>
          document.querySelector("#viewers")!.textContent!.startsWith(
            "1 watching",
          ),
        { timeout: 10_000 },
      );
      await provider.bringToFront();
      await provider.waitForFunction(
        () =>
          !document.querySelector("live-broadcaster")!.shadowRoot!
            .querySelector("[part=notice]"),
        { timeout: 10_000 },
      );
      await provider.screenshot({ path: `${SCREENSHOTS}provider.png` });

      const theming = await browser.newPage();
      await theming.setViewport({ width: 1100, height: 900 });
      await theming.goto(`${base}/theming.html?order=${order}`);
      await waitForState(theming, "#branded", "live");
      await waitForState(theming, "#chinese", "live");
      assert.ok(await framesIn(theming, "#branded") > 0);
      assert.ok(await framesIn(theming, "#chinese") > 0);
      const chineseBadge = await theming.evaluate(() =>
        document.querySelector("#chinese")!.shadowRoot!.querySelector(
          "[part=badge]",
        )!.textContent
      );
      assert.equal(chineseBadge, "直播");
      await theming.bringToFront();
      await theming.screenshot({ path: `${SCREENSHOTS}theming.png` });
    } finally {
      await dev.close();
      await esbuild.stop();
    }
  },
});
