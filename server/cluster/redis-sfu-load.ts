/**
 * Janus instances' load across nodes: each node says what it drives on
 * every instance (`P l:<node>`, a hash of instance URL -> load, with a
 * short TTL) and reads what the others drive, in one Lua step every
 * {@link LOAD_SHARE_MS}. A new stream then goes to the instance least
 * loaded by every node together, not by this node alone.
 */
import type { Redis } from "ioredis";
import type { Logger } from "../observe/logger.ts";

/** How often loads are exchanged. */
export const LOAD_SHARE_MS = 2_000;
/** A node silent this long no longer counts (it died, or left). */
const LOAD_TTL_MS = 5 * LOAD_SHARE_MS;

/**
 * ARGV: P, node, ttl, then URL and load pairs (this node's). Returns the
 * other registered nodes' pairs, flat.
 */
const SHARE = `
local P, node = ARGV[1], ARGV[2]
local k = P .. 'l:' .. node
redis.call('DEL', k)
if #ARGV > 3 then
  redis.call('HSET', k, unpack(ARGV, 4))
  redis.call('PEXPIRE', k, ARGV[3])
end
local out = {}
for _, n in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do
  if n ~= node then
    local h = redis.call('HGETALL', P .. 'l:' .. n)
    for i = 1, #h do out[#out + 1] = h[i] end
  end
end
return out
`;

/** What the pool tells and is told: loads by instance URL. */
export interface LoadSource {
  /** This node's load on each instance. */
  localLoads(): Map<string, number>;
  /** Every other node's, summed, as last read. */
  setShared(loads: ReadonlyMap<string, number>): void;
}

export class SharedSfuLoad {
  #redis: Redis;
  #prefix: string;
  #node: string;
  #logger: Logger;
  #timer: ReturnType<typeof setInterval> | undefined;
  #failing = false;

  constructor(redis: Redis, prefix: string, node: string, logger: Logger) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#node = node;
    this.#logger = logger;
  }

  /** Exchanges loads with `source` now and every LOAD_SHARE_MS. */
  start(source: LoadSource): void {
    this.stop();
    const tick = () => this.exchange(source).catch(() => {});
    tick();
    this.#timer = setInterval(tick, LOAD_SHARE_MS);
    Deno.unrefTimer(this.#timer);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One exchange: this node's loads out, the others' in. */
  async exchange(source: LoadSource): Promise<void> {
    const mine = [...source.localLoads()].flatMap(([url, load]) => [
      url,
      String(load),
    ]);
    try {
      const flat = await this.#redis.eval(
        SHARE,
        0,
        this.#prefix,
        this.#node,
        LOAD_TTL_MS,
        ...mine,
      ) as string[];
      const shared = new Map<string, number>();
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const load = Number(flat[i + 1]);
        if (!Number.isFinite(load)) continue;
        shared.set(flat[i], (shared.get(flat[i]) ?? 0) + load);
      }
      source.setShared(shared);
      this.#failing = false;
    } catch (error) {
      // Redis away: the last loads read stand; said once per outage.
      if (!this.#failing) {
        this.#logger.warn("sfu-load-not-shared", { error: String(error) });
      }
      this.#failing = true;
    }
  }
}
