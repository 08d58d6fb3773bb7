/**
 * The {@link Directory} in Redis, for a cluster of nodes: each step is one
 * Lua script (see redis-scripts.ts), one round trip, atomic. Errors that mean
 * "Redis is not reachable" become {@link StoreUnavailable}; a script's own
 * error (a bug) stays what it is.
 */
import type { Redis } from "ioredis";
import {
  type Announced,
  type Departure,
  type Directory,
  type Entrant,
  type Joined,
  type Role,
  type Route,
  type Seat,
  StoreUnavailable,
  type ViewerSeat,
} from "../signaling/directory.ts";
import { type ScriptName, SCRIPTS } from "./redis-scripts.ts";

type Reply = null | number | string | Reply[];

/** Two clients with one id on two nodes: ids are random, so a bug or an attack. */
export class ClientIdConflict extends Error {
  constructor(clientId: string) {
    super(`Client id ${clientId} is held on another node`);
    this.name = "ClientIdConflict";
  }
}

/** Registers the scripts on `redis` (EVALSHA, loaded again after NOSCRIPT). */
export function defineScripts(redis: Redis): void {
  for (const [name, lua] of Object.entries(SCRIPTS)) {
    redis.defineCommand(name, { numberOfKeys: 0, lua });
  }
}

/** Runs script `name` with the prefix first; transport failures become StoreUnavailable. */
export async function runScript(
  redis: Redis,
  prefix: string,
  name: ScriptName,
  ...args: (string | number)[]
): Promise<Reply> {
  const run = (redis as unknown as Record<
    ScriptName,
    (...a: (string | number)[]) => Promise<Reply>
  >)[name];
  try {
    return await run.call(redis, prefix, ...args);
  } catch (error) {
    // A ReplyError is Redis answering (a script bug); anything else is the
    // link: not connected, timed out, closed.
    if ((error as Error)?.name === "ReplyError") throw error;
    throw new StoreUnavailable(error);
  }
}

export class RedisDirectory implements Directory {
  #redis: Redis;
  #prefix: string;
  /** Rejects the steps under way when Redis stops answering (see abandon). */
  #silence = Promise.withResolvers<never>();

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#silence.promise.catch(() => {});
  }

  /**
   * Fails every step waiting for a reply: Redis has stopped answering, and a
   * link closed gracefully would hold them until it answers again. (Redis
   * may still carry one out later; the client was told it did not happen,
   * asks again, and the repeat is idempotent.)
   */
  abandon(reason: string): void {
    this.#silence.reject(new StoreUnavailable(reason));
    this.#silence = Promise.withResolvers<never>();
    this.#silence.promise.catch(() => {});
  }

  #run(name: ScriptName, ...args: (string | number)[]): Promise<Reply> {
    return Promise.race([
      runScript(this.#redis, this.#prefix, name, ...args),
      this.#silence.promise,
    ]);
  }

  async announce(
    streamId: string,
    entrant: Entrant & { e2ee?: true },
  ): Promise<Announced> {
    const { clientId, node, identity } = entrant;
    const reply = await this.#run(
      "lwAnnounce",
      streamId,
      clientId,
      node,
      identity?.subject ?? "",
      identity?.name ?? "",
      identity?.maxViewers ?? "",
      entrant.e2ee ? "1" : "",
    ) as Reply[];
    if (reply[0] === "conflict") throw new ClientIdConflict(clientId);
    if (reply[0] === "taken") return { ok: false, reason: "taken" };
    const flat = reply[4] as string[];
    const viewers: ViewerSeat[] = [];
    for (let i = 0; i < flat.length; i += 4) {
      viewers.push({
        id: flat[i],
        node: flat[i + 1],
        ...(flat[i + 2] ? { session: flat[i + 2] } : {}),
        ...(flat[i + 3] === "1" ? { e2ee: true as const } : {}),
      });
    }
    return {
      ok: true,
      again: reply[1] === 1,
      replaced: parseDeparture(reply[2]),
      switched: parseDeparture(reply[3]),
      viewers,
      e2eeBefore: reply[5] === 1,
    };
  }

  async join(
    streamId: string,
    entrant: Entrant & { session?: string; e2ee?: true },
    cap: number,
    tell: string,
  ): Promise<Joined> {
    const { clientId, node, identity, session, e2ee } = entrant;
    const reply = await this.#run(
      "lwJoin",
      streamId,
      clientId,
      node,
      identity?.subject ?? "",
      identity?.name ?? "",
      session ?? "",
      cap,
      tell,
      e2ee ? "1" : "",
    ) as Reply[];
    if (reply[0] === "conflict") throw new ClientIdConflict(clientId);
    if (reply[0] === "full") {
      return { ok: false, reason: "full", cap: reply[1] as number };
    }
    const broadcaster = reply[3] as string;
    return {
      ok: true,
      again: reply[1] === 1,
      switched: parseDeparture(reply[2]),
      broadcaster: broadcaster
        ? { id: broadcaster, node: reply[4] as string }
        : undefined,
      viewerCount: reply[5] as number,
      told: reply[6] === 1,
      e2ee: reply[7] === 1,
    };
  }

  async leave(clientId: string, node: string): Promise<Departure | undefined> {
    return parseDeparture(await this.#run("lwLeave", clientId, node));
  }

  async route(
    from: { clientId: string; node: string; role: Role },
    streamId: string,
    viewerId: string | undefined,
    text: string,
  ): Promise<Route> {
    const reply = await this.#run(
      "lwRoute",
      from.clientId,
      from.node,
      from.role === "broadcaster" ? "b" : "v",
      streamId,
      viewerId ?? "",
      text,
    ) as (string | number)[];
    if (reply[0] !== "target") {
      return { found: reply[0] === "no-target" ? "no-target" : "no-sender" };
    }
    return {
      found: "target",
      to: { id: reply[1] as string, node: reply[2] as string },
      sent: reply[3] === 1,
    };
  }

  async resume(
    clientId: string,
    claimed: { streamId: string; role: Role },
    node: string,
  ): Promise<string | undefined> {
    const reply = await this.#run(
      "lwResume",
      clientId,
      claimed.streamId,
      claimed.role === "broadcaster" ? "b" : "v",
      node,
    );
    return typeof reply === "string" ? reply : undefined;
  }
}

/** A script's flat departure (see redis-scripts.ts), or undefined for none. */
export function parseDeparture(reply: Reply): Departure | undefined {
  if (!Array.isArray(reply)) return undefined;
  const [id, streamId, role, node, subject, name, session, count, b, bn] =
    reply as (string | number)[];
  const viewers: Seat[] = [];
  for (let i = 10; i < reply.length; i += 2) {
    viewers.push({ id: reply[i] as string, node: reply[i + 1] as string });
  }
  return {
    clientId: id as string,
    place: {
      streamId: streamId as string,
      role: role === "b" ? "broadcaster" : "viewer",
      node: node as string,
      ...(subject
        ? {
          identity: {
            subject: subject as string,
            ...(name ? { name: name as string } : {}),
          },
        }
        : {}),
      ...(session ? { session: session as string } : {}),
    },
    broadcaster: b ? { id: b as string, node: bn as string } : undefined,
    viewers,
    viewerCount: count as number,
  };
}
