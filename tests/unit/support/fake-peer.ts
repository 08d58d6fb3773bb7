/**
 * A connection as the router sees it (server/signaling/peer.ts), without a
 * socket: it keeps what it is sent, and a test awaits messages by type.
 */
import type { ServerMessage } from "../../../protocol/messages.ts";
import type { Peer } from "../../../server/signaling/peer.ts";
import type { ResumeClaims } from "../../../server/security/resume-token.ts";

type Of<T extends ServerMessage["type"]> = Extract<ServerMessage, { type: T }>;

export class FakePeer implements Peer {
  readonly id: string;
  readonly remoteAddress = "127.0.0.1";
  isOpen = true;
  resumed: ResumeClaims | undefined;
  /** Everything it was sent while open, in order. */
  readonly received: ServerMessage[] = [];
  #arrived = new EventTarget();

  constructor(id: string) {
    this.id = id;
  }

  send(message: ServerMessage): void {
    if (!this.isOpen) return;
    this.received.push(message);
    this.#arrived.dispatchEvent(new Event("message"));
  }

  sendRaw(text: string, message?: ServerMessage): void {
    this.send(message ?? JSON.parse(text) as ServerMessage);
  }

  close(): void {
    this.isOpen = false;
  }

  /** The messages of `type` it was sent. */
  of<T extends ServerMessage["type"]>(type: T): Of<T>[] {
    return this.received.filter((m): m is Of<T> => m.type === type);
  }

  /** Resolves with its first message of `type`, sent already or to come. */
  first<T extends ServerMessage["type"]>(type: T): Promise<Of<T>> {
    return new Promise((resolve) => {
      const check = () => {
        const found = this.of(type)[0];
        if (!found) return;
        this.#arrived.removeEventListener("message", check);
        resolve(found);
      };
      this.#arrived.addEventListener("message", check);
      check();
    });
  }
}
