/**
 * What this node knows of each of its own clients, as one state per client
 * with one transition point: its current connection, the place it holds
 * (mirrored from the directory, for resume claims, role checks and gauges),
 * and the grace it is in after a drop. Room state lives in the directory;
 * this is only about local sockets.
 *
 *   (none) --connect--> connected --hold--> placed --drop--> in-grace
 *   in-grace --connect (its resumed connection)--> in-grace, new peer
 *   in-grace --end-grace--> placed      placed --release--> connected
 *   any --leave (its current connection) / forget--> (none)
 */
import type { Role } from "./directory.ts";
import type { Peer } from "./peer.ts";

/** A place a local client holds, mirrored from the directory. */
export interface LocalPlace {
  readonly streamId: string;
  readonly role: Role;
}

export type ClientState =
  /** An open connection that holds no place yet. */
  | { readonly kind: "connected"; readonly peer: Peer }
  | {
    readonly kind: "placed";
    readonly peer: Peer;
    readonly place: LocalPlace;
  }
  /**
   * Its socket dropped: it keeps its place for RECONNECT_GRACE_MS. `peer`
   * is its current connection: the dropped one, or the one it came back
   * on and has not yet resumed with.
   */
  | {
    readonly kind: "in-grace";
    readonly peer: Peer;
    readonly place: LocalPlace;
    readonly dropped: Peer;
    readonly timer: ReturnType<typeof setTimeout>;
  };

export type ClientEvent =
  /** A connection for this client: its current one now. */
  | { kind: "connect"; peer: Peer }
  /** The directory gave `peer` a place (kept only if `peer` is current). */
  | { kind: "hold"; peer: Peer; place: LocalPlace }
  /** `peer` dropped while holding a place; `timer` ends its grace. */
  | { kind: "drop"; peer: Peer; timer: ReturnType<typeof setTimeout> }
  /** It resumed, its grace timed out, or the server drains. */
  | { kind: "end-grace" }
  /** It left its stream and stays connected. */
  | { kind: "release" }
  /** `peer` is gone for good (only if it is the current connection). */
  | { kind: "leave"; peer: Peer }
  /** Forgotten without a departure (evicted, or the node left the cluster). */
  | { kind: "forget" };

/**
 * The one place a client's local state changes (`undefined`: this node has
 * none). Events that do not apply leave the state as it is: a stale
 * connection's late events must not touch its successor's.
 */
export function clientTransition(
  state: ClientState | undefined,
  event: ClientEvent,
): ClientState | undefined {
  switch (event.kind) {
    case "connect":
      return state && state.kind !== "connected"
        ? { ...state, peer: event.peer }
        : { kind: "connected", peer: event.peer };
    case "hold":
      if (state?.peer !== event.peer) return state;
      return state.kind === "in-grace"
        ? { ...state, place: event.place }
        : { kind: "placed", peer: event.peer, place: event.place };
    case "drop":
      // The connection it came back on may drop too: a new grace.
      if (state?.peer !== event.peer || state.kind === "connected") {
        return state;
      }
      return {
        kind: "in-grace",
        peer: event.peer,
        place: state.place,
        dropped: event.peer,
        timer: event.timer,
      };
    case "end-grace":
      if (state?.kind !== "in-grace") return state;
      return { kind: "placed", peer: state.peer, place: state.place };
    case "release":
      if (!state || state.kind === "connected") return state;
      return { kind: "connected", peer: state.peer };
    case "leave":
      if (state?.peer === event.peer) return undefined;
      // The dropped connection is gone; the one it came back on stays.
      if (state?.kind === "in-grace" && state.dropped === event.peer) {
        return { kind: "placed", peer: state.peer, place: state.place };
      }
      return state;
    case "forget":
      return undefined;
  }
}

/** Every local client's state, changed only through {@link clientTransition}. */
export class LocalClients {
  #clients = new Map<string, ClientState>();

  /** Applies `event` to `clientId`; returns the state it was in. */
  apply(clientId: string, event: ClientEvent): ClientState | undefined {
    const before = this.#clients.get(clientId);
    const after = clientTransition(before, event);
    // Grace ends with its timer, however it ends (or a new grace replaces it).
    if (
      before?.kind === "in-grace" &&
      (after?.kind !== "in-grace" || after.timer !== before.timer)
    ) clearTimeout(before.timer);
    if (after) this.#clients.set(clientId, after);
    else this.#clients.delete(clientId);
    return before;
  }

  get(clientId: string): ClientState | undefined {
    return this.#clients.get(clientId);
  }

  /** Its current connection. */
  peer(clientId: string): Peer | undefined {
    return this.#clients.get(clientId)?.peer;
  }

  /** Whether `peer` is its client's current connection. */
  isCurrent(peer: Peer): boolean {
    return this.#clients.get(peer.id)?.peer === peer;
  }

  /** The place `clientId` holds, if any. */
  place(clientId: string): LocalPlace | undefined {
    const state = this.#clients.get(clientId);
    return state?.kind === "connected" ? undefined : state?.place;
  }

  /** The place `peer` holds while it is its client's current connection. */
  placeOf(peer: Peer): LocalPlace | undefined {
    return this.isCurrent(peer) ? this.place(peer.id) : undefined;
  }

  /** Clients in grace now (a drain ends every grace). */
  inGrace(): string[] {
    return [...this.#clients].filter(([, state]) => state.kind === "in-grace")
      .map(([id]) => id);
  }

  ids(): string[] {
    return [...this.#clients.keys()];
  }

  places(): Iterable<LocalPlace> {
    return [...this.#clients.values()].flatMap((state) =>
      state.kind === "connected" ? [] : [state.place]
    );
  }
}
