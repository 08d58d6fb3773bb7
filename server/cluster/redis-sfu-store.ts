/**
 * Each stream's SFU snapshot in Redis (sfu/handover.ts): `P f:<stream>`, a
 * hash of `node` (the node driving it) and `snap` (its JSON), with a TTL the
 * driving node renews. Each step is one Lua script, so a save by a node
 * that lost the stream (another took it) is refused in the same step that
 * would have written it. Taking names the node even when there is nothing
 * to take, and a removed snapshot leaves its `node` until the TTL runs out:
 * a node that missed being told it lost the stream is refused all the same.
 */
import type { Redis } from "ioredis";
import type { SfuSnapshot, SfuStore } from "../sfu/handover.ts";
import { StoreUnavailable } from "../signaling/directory.ts";

/** Saves ARGV[2] for node ARGV[1] unless another node drives the stream. */
const SAVE = `
local k = KEYS[1]
local cur = redis.call('HGET', k, 'node')
if cur and cur ~= ARGV[1] then return 0 end
redis.call('HSET', k, 'node', ARGV[1], 'snap', ARGV[2])
redis.call('PEXPIRE', k, ARGV[3])
return 1
`;

/** The stream's snapshot (if any), now driven by ARGV[1]. */
const TAKE = `
local k = KEYS[1]
local snap = redis.call('HGET', k, 'snap')
redis.call('HSET', k, 'node', ARGV[1])
redis.call('PEXPIRE', k, ARGV[2])
return snap
`;

/** Removes the snapshot if ARGV[1] drives the stream; its node stays a TTL. */
const REMOVE = `
local k = KEYS[1]
if redis.call('HGET', k, 'node') == ARGV[1] then
  redis.call('HDEL', k, 'snap')
  redis.call('PEXPIRE', k, ARGV[2])
end
return 1
`;

/**
 * How long a snapshot outlives its last save: past Janus's own
 * `reclaim_session_timeout` (60 s advised) nothing could be claimed.
 */
export const SNAPSHOT_TTL_MS = 60_000;

export class RedisSfuStore implements SfuStore {
  #redis: Redis;
  #prefix: string;
  #node: string;

  constructor(redis: Redis, prefix: string, node: string) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#node = node;
  }

  async save(streamId: string, snapshot: SfuSnapshot): Promise<boolean> {
    const kept = await this.#run(
      SAVE,
      streamId,
      this.#node,
      JSON.stringify(snapshot),
      SNAPSHOT_TTL_MS,
    );
    return kept === 1;
  }

  async take(streamId: string): Promise<SfuSnapshot | undefined> {
    const snap = await this.#run(TAKE, streamId, this.#node, SNAPSHOT_TTL_MS);
    if (typeof snap !== "string") return undefined;
    try {
      return JSON.parse(snap);
    } catch {
      return undefined;
    }
  }

  async remove(streamId: string): Promise<void> {
    await this.#run(REMOVE, streamId, this.#node, SNAPSHOT_TTL_MS);
  }

  /** The key of `streamId`'s snapshot (for tests and operators). */
  keyOf(streamId: string): string {
    return `${this.#prefix}f:${streamId}`;
  }

  async #run(
    lua: string,
    streamId: string,
    ...args: (string | number)[]
  ): Promise<unknown> {
    try {
      return await this.#redis.eval(lua, 1, this.keyOf(streamId), ...args);
    } catch (error) {
      if ((error as Error)?.name === "ReplyError") throw error;
      throw new StoreUnavailable(error);
    }
  }
}
