/**
 * The directory: who is in which stream, and where their sockets live. The
 * router asks it and never keeps room state itself, so one router serves one
 * process (`StreamRegistry`, in memory) or a cluster (`RedisDirectory`).
 * Every step that checks and changes a room is one atomic call: two nodes
 * racing for a broadcaster slot or the last viewer seat get one winner.
 */

/** A member's part in a stream. */
export type Role = "broadcaster" | "viewer";

/** Who a member is, from its token; absent in open development mode. */
export interface Identity {
  subject: string;
  name?: string;
  maxViewers?: number;
}

/** A member's client id and the node whose socket serves it. */
export interface Seat {
  readonly id: string;
  readonly node: string;
}

/** A waiting viewer as a new broadcaster hears of it. */
export interface ViewerSeat extends Seat {
  /** Its `join-stream.session`: the peer connection it says it holds. */
  readonly session?: string;
  /** Its `join-stream.e2ee`: it decrypts an end-to-end encrypted stream. */
  readonly e2ee?: true;
}

/** A member's place: its stream, role and node. */
export interface Place {
  readonly streamId: string;
  readonly role: Role;
  readonly node: string;
  readonly identity?: Identity;
  readonly session?: string;
}

/** What one member's leaving changed, so the router can tell the others. */
export interface Departure {
  readonly clientId: string;
  readonly place: Place;
  /** A viewer left: its stream's broadcaster, if there is one. */
  readonly broadcaster?: Seat;
  /** A broadcaster left: the viewers waiting in its stream. */
  readonly viewers: readonly Seat[];
  /** Viewers left in the stream. */
  readonly viewerCount: number;
}

/** Who is entering, from which node, with what token. */
export interface Entrant {
  readonly clientId: string;
  readonly node: string;
  readonly identity?: Identity;
}

export type Announced =
  | {
    ok: true;
    /** The same client announced this stream before: nobody new to tell. */
    again: boolean;
    /** The same token subject's older session, taken over. */
    replaced?: Departure;
    /** The place this client held elsewhere, left for this one. */
    switched?: Departure;
    /** Every viewer waiting in the stream. */
    viewers: readonly ViewerSeat[];
    /**
     * The stream's broadcaster record said `e2ee` before this step: with
     * `again`, whether this same broadcaster's earlier announce encrypted.
     */
    e2eeBefore: boolean;
  }
  | { ok: false; reason: "taken" };

export type Joined =
  | {
    ok: true;
    again: boolean;
    switched?: Departure;
    broadcaster?: Seat;
    viewerCount: number;
    /** The store sent the broadcaster its `viewer-joined` (another node's). */
    told: boolean;
    /**
     * The stream's broadcaster encrypts end to end (`broadcaster-ready.e2ee`).
     * A viewer that did not say `e2ee` is then not paired with it: the store
     * sent no `viewer-joined` for it (`told` is false).
     */
    e2ee: boolean;
  }
  | { ok: false; reason: "full"; cap: number };

/** Where a member's offer, answer or candidate goes. */
export type Route =
  /** The sender is not (or no longer) in that stream, in that role, on this node. */
  | { found: "no-sender" }
  /** The viewer it named is not in the stream, or the stream has no broadcaster. */
  | { found: "no-target" }
  /**
   * `to`: the viewer it named, or the stream's broadcaster. `sent`: the
   * store delivered the frame itself (the target is on another node).
   */
  | { found: "target"; to: Seat; sent: boolean };

/** A result now (in memory) or later (a store round trip). */
export type Eventually<T> = T | Promise<T>;

export interface Directory {
  /**
   * Makes the entrant the stream's broadcaster unless another subject holds
   * it; its record keeps `e2ee` (whether it encrypts end to end).
   */
  announce(
    streamId: string,
    entrant: Entrant & { e2ee?: true },
  ): Eventually<Announced>;
  /**
   * Seats the entrant as a viewer unless the stream is at `cap` viewers. A
   * store shared by nodes also sends the broadcaster, when it is on another
   * node, `tell` + the viewer count + `}` (its `viewer-joined`) in the same
   * step, unless that broadcaster encrypts and the entrant has no `e2ee`.
   */
  join(
    streamId: string,
    entrant: Entrant & { session?: string; e2ee?: true },
    cap: number,
    tell: string,
  ): Eventually<Joined>;
  /** Frees the client's place, if `node` holds it. */
  leave(clientId: string, node: string): Eventually<Departure | undefined>;
  /**
   * Where a frame from the client, as `role`, goes: to `viewerId` (from the
   * broadcaster) or to the stream's broadcaster (from a viewer). A store
   * shared by nodes also sends `text` on when the target is on another node,
   * in the same step: one round trip per routed frame.
   */
  route(
    from: { clientId: string; node: string; role: Role },
    streamId: string,
    viewerId: string | undefined,
    text: string,
  ): Eventually<Route>;
  /**
   * Moves the client's place to `node` if it is the claimed one; returns the
   * node that held it, or undefined when there is no such place.
   */
  resume(
    clientId: string,
    claimed: { streamId: string; role: Role },
    node: string,
  ): Eventually<string | undefined>;
}

/** Runs `next` on a value now or once it arrives, staying synchronous if it can. */
export function then<T, R>(
  value: Eventually<T>,
  next: (value: T) => Eventually<R>,
): Eventually<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}

/**
 * The shared store could not be reached (a cluster node without Redis): the
 * step did not happen, and the client is told `cluster-unavailable`.
 */
export class StoreUnavailable extends Error {
  constructor(cause: unknown) {
    super(`Shared store unavailable: ${String(cause)}`, { cause });
    this.name = "StoreUnavailable";
  }
}
