/**
 * Per-IP limits: open connections (MAX_CONNECTIONS_PER_IP), the rate of new
 * ones (CONNECT_RATE_PER_IP_PER_MINUTE, CONNECT_BURST_PER_IP) and the rate of
 * announces and joins (JOIN_RATE_PER_IP_PER_MINUTE, JOIN_BURST_PER_IP). The
 * connection rate matters most: a client dropped for abuse would otherwise
 * reconnect at once, with fresh per-connection budgets, again and again.
 * Entries are dropped once an address has no connection and a full bucket,
 * so the map does not grow with every address ever seen.
 */
import { TokenBucket } from "./token-bucket.ts";

interface Entry {
  connections: number;
  connects: TokenBucket;
  joins: TokenBucket;
}

/** Per-minute rates and bursts. */
export interface IpLimitOptions {
  maxConnections: number;
  connectsPerMinute: number;
  connectBurst: number;
  joinsPerMinute: number;
  joinBurst: number;
}

/** Why a connection from an address was refused. */
export type ConnectRefusal = "too-many-connections" | "connect-rate-limited";

export class IpLimits {
  #entries = new Map<string, Entry>();
  #options: IpLimitOptions;

  constructor(options: IpLimitOptions) {
    this.#options = options;
  }

  /** Addresses tracked right now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Counts a new connection from `ip`, or says why it is refused. */
  connect(ip: string, now: number): true | ConnectRefusal {
    const entry = this.#entry(ip, now);
    if (entry.connections >= this.#options.maxConnections) {
      return "too-many-connections";
    }
    if (!entry.connects.take(now)) return "connect-rate-limited";
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
      const { connectBurst, connectsPerMinute, joinBurst, joinsPerMinute } =
        this.#options;
      entry = {
        connections: 0,
        connects: new TokenBucket(connectBurst, connectsPerMinute / 60, now),
        joins: new TokenBucket(joinBurst, joinsPerMinute / 60, now),
      };
      this.#entries.set(ip, entry);
    }
    return entry;
  }

  #forgetIfIdle(ip: string, entry: Entry, now: number): void {
    if (
      entry.connections === 0 && entry.joins.isFull(now) &&
      entry.connects.isFull(now)
    ) {
      this.#entries.delete(ip);
    }
  }
}
