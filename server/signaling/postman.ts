/**
 * Sends server messages to seats: a local client's current connection, or
 * its node through the delivery. The router, the departures and the SFU
 * relay's later steps all send this way.
 */
import { encodeServerMessage } from "../../protocol/encode-server-message.ts";
import type { ServerMessage } from "../../protocol/messages.ts";
import type { Delivery } from "./delivery.ts";
import type { Seat } from "./directory.ts";
import type { LocalClients } from "./local-clients.ts";

/** A message to send, and to whom. */
export interface Outbound {
  readonly to: Seat;
  readonly message: ServerMessage;
}

export class Postman {
  #clients: LocalClients;
  #delivery: Delivery;

  constructor(clients: LocalClients, delivery: Delivery) {
    this.#clients = clients;
    this.#delivery = delivery;
  }

  /** `text` is the message's frame when already encoded. */
  sendTo(
    seat: Seat,
    message: ServerMessage,
    text = encodeServerMessage(message),
  ): void {
    if (seat.node === this.#delivery.node) {
      this.#clients.peer(seat.id)?.sendRaw(text, message);
    } else {
      this.#delivery.toNode(seat.node, { kind: "text", to: seat.id, text });
    }
  }

  /** Sends each, in order. */
  post(out: readonly Outbound[]): void {
    for (const { to, message } of out) this.sendTo(to, message);
  }
}
