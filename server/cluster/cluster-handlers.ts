/**
 * What a node's cluster calls back into its router with: its own file, so
 * the cluster and its links both name it without importing each other.
 */
import type { Departure, Role } from "../signaling/directory.ts";
import type { Envelope } from "../signaling/delivery.ts";
import type { LocalPlace } from "../signaling/local-clients.ts";

export interface ClusterHandlers {
  /** An envelope from another node for one of this node's clients. */
  envelope(envelope: Envelope): void;
  /** Members of dead nodes this node reaped: their peers are to be told. */
  reaped(departures: Departure[], deadNodes: string[]): void;
  /**
   * This node's members are no longer in the store (reaped, or Redis lost
   * them, or unreachable for longer than the TTL): close their sockets.
   */
  lost(why: "forgotten" | "outage"): void;
  /** Redis is back with this node's registration intact. */
  back(): void;
  /** The resume key the cluster shares (only with a proposed one). */
  resumeKey(hexKey: string): void;
  /** The place a local client holds (a frame routed here is checked). */
  placeOf(clientId: string): LocalPlace | undefined;
  /** Sends a server message's frame to a local client. */
  sendLocal(clientId: string, text: string): void;
  /**
   * A frame of a local client's, sent along a cached route that missed,
   * has no target after all: tell the client as a lookup would have.
   */
  unroutable(
    from: { clientId: string; role: Role },
    streamId: string,
    viewerId: string | undefined,
    text: string,
  ): void;
}
