/**
 * Per-IP limits: open connections (MAX_CONNECTIONS_PER_IP) and the rate of
 * announces and joins (JOIN_RATE_PER_IP_PER_MINUTE, JOIN_BURST_PER_IP), so one
 * address cannot take the server's connections or churn through streams.
 * Entries are dropped once an address has no connection and a full bucket,
 * so the map does not grow with every address ever seen.
 */
import { TokenBucket } from "./token-bucket.ts";

interface Entry {
  connections: number;
  joins: TokenBucket;
}

export class IpLimits {
  #entries = new Map<string, Entry>();
  #maxConnections: number;
  #perMinute: number;
  #burst: number;

  constructor(maxConnections: number, perMinute: number, burst: number) {
    this.#maxConnections = maxConnections;
    this.#perMinute = perMinute;
    this.#burst = burst;
  }

  /** Addresses tracked right now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Counts a new connection from `ip`, or refuses it at the cap. */
  connect(ip: string, now: number): boolean {
    const entry = this.#entry(ip, now);
    if (entry.connections >= this.#maxConnections) return false;
    entry.connections++;
    return true;
  }

  disconnect(ip: string, now: number): void {
    const entry = this.#entries.get(ip);
    if (!entry) return;
    entry.connections = Math.max(0, entry.connections - 1);
    this.#forgetIfIdle(ip, entry, now);
  }

  /** Takes one announce/join from `ip`'s bucket. */
  allowJoin(ip: string, now: number): boolean {
    return this.#entry(ip, now).joins.take(now);
  }

  /** Drops idle addresses; call now and then. */
  sweep(now: number): void {
    for (const [ip, entry] of this.#entries) this.#forgetIfIdle(ip, entry, now);
  }

  #entry(ip: string, now: number): Entry {
    let entry = this.#entries.get(ip);
    if (!entry) {
      entry = {
        connections: 0,
        joins: new TokenBucket(this.#burst, this.#perMinute / 60, now),
      };
      this.#entries.set(ip, entry);
    }
    return entry;
  }

  #forgetIfIdle(ip: string, entry: Entry, now: number): void {
    if (entry.connections === 0 && entry.joins.isFull(now)) {
      this.#entries.delete(ip);
    }
  }
}
