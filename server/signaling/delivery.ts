/**
 * How the router reaches a member whose socket is on another node. Within a
 * node the router hands frames to its own connections; across nodes they go
 * as envelopes through the cluster (Redis pub/sub), at most once and in the
 * order one node sent them.
 */
import type { DropReason } from "../observe/metrics.ts";

export type Envelope =
  /** A server message's exact JSON for client `to`. */
  | { kind: "text"; to: string; text: string }
  /**
   * Client `to`'s place is gone or moved (taken over, resumed elsewhere):
   * send `text` if given, then close its socket with `code`, and forget it
   * without announcing a departure (the directory has already recorded it).
   */
  | {
    kind: "evict";
    to: string;
    code: number;
    reason: string;
    why: DropReason;
    text?: string;
  };

export interface Delivery {
  /** This node's id: seats with it are local sockets. */
  readonly node: string;
  /**
   * Whether other nodes share the directory: then this node's view of its
   * own members may lag the store's, and every leave asks the store.
   */
  readonly clustered: boolean;
  /** Sends `envelope` to `node`; dropped if that node is gone. */
  toNode(node: string, envelope: Envelope): void;
}

/** One process: every seat is local, nothing travels. */
export const LOCAL_DELIVERY: Delivery = {
  node: "local",
  clustered: false,
  toNode(node) {
    throw new Error(`No node ${node} without a cluster`);
  },
};
