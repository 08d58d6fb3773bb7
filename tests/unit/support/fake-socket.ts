/**
 * A WebSocket stand-in installed as `globalThis.WebSocket`: the test plays
 * the server (`welcome`, `receive`, `drop`) and reads what the client sent.
 */
import type {
  ClientMessage,
  ServerMessage,
} from "../../../protocol/messages.ts";

type Sent<T extends ClientMessage["type"]> = Extract<
  ClientMessage,
  { type: T }
>;

export class FakeSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  /** Every socket opened since {@link installFakeSocket}. */
  static created: FakeSocket[] = [];

  readonly url: string;
  readyState = FakeSocket.CONNECTING;
  readonly sent: ClientMessage[] = [];
  /** The code the client closed with, if it did. */
  closedWith: number | undefined;

  constructor(url: string) {
    super();
    this.url = url;
    FakeSocket.created.push(this);
  }

  send(data: string): void {
    if (this.readyState !== FakeSocket.OPEN) {
      throw new Error("send on a socket that is not open");
    }
    this.sent.push(JSON.parse(data));
    this.dispatchEvent(new Event("sent"));
  }

  close(code = 1005): void {
    if (this.readyState === FakeSocket.CLOSED) return;
    this.closedWith = code;
    this.readyState = FakeSocket.CLOSED;
  }

  /** The server's side: the socket opens and `welcome` arrives. */
  welcome(clientId: string): void {
    this.readyState = FakeSocket.OPEN;
    this.receive({ type: "welcome", clientId, protocolVersion: 1 });
  }

  receive(message: ServerMessage | Record<string, unknown>): void {
    this.dispatchEvent(
      new MessageEvent("message", { data: JSON.stringify(message) }),
    );
  }

  /** The connection is lost (the server went away). */
  drop(): void {
    this.readyState = FakeSocket.CLOSED;
    this.dispatchEvent(new CloseEvent("close", { code: 1006 }));
  }

  /** Sent messages of `type`, in order. */
  sentOf<T extends ClientMessage["type"]>(type: T): Sent<T>[] {
    return this.sent.filter((m): m is Sent<T> => m.type === type);
  }

  /** Resolves with the next message of `type` sent from now (or already sent past `after`). */
  nextSent<T extends ClientMessage["type"]>(
    type: T,
    after = this.sentOf(type).length,
  ): Promise<Sent<T>> {
    return new Promise((resolve) => {
      const check = () => {
        const found = this.sentOf(type)[after];
        if (!found) return;
        this.removeEventListener("sent", check);
        resolve(found);
      };
      this.addEventListener("sent", check);
      check();
    });
  }
}

/** Installs the fake as `globalThis.WebSocket` until disposed. */
export function installFakeSocket(): Disposable {
  const original = globalThis.WebSocket;
  FakeSocket.created = [];
  globalThis.WebSocket = FakeSocket as unknown as typeof WebSocket;
  return { [Symbol.dispose]: () => (globalThis.WebSocket = original) };
}

/** The most recently opened socket. */
export function lastSocket(): FakeSocket {
  const socket = FakeSocket.created.at(-1);
  if (!socket) throw new Error("no socket was opened");
  return socket;
}
