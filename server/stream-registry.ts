/**
 * Who is in which stream. Pure bookkeeping, no I/O: the router decides what to
 * send. Invariant: a room exists only while someone is in it, and every
 * member is in exactly one room, so the maps never hold leftovers.
 */
import type { Peer } from "./peer.ts";

export interface Room {
  readonly streamId: string;
  broadcaster: Peer | undefined;
  /** Viewers by client id, in join order. */
  readonly viewers: Map<string, Peer>;
  /** The broadcaster token's `maxViewers`, while that broadcaster is here. */
  viewerCap: number | undefined;
}

export type Role = "broadcaster" | "viewer";

/** Who a member is, from its token; absent in open development mode. */
export interface Identity {
  subject: string;
  name?: string;
  maxViewers?: number;
}

export interface Membership {
  readonly role: Role;
  readonly room: Room;
  readonly identity?: Identity;
  /** A viewer's `join-stream.session`: the connection it says it holds. */
  session?: string;
}

export class StreamRegistry {
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

  /** Makes `peer` the broadcaster of `streamId`; the caller checked it is free. */
  setBroadcaster(streamId: string, peer: Peer, identity?: Identity): Room {
    const room = this.#roomFor(streamId);
    room.broadcaster = peer;
    room.viewerCap = identity?.maxViewers;
    this.#members.set(peer.id, { role: "broadcaster", room, identity });
    return room;
  }

  addViewer(
    streamId: string,
    peer: Peer,
    identity?: Identity,
    session?: string,
  ): Room {
    const room = this.#roomFor(streamId);
    room.viewers.set(peer.id, peer);
    this.#members.set(peer.id, { role: "viewer", room, identity, session });
    return room;
  }

  /** The peer in `clientId`'s place, if it has one. */
  peerOf(clientId: string): Peer | undefined {
    const membership = this.#members.get(clientId);
    if (!membership) return undefined;
    return membership.role === "broadcaster"
      ? membership.room.broadcaster
      : membership.room.viewers.get(clientId);
  }

  /** Puts `peer` (a new connection of the same client) in its place. */
  replacePeer(peer: Peer): Membership | undefined {
    const membership = this.#members.get(peer.id);
    if (!membership) return undefined;
    if (membership.role === "broadcaster") membership.room.broadcaster = peer;
    else membership.room.viewers.set(peer.id, peer);
    return membership;
  }

  /** Removes `clientId` from its room, dropping the room if it empties. */
  remove(clientId: string): Membership | undefined {
    const membership = this.#members.get(clientId);
    if (!membership) return undefined;
    this.#members.delete(clientId);
    const { room } = membership;
    if (membership.role === "broadcaster") {
      room.broadcaster = undefined;
      room.viewerCap = undefined;
    } else room.viewers.delete(clientId);
    if (!room.broadcaster && room.viewers.size === 0) {
      this.#rooms.delete(room.streamId);
    }
    return membership;
  }

  #roomFor(streamId: string): Room {
    let room = this.#rooms.get(streamId);
    if (!room) {
      room = {
        streamId,
        broadcaster: undefined,
        viewers: new Map(),
        viewerCap: undefined,
      };
      this.#rooms.set(streamId, room);
    }
    return room;
  }
}
