/**
 * The built bundles as a shop would use them: size within budget, and
 * `live-viewer.js` loaded alone by a plain HTML page (no build step, no
 * `signaling-url`) defines the element and plays a stream, served by the
 * production server with STATIC_DIR.
 */
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { build } from "../../scripts/build.ts";
import { serveBundles } from "./support/bundle-site.ts";
import { framesIn, launchChromium, waitForState } from "./support/chromium.ts";

/**
 * min+gzip budgets in bytes, Lit included. Issue 4 said "14 KB" and "16 KB"
 * (read here as 14,000 and 16,000), issue 10 14 KiB and 16 KiB; issue 11's
 * recovery (resume claims, ICE restarts by session, frame-based live state)
 * took the viewer to 14.6 KiB, so the budgets are 15 KiB and 17 KiB since.
 * Issue 13's switch to the SFU without a gap (a second connection held
 * until it decodes, `viewer-playing`) took the viewer to 15.1 KiB: 16 KiB.
 * Issue 14's WHIP/WHEP client, the Chinese strings and the statistics
 * reader are chunks beside the bundles, loaded only with `whip-url` /
 * `whep-url`, on a Chinese page, or for the `stats` box (viewer 14.7 KiB,
 * broadcaster 16.5 KiB after that). Issue 14 asked the viewer for 14 KiB:
 * missed (bench/RESULTS.md says what was tried). Issue 24: the broadcaster
 * at its 16 KiB; the viewer (14,612 B: internal property names mangled, an
 * error table per role) held to that rounded up to 64 B, its 14 KiB still
 * missed. Issue 25 allowed end-to-end encryption 300 B of the common path:
 * its code is a chunk and a worker, the bundles keep two properties, the
 * chunk's loading, the key's wait before joining, the `cannot-decrypt`
 * state and the e2ee error rows (viewer 14,656 -> 14,942, broadcaster
 * 16,325 -> 16,543), each held to that rounded up to 64 B. Issue 24's
 * fourth pass: Lit's css-tag.js replaced by a smaller one of the same
 * exports (components/ui/css-tag.ts): the broadcaster back at its 16 KiB
 * (16,365 B), the viewer (14,760 B) held to that rounded up to 64 B. Fifth
 * pass: Lit's registries and polyfill hooks left out (scripts/lit-trim.ts),
 * the WHEP glue in its chunk, the English error texts a chunk, the session
 * calling the element's hooks itself: the viewer at 14,331 B, its 14 KiB
 * (14,336 B) met at last; both held to their targets. The SFU viewer's
 * loss report (`viewer-loss`) is a chunk with the takeover's wait for a
 * steady picture (inbound-watch): the viewer 14,319 -> 14,329 B.
 */
const BUDGETS = { "live-viewer.js": 14_336, "live-broadcaster.js": 16_384 };

async function buildTo(): Promise<string> {
  const outdir = await Deno.makeTempDir();
  await build(outdir);
  await esbuild.stop();
  return outdir;
}

Deno.test("bundle sizes stay within budget (min+gzip, Lit included)", async () => {
  const outdir = await buildTo();
  try {
    for (const [file, budget] of Object.entries(BUDGETS)) {
      const bytes = await Deno.readFile(`${outdir}/${file}`);
      const gzipped = gzipSync(bytes, { level: 9 }).length;
      console.log(
        `${file}: ${bytes.length} B minified, ${gzipped} B gzipped (budget ${budget})`,
      );
      assert.ok(
        gzipped <= budget,
        `${file} is ${gzipped} B gzipped, budget ${budget}`,
      );
    }
    // Self-contained: a bundle imports nothing statically (Lit is inside);
    // only what it loads lazily is a chunk beside it.
    for (
      const file of [
        "live-widgets.js",
        ...Object.keys(BUDGETS),
        "protocol.js",
        "e2ee-worker.js",
      ]
    ) {
      const text = await Deno.readTextFile(`${outdir}/${file}`);
      assert.doesNotMatch(text, /(?:^|[;}\n])\s*import\s*[{*"'\w]/, file);
    }
    const viewer = await Deno.readTextFile(`${outdir}/live-viewer.js`);
    // Our css-tag.ts in place of Lit's (scripts/bundles.ts).
    assert.doesNotMatch(viewer, /CSSResult is not constructable/);
    // Lit trimmed (scripts/lit-trim.ts).
    assert.doesNotMatch(viewer, /Versions|PolyfillSupport|HydrateSupport/);
    assert.match(viewer, /import\("\.\/whep-player-\w+\.js"\)/);
    assert.match(viewer, /import\("\.\/viewer-strings-zh-\w+\.js"\)/);
    assert.match(viewer, /import\("\.\/inbound-watch-\w+\.js"\)/);
    // End-to-end encryption: a chunk, which starts the worker beside it.
    assert.match(viewer, /import\("\.\/e2ee-\w+\.js"\)/);
    const e2ee = (await Array.fromAsync(Deno.readDir(outdir)))
      .find((entry) => /^e2ee-[A-Z0-9]{8}\.js$/.test(entry.name))!.name;
    assert.match(
      await Deno.readTextFile(`${outdir}/${e2ee}`),
      /new URL\("\.\/e2ee-worker\.js",import\.meta\.url\)/,
    );
  } finally {
    await Deno.remove(outdir, { recursive: true });
  }
});

Deno.test({
  name:
    "a plain page with only live-viewer.js plays a stream from a page with only live-broadcaster.js",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using site = await serveBundles({
      // In Chinese: its strings are a chunk beside the bundle.
      "watch.html":
        `<!doctype html><html lang="zh-CN"><script type="module" src="/live-viewer.js"></script>
<live-viewer stream-id="order-plain"></live-viewer>`,
      "send.html":
        `<!doctype html><script type="module" src="/live-broadcaster.js"></script>
<live-broadcaster stream-id="order-plain" ice-servers="[]" autostart></live-broadcaster>`,
    });
    await using browser = await launchChromium();
    const sender = await browser.newPage();
    await sender.goto(`${site.base}/send.html`);
    await waitForState(sender, "live-broadcaster", "live");
    const watcher = await browser.newPage();
    await watcher.goto(`${site.base}/watch.html`);
    assert.equal(
      await watcher.evaluate(() =>
        customElements.get("live-viewer")?.prototype instanceof HTMLElement
      ),
      true,
    );
    // Only the viewer bundle is on this page.
    assert.equal(
      await watcher.evaluate(() => !!customElements.get("live-broadcaster")),
      false,
    );
    await waitForState(watcher, "live-viewer", "live");
    assert.ok(await framesIn(watcher, "live-viewer") > 0);
    assert.equal(
      await watcher.evaluate(() =>
        document.querySelector("live-viewer")!.shadowRoot!
          .querySelector("[role=status]")!.textContent!.trim()
      ),
      "直播中",
    );
    // Without a key, nothing of end-to-end encryption was loaded.
    const loaded = await watcher.evaluate(() =>
      performance.getEntriesByType("resource").map((entry) => entry.name)
    );
    assert.ok(loaded.some((name) => /viewer-strings-zh-\w+\.js$/.test(name)));
    assert.deepEqual(loaded.filter((name) => /e2ee/.test(name)), []);
  },
});

Deno.test({
  name:
    "the bundles' stylesheets (components/ui/css-tag.ts in place of Lit's): adopted by each shadow root, or a <style> each with litNonce where a browser cannot adopt one",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const page = (before: string) =>
      `<!doctype html><script>${before}</script>
<script type="module" src="/live-viewer.js"></script>
<script type="module" src="/live-broadcaster.js"></script>
<live-viewer></live-viewer><live-viewer></live-viewer><live-broadcaster></live-broadcaster>`;
    await using site = await serveBundles({
      "adopted.html": page(""),
      // As in Safari before 16.4: no adoptedStyleSheets.
      "fallback.html": page(
        `delete Document.prototype.adoptedStyleSheets; window.litNonce = "n0nce";`,
      ),
    });
    await using browser = await launchChromium();
    const tab = await browser.newPage();
    const read = () =>
      tab.evaluate(async () => {
        await customElements.whenDefined("live-viewer");
        await customElements.whenDefined("live-broadcaster");
        const elements = [
          ...document.querySelectorAll("live-viewer, live-broadcaster"),
        ] as HTMLElement[];
        await Promise.all(
          elements.map((e) =>
            (e as unknown as { updateComplete: unknown })
              .updateComplete
          ),
        );
        return elements.map((e) => {
          const root = e.shadowRoot!;
          return {
            display: getComputedStyle(e).display,
            adopted: root.adoptedStyleSheets?.length ?? 0,
            styles: [...root.querySelectorAll("style")].map((s) =>
              s.getAttribute("nonce")
            ),
          };
        });
      });
    await tab.goto(`${site.base}/adopted.html`);
    const adopted = await read();
    assert.deepEqual(
      adopted.map(({ display, adopted, styles }) => [display, adopted, styles]),
      [["block", 2, []], ["block", 2, []], ["block", 2, []]],
    );
    // The two viewers adopt the same sheets: each made once.
    assert.ok(
      await tab.evaluate(() => {
        const [a, b] = [...document.querySelectorAll("live-viewer")]
          .map((e) => e.shadowRoot!.adoptedStyleSheets);
        return a[0] === b[0] && a[1] === b[1];
      }),
    );
    await tab.goto(`${site.base}/fallback.html`);
    const fallback = await read();
    assert.deepEqual(
      fallback.map(({ display, styles }) => [display, styles]),
      [
        ["block", ["n0nce", "n0nce"]],
        ["block", ["n0nce", "n0nce"]],
        ["block", ["n0nce", "n0nce"]],
      ],
    );
  },
});

Deno.test({
  name:
    "with e2eeKey, plain pages with the built bundles play end-to-end encrypted: each e2ee chunk starts e2ee-worker.js from beside itself, also for a page on another origin than the bundles",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const key = "WzEsMiwzLDQsNSw2LDcsOCw5LDEwLDExLDEyLDEzXQ";
    // The key is a property, set by the page's script (never an attribute).
    const element = (tag: string, extra = "") =>
      `<!doctype html><script type="module" src="/${tag}.js"></script>
<script type="module">
const element = document.createElement("${tag}");
element.setAttribute("stream-id", "order-e2ee");
element.setAttribute("ice-servers", "[]");
element.e2eeKey = "${key}";
document.body.append(element);
${extra}
</script>`;
    await using site = await serveBundles({
      "send.html": element("live-broadcaster", "element.start();"),
      "watch.html": element("live-viewer"),
      // A shop's page on another origin than the bundles (localhost here,
      // 127.0.0.1 for them): a worker cannot be started from another
      // origin, so the chunk starts it through a blob: module.
      "watch-elsewhere.html": `<!doctype html><script type="module">
await import(\`http://127.0.0.1:\${location.port}/live-viewer.js\`);
const element = document.createElement("live-viewer");
element.setAttribute("stream-id", "order-e2ee");
element.setAttribute("ice-servers", "[]");
element.e2eeKey = "${key}";
document.body.append(element);
</script>`,
    });
    await using browser = await launchChromium();
    const sender = await browser.newPage();
    await sender.goto(`${site.base}/send.html`);
    await waitForState(sender, "live-broadcaster", "live");
    const watcher = await browser.newPage();
    const errors: string[] = [];
    watcher.on("pageerror", (error) => errors.push(String(error)));
    await watcher.goto(`${site.base}/watch.html`);
    // Live only once frames decrypt: the worker ran on both pages.
    await waitForState(watcher, "live-viewer", "live");
    assert.ok(await framesIn(watcher, "live-viewer") > 0);
    const loaded = await watcher.evaluate(() =>
      performance.getEntriesByType("resource").map((entry) => entry.name)
    );
    assert.ok(
      loaded.some((name) => /\/e2ee-[A-Z0-9]{8}\.js$/.test(name)),
      "chunk",
    );
    assert.deepEqual(errors, []);
    const elsewhere = await browser.newPage();
    const elsewhereErrors: string[] = [];
    elsewhere.on("pageerror", (error) => elsewhereErrors.push(String(error)));
    await elsewhere.goto(
      `${site.base.replace("127.0.0.1", "localhost")}/watch-elsewhere.html`,
    );
    await waitForState(elsewhere, "live-viewer", "live");
    assert.ok(await framesIn(elsewhere, "live-viewer") > 0);
    assert.deepEqual(elsewhereErrors, []);
  },
});
