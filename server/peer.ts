import type { ServerMessage } from "../protocol/messages.ts";

/** A connected client as the routing logic sees it: an id and a way to reach it. */
export interface Peer {
  readonly id: string;
  send(message: ServerMessage): void;
}
