/**
 * Members leaving: the directory frees their place, and their peers and the
 * audit trail hear of it. A leave the store cannot take (Redis away) is kept
 * and tried again once it is back, so nobody stays listed for good.
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

export class Departures {
  #options: DeparturesOptions;
  /** Leaves the store could not take, by client id, retried by {@link retry}. */
  #unsettled = new Map<string, { node: string; reason: string }>();

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
    return settled?.catch(() => {
      this.#unsettled.set(clientId, { node, reason });
    });
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
