/**
 * Refusals an operator should hear of without a flood: one `warn` line per
 * address and minute, naming the reason and how many of that address's
 * connections, joins or sessions were refused since its previous line. An
 * office behind one NAT hitting MAX_CONNECTIONS_PER_IP shows up in the log,
 * not only as a counter in /metrics; a flood from one address writes one
 * line a minute.
 */
import type { Logger } from "./logger.ts";

/** How long an address stays quiet after its line. */
export const REFUSAL_LOG_WINDOW_MS = 60_000;
/**
 * Addresses remembered at once; past it (a flood from many addresses) the
 * rest are summed into one line a minute.
 */
export const REFUSAL_LOG_MAX_ADDRESSES = 10_000;

interface Quiet {
  /** When its last line was written. */
  loggedAt: number;
  /** Refusals since, by reason. */
  since: Map<string, number>;
}

export class RefusalLog {
  #logger: Logger;
  #windowMs: number;
  #maxAddresses: number;
  #addresses = new Map<string, Quiet>();
  /** Refusals of addresses not remembered (the map was full). */
  #overflow = { loggedAt: -Infinity, count: 0 };

  constructor(
    logger: Logger,
    windowMs = REFUSAL_LOG_WINDOW_MS,
    maxAddresses = REFUSAL_LOG_MAX_ADDRESSES,
  ) {
    this.#logger = logger;
    this.#windowMs = windowMs;
    this.#maxAddresses = maxAddresses;
  }

  /** `address` was refused for `reason` (an error code) at `now` (ms). */
  refused(address: string, reason: string, now = performance.now()): void {
    const quiet = this.#addresses.get(address);
    if (quiet && now - quiet.loggedAt < this.#windowMs) {
      quiet.since.set(reason, (quiet.since.get(reason) ?? 0) + 1);
      return;
    }
    if (!quiet && this.#addresses.size >= this.#maxAddresses) {
      this.#sweep(now);
      if (this.#addresses.size >= this.#maxAddresses) {
        return this.#overflowed(reason, now);
      }
    }
    const earlier = quiet ? Object.fromEntries(quiet.since) : {};
    this.#logger.warn("refused-address", {
      remoteAddress: address,
      reason,
      // What it was refused in the window before this line, if anything.
      ...(Object.keys(earlier).length > 0 ? { since: earlier } : {}),
    });
    this.#addresses.set(address, { loggedAt: now, since: new Map() });
  }

  /** Forgets addresses whose window has passed. */
  #sweep(now: number): void {
    for (const [address, quiet] of this.#addresses) {
      if (now - quiet.loggedAt >= this.#windowMs) {
        this.#addresses.delete(address);
      }
    }
  }

  #overflowed(reason: string, now: number): void {
    this.#overflow.count++;
    if (now - this.#overflow.loggedAt < this.#windowMs) return;
    this.#logger.warn("refused-addresses", {
      reason,
      addresses: this.#addresses.size,
      refusedUnlogged: this.#overflow.count,
    });
    this.#overflow = { loggedAt: now, count: 0 };
  }
}
