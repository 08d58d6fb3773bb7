/**
 * Members leaving: the directory frees their place, and their peers and the
 * audit trail hear of it. A leave the store cannot take (Redis away) is kept
 * and tried again once it is back, so nobody stays listed for good, unless
 * the client was placed anew since (see {@link Departures.placing}).
 */
import { encodeServerMessage } from "../../protocol/encode-server-message.ts";
import type { ServerMessage } from "../../protocol/messages.ts";
import type { AuditTrail } from "../observe/audit.ts";
import type { Logger } from "../observe/logger.ts";
import type { Departure, Directory } from "./directory.ts";
import type { Postman } from "./postman.ts";
import { storeStep } from "./store-step.ts";

export interface DeparturesOptions {
  directory: Directory;
  audit: AuditTrail;
  logger: Logger;
  postman: Postman;
  /** The SFU's side hears of every departure first (its subscriptions go). */
  departed?: (departure: Departure) => void;
}

/** A leave of one client: through which node, and why. */
interface Leave {
  readonly node: string;
  readonly reason: string;
}

export class Departures {
  #options: DeparturesOptions;
  /** Leaves the store could not take, by client id, retried by {@link retry}. */
  #unsettled = new Map<string, Leave>();
  /** Leaves sent and not answered yet: one that fails is kept, if still here. */
  #underWay = new Map<string, Leave>();

  constructor(options: DeparturesOptions) {
    this.#options = options;
  }

  /**
   * Frees `clientId`'s place (held through `node`) and tells its peers.
   * Settles (never rejects) once the store has taken the leave or refused it.
   */
  vacate(
    clientId: string,
    node: string,
    reason: string,
  ): Promise<void> | undefined {
    const { directory, logger } = this.#options;
    const settled = storeStep(
      logger,
      () => directory.leave(clientId, node),
      (departure) => {
        if (departure) this.tell(departure, reason);
      },
    );
    // In memory it is done already, and nothing can fail.
    if (!settled) return;
    const leave = { node, reason };
    this.#underWay.set(clientId, leave);
    return settled.then(
      () => void this.#answered(clientId, leave),
      () => {
        if (this.#answered(clientId, leave)) {
          this.#unsettled.set(clientId, leave);
        }
      },
    );
  }

  /**
   * A step that may place `clientId` anew (a join, an announce, a resume)
   * goes to the store now. The store takes this node's steps in order, so
   * that step decides where the client is: a leave of it still to be tried
   * again (or whose failure is still to come) must not follow and undo it.
   * Returns what to call if the step placed nothing after all (refused, or
   * failed): that leave is made again, unless a newer one is under way.
   */
  placing(clientId: string): (() => void) | undefined {
    const superseded = this.#unsettled.get(clientId) ??
      this.#underWay.get(clientId);
    if (!superseded) return;
    this.#unsettled.delete(clientId);
    this.#underWay.delete(clientId);
    return () => {
      if (this.#unsettled.has(clientId) || this.#underWay.has(clientId)) return;
      this.vacate(clientId, superseded.node, superseded.reason);
    };
  }

  /** Leaves the store refused during an outage, tried again now it is back. */
  retry(): void {
    for (const [id, { node, reason }] of [...this.#unsettled]) {
      this.#unsettled.delete(id);
      this.vacate(id, node, reason);
    }
  }

  /** This node left the cluster: its pending leaves are the store's affair now. */
  clear(): void {
    this.#unsettled.clear();
    this.#underWay.clear();
  }

  /** Forgets `leave` as under way; whether it was (not superseded). */
  #answered(clientId: string, leave: Leave): boolean {
    if (this.#underWay.get(clientId) !== leave) return false;
    this.#underWay.delete(clientId);
    return true;
  }

  /** The audit line and the messages for one member's departure. */
  tell(departure: Departure, reason: string): void {
    const { clientId, place } = departure;
    const { audit, postman } = this.#options;
    this.#options.departed?.(departure);
    audit.record({
      kind: "left",
      clientId,
      streamId: place.streamId,
      role: place.role,
      subject: place.identity?.subject,
      name: place.identity?.name,
      reason,
    });
    if (place.role === "broadcaster") {
      const left: ServerMessage = {
        type: "broadcaster-left",
        streamId: place.streamId,
      };
      // Encoded once for every viewer.
      const text = encodeServerMessage(left);
      for (const viewer of departure.viewers) {
        postman.sendTo(viewer, left, text);
      }
    } else if (departure.broadcaster) {
      postman.sendTo(departure.broadcaster, {
        type: "viewer-left",
        streamId: place.streamId,
        viewerId: clientId,
        viewerCount: departure.viewerCount,
      });
    }
  }
}
