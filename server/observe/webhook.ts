/**
 * Sends audit events to WEBHOOK_URL as signed JSON POSTs, off the signaling
 * path: events are queued (bounded, oldest dropped first), batched, and
 * retried with exponential backoff; nothing here ever waits in a message
 * handler.
 *
 * Each POST carries `X-Live-Timestamp` (Unix seconds) and
 * `X-Live-Signature: sha256=<hex HMAC-SHA256(WEBHOOK_SECRET, timestamp + "." + body)>`;
 * the receiver recomputes it and rejects stale timestamps (replays).
 */
import type { AuditEvent } from "./audit.ts";
import type { Logger } from "./logger.ts";

export interface WebhookOptions {
  url: string;
  secret: string;
  logger: Logger;
  /** Events kept while the receiver is slow or down (oldest dropped past it). */
  maxQueue?: number;
  /** Events per POST. */
  maxBatch?: number;
  /** Attempts per batch before it is given up. */
  maxAttempts?: number;
  /** First retry delay; doubles up to 60 s. */
  retryMs?: number;
  /** Per-request timeout. */
  timeoutMs?: number;
}

/** Computes the signature a receiver checks (exported for receivers in Deno/Node). */
export async function signWebhook(
  secret: string,
  timestamp: string,
  body: string,
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign(
    "HMAC",
    key,
    new TextEncoder().encode(`${timestamp}.${body}`),
  );
  return "sha256=" +
    [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join(
      "",
    );
}

export class WebhookSender {
  readonly stats = { sent: 0, failed: 0, dropped: 0 };
  #options: Required<WebhookOptions>;
  #queue: AuditEvent[] = [];
  #running: Promise<void> | undefined;
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(options: WebhookOptions) {
    this.#options = {
      maxQueue: 10_000,
      maxBatch: 100,
      maxAttempts: 8,
      retryMs: 500,
      timeoutMs: 5_000,
      ...options,
    };
  }

  /** Queues one event; returns at once. */
  send(event: AuditEvent): void {
    if (this.#closed) return;
    this.#queue.push(event);
    if (this.#queue.length > this.#options.maxQueue) {
      this.#queue.shift();
      this.stats.dropped++;
    }
    this.#running ??= this.#run().finally(() => (this.#running = undefined));
  }

  /** Stops retrying and waits (bounded) for an in-flight POST. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    await this.#running;
  }

  async #run(): Promise<void> {
    while (this.#queue.length > 0 && !this.#closed) {
      const batch = this.#queue.splice(0, this.#options.maxBatch);
      let delay = this.#options.retryMs;
      for (let attempt = 1;; attempt++) {
        if (await this.#post(batch)) {
          this.stats.sent += batch.length;
          break;
        }
        if (attempt >= this.#options.maxAttempts || this.#closed) {
          this.stats.failed += batch.length;
          this.#options.logger.warn("webhook-gave-up", {
            events: batch.length,
            attempts: attempt,
          });
          break;
        }
        await this.#sleep(delay);
        delay = Math.min(delay * 2, 60_000);
      }
    }
  }

  async #post(batch: AuditEvent[]): Promise<boolean> {
    const body = JSON.stringify(batch);
    const timestamp = String(Math.floor(Date.now() / 1000));
    try {
      const response = await fetch(this.#options.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-live-timestamp": timestamp,
          "x-live-signature": await signWebhook(
            this.#options.secret,
            timestamp,
            body,
          ),
        },
        body,
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      await response.body?.cancel();
      return response.ok;
    } catch {
      return false;
    }
  }

  /** A wait that close() cuts short. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
