/**
 * One Janus instance's link: the WebSocket, this node's own session and its
 * control handle (rooms, remote publishers), made on first use and again
 * after a loss with a growing delay. Fires `up` when linked and `down` when
 * the link closed.
 */
import type { Logger } from "../observe/logger.ts";
import {
  JanusClient,
  type JanusHandle,
  type JanusSession,
  JanusUnavailable,
} from "./janus-client.ts";

const VIDEOROOM = "janus.plugin.videoroom";
/** Reconnection delays after Janus is lost: quick, then every 5 s. */
const RETRY_MS = [250, 1_000, 2_000, 5_000];

export interface Link {
  client: JanusClient;
  session: JanusSession;
  control: JanusHandle;
}

export class JanusLink {
  readonly events = new EventTarget();
  readonly url: string;
  #logger: Logger;
  #up = false;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;
  #closed = false;
  #link: Promise<Link> | undefined;

  constructor(url: string, logger: Logger) {
    this.url = url;
    this.#logger = logger;
  }

  /** Whether Janus is linked now. */
  get up(): boolean {
    return this.#up;
  }

  /** The link, made once and again after a loss. */
  connected(): Promise<Link> {
    this.#link ??= (async () => {
      const client = await JanusClient.connect(this.url);
      client.events.addEventListener("closed", () => {
        this.#link = undefined;
        this.#up = false;
        this.events.dispatchEvent(new Event("down"));
        this.#again();
      }, { once: true });
      const session = await client.createSession();
      const control = await session.attach(VIDEOROOM);
      this.#up = true;
      this.#attempt = 0;
      this.#logger.info("sfu-up", { url: this.url });
      this.events.dispatchEvent(new Event("up"));
      return { client, session, control };
    })();
    return this.#link.catch((error) => {
      this.#link = undefined;
      this.#logger.debug("sfu-link-failed", {
        error: String(error),
        attempt: this.#attempt,
      });
      this.#again();
      throw error instanceof JanusUnavailable
        ? error
        : new JanusUnavailable(String(error));
    });
  }

  /** The link if there is one now (made or being made), else undefined. */
  current(): Promise<Link | undefined> {
    return this.#link?.catch(() => undefined) ?? Promise.resolve(undefined);
  }

  /** Stops retrying, ends this node's own session and closes the link. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const link = await this.current();
    this.#link = undefined;
    if (!link) return;
    await link.session.destroy().catch(() => {});
    link.client.close();
  }

  /** Tries the link again after a growing delay (unless closed). */
  #again(): void {
    if (this.#closed || this.#retry) return;
    const delay = RETRY_MS[Math.min(this.#attempt++, RETRY_MS.length - 1)];
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.connected().catch(() => {});
    }, delay);
  }
}
