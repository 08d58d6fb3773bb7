import type { ReactiveController, ReactiveControllerHost } from "lit";

/**
 * Keeps a phone's screen on while broadcasting: the lock is released by the
 * browser whenever the page is hidden, so it is taken again on return. A
 * controller: leaving the page releases it.
 */
export class ScreenWakeLock implements ReactiveController {
  #sentinel: { release(): Promise<void> } | undefined;
  #wanted = false;
  #onVisibility = () => {
    if (this.#wanted && document.visibilityState === "visible") this.#acquire();
  };

  constructor(host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostDisconnected(): void {
    this.release();
  }

  hold(): void {
    if (this.#wanted) return;
    this.#wanted = true;
    document.addEventListener("visibilitychange", this.#onVisibility);
    this.#acquire();
  }

  release(): void {
    this.#wanted = false;
    document.removeEventListener("visibilitychange", this.#onVisibility);
    this.#sentinel?.release().catch(() => {});
    this.#sentinel = undefined;
  }

  async #acquire(): Promise<void> {
    const wakeLock = (navigator as {
      wakeLock?: {
        request(type: "screen"): Promise<{ release(): Promise<void> }>;
      };
    }).wakeLock;
    if (!wakeLock || document.visibilityState !== "visible") return;
    try {
      this.#sentinel = await wakeLock.request("screen");
      if (!this.#wanted) this.release();
    } catch {
      // Denied (battery saver, no user activation yet): the stream goes on.
    }
  }
}
