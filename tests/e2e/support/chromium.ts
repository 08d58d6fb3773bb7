/** Headless Chromium (Debian's) with a fake camera, for end-to-end tests. */
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../../../scripts/browsers.ts";

export const SCREENSHOTS =
  new URL("../../test-results/screenshots/", import.meta.url).pathname;

export async function launchChromium(): Promise<Browser & AsyncDisposable> {
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return Object.assign(browser, {
    [Symbol.asyncDispose]: () => browser.close(),
  });
}

/** Resolves in the page once `selector`'s element has state `state`. */
export async function waitForState(
  page: Page,
  selector: string,
  state: string,
): Promise<void> {
  try {
    await page.waitForFunction(
      (sel, wanted) =>
        (document.querySelector(sel) as unknown as { state?: string })
          ?.state === wanted,
      { timeout: 20_000 },
      selector,
      state,
    );
  } catch (error) {
    // Say where it got stuck: a bare timeout tells nothing.
    const actual = await page.evaluate(
      (sel) =>
        (document.querySelector(sel) as unknown as { state?: string })?.state,
      selector,
    ).catch(() => "unknown");
    throw new Error(
      `${selector} on ${page.url()} never became ${state} (is ${actual})`,
      { cause: error },
    );
  }
}

/** Counts `count` presented frames of the video inside `selector`; returns its width. */
export function framesIn(
  page: Page,
  selector: string,
  count = 5,
): Promise<number> {
  return page.evaluate(
    (sel, n) =>
      new Promise<number>((resolve, reject) => {
        const video = document.querySelector(sel)!.shadowRoot!.querySelector(
          "video",
        )!;
        let seen = 0;
        const timer = setTimeout(
          () => reject(new Error(`no ${n} frames`)),
          20_000,
        );
        const next = () => {
          if (++seen >= n) {
            clearTimeout(timer);
            resolve(video.videoWidth);
          } else video.requestVideoFrameCallback(next);
        };
        video.requestVideoFrameCallback(next);
      }),
    selector,
    count,
  );
}

/** Clicks a button inside an element's shadow root. */
export async function clickInShadow(
  page: Page,
  host: string,
  button: string,
): Promise<void> {
  await page.evaluate(
    (h, b) =>
      document.querySelector(h)!.shadowRoot!.querySelector<HTMLButtonElement>(
        b,
      )!.click(),
    host,
    button,
  );
}
