/**
 * The in-memory {@link Directory}: who is in which stream, for one process.
 * Pure bookkeeping, no I/O: the router decides what to send. Invariant: a
 * room exists only while someone is in it, and every member is in exactly
 * one room, so the maps never hold leftovers.
 */
import type {
  Announced,
  Departure,
  Directory,
  Entrant,
  Identity,
  Joined,
  Role,
  Route,
  Seat,
  ViewerSeat,
} from "./directory.ts";

export type { Identity, Role };

export interface Room {
  readonly streamId: string;
  broadcaster: Seat | undefined;
  /** Viewers by client id, in join order. */
  readonly viewers: Map<string, ViewerSeat>;
  /** The broadcaster token's `maxViewers`, while that broadcaster is here. */
  viewerCap: number | undefined;
  /** That broadcaster encrypts end to end (`broadcaster-ready.e2ee`). */
  e2ee: boolean;
}

export interface Membership {
  readonly role: Role;
  readonly room: Room;
  node: string;
  readonly identity?: Identity;
  /** A viewer's `join-stream.session`: the connection it says it holds. */
  readonly session?: string;
  /** A viewer's `join-stream.e2ee`: it decrypts. */
  readonly e2ee?: true;
}

export class StreamRegistry implements Directory {
  #rooms = new Map<string, Room>();
  #members = new Map<string, Membership>();

  /** Rooms with anyone in them (live or waiting). */
  get roomCount(): number {
    return this.#rooms.size;
  }

  /** Clients that are a broadcaster or viewer somewhere. */
  get memberCount(): number {
    return this.#members.size;
  }

  get liveCount(): number {
    let live = 0;
    for (const room of this.#rooms.values()) if (room.broadcaster) live++;
    return live;
  }

  get viewerCount(): number {
    let viewers = 0;
    for (const room of this.#rooms.values()) viewers += room.viewers.size;
    return viewers;
  }

  room(streamId: string): Room | undefined {
    return this.#rooms.get(streamId);
  }

  membershipOf(clientId: string): Membership | undefined {
    return this.#members.get(clientId);
  }

  announce(streamId: string, entrant: Entrant & { e2ee?: true }): Announced {
    const { clientId, node, identity } = entrant;
    const current = this.#members.get(clientId);
    const again = current?.role === "broadcaster" &&
      current.room.streamId === streamId;
    const holder = this.#rooms.get(streamId)?.broadcaster;
    let replaced: Departure | undefined;
    if (holder && holder.id !== clientId) {
      const held = this.#members.get(holder.id)?.identity;
      if (held === undefined || held.subject !== identity?.subject) {
        return { ok: false, reason: "taken" };
      }
      // The same user again, with a valid token: a stale session of theirs.
      replaced = this.#remove(holder.id);
    }
    // A client holds one role in one stream: switching leaves the old one.
    const switched = current && !again ? this.#remove(clientId) : undefined;
    const room = this.#roomFor(streamId);
    const e2eeBefore = room.e2ee;
    room.broadcaster = { id: clientId, node };
    room.viewerCap = identity?.maxViewers;
    room.e2ee = entrant.e2ee === true;
    this.#members.set(clientId, { role: "broadcaster", room, node, identity });
    return {
      ok: true,
      again,
      replaced,
      switched,
      viewers: [...room.viewers.values()],
      e2eeBefore,
    };
  }

  join(
    streamId: string,
    entrant: Entrant & { session?: string; e2ee?: true },
    cap: number,
  ): Joined {
    const { clientId, node, identity, session, e2ee } = entrant;
    const current = this.#members.get(clientId);
    const again = current?.role === "viewer" &&
      current.room.streamId === streamId;
    const existing = this.#rooms.get(streamId);
    const limit = Math.min(cap, existing?.viewerCap ?? Infinity);
    if (!again && existing && existing.viewers.size >= limit) {
      return { ok: false, reason: "full", cap: limit };
    }
    const switched = current && !again ? this.#remove(clientId) : undefined;
    const room = this.#roomFor(streamId);
    room.viewers.set(clientId, viewerSeat(clientId, node, session, e2ee));
    this.#members.set(clientId, {
      role: "viewer",
      room,
      node,
      identity,
      session,
      ...(e2ee ? { e2ee } : {}),
    });
    return {
      ok: true,
      again,
      switched,
      broadcaster: room.broadcaster,
      viewerCount: room.viewers.size,
      told: false,
      e2ee: room.broadcaster !== undefined && room.e2ee,
    };
  }

  leave(clientId: string, node: string): Departure | undefined {
    if (this.#members.get(clientId)?.node !== node) return undefined;
    return this.#remove(clientId);
  }

  route(
    from: { clientId: string; node: string; role: Role },
    streamId: string,
    viewerId: string | undefined,
  ): Route {
    const membership = this.#members.get(from.clientId);
    if (
      membership?.node !== from.node || membership.role !== from.role ||
      membership.room.streamId !== streamId
    ) return { found: "no-sender" };
    const { room } = membership;
    const to = from.role === "broadcaster"
      ? viewerId === undefined ? undefined : room.viewers.get(viewerId)
      : room.broadcaster;
    return to ? { found: "target", to, sent: false } : { found: "no-target" };
  }

  resume(
    clientId: string,
    claimed: { streamId: string; role: Role },
    node: string,
  ): string | undefined {
    const membership = this.#members.get(clientId);
    if (
      membership?.role !== claimed.role ||
      membership.room.streamId !== claimed.streamId
    ) return undefined;
    const previous = membership.node;
    membership.node = node;
    const { room } = membership;
    if (membership.role === "broadcaster") {
      room.broadcaster = { id: clientId, node };
    } else {
      room.viewers.set(
        clientId,
        viewerSeat(clientId, node, membership.session, membership.e2ee),
      );
    }
    return previous;
  }

  /** Removes `clientId` from its room, dropping the room if it empties. */
  #remove(clientId: string): Departure | undefined {
    const membership = this.#members.get(clientId);
    if (!membership) return undefined;
    this.#members.delete(clientId);
    const { room, role, node, identity, session } = membership;
    let viewers: Seat[] = [];
    if (role === "broadcaster") {
      room.broadcaster = undefined;
      room.viewerCap = undefined;
      room.e2ee = false;
      viewers = [...room.viewers.values()];
    } else room.viewers.delete(clientId);
    if (!room.broadcaster && room.viewers.size === 0) {
      this.#rooms.delete(room.streamId);
    }
    return {
      clientId,
      place: { streamId: room.streamId, role, node, identity, session },
      broadcaster: role === "viewer" ? room.broadcaster : undefined,
      viewers,
      viewerCount: room.viewers.size,
    };
  }

  #roomFor(streamId: string): Room {
    let room = this.#rooms.get(streamId);
    if (!room) {
      room = {
        streamId,
        broadcaster: undefined,
        viewers: new Map(),
        viewerCap: undefined,
        e2ee: false,
      };
      this.#rooms.set(streamId, room);
    }
    return room;
  }
}

/** A viewer's seat, `e2ee` only when it is (absent otherwise, as from the store). */
function viewerSeat(
  id: string,
  node: string,
  session: string | undefined,
  e2ee: true | undefined,
): ViewerSeat {
  return { id, node, session, ...(e2ee ? { e2ee } : {}) };
}
