/**
 * A real WebSocket client that queues what the server sends, so tests await
 * messages in order instead of sleeping. Every wait has a deadline so a
 * missing message fails the test instead of hanging it.
 */
import type { ServerMessage } from "../../../protocol/messages.ts";

const DEADLINE_MS = 5_000;

type Waiter = {
  resolve(message: ServerMessage): void;
  reject(error: Error): void;
};

let nonceCounter = 0;

export class TestClient {
  readonly socket: WebSocket;
  /** Server-assigned id from `welcome`. */
  id = "";
  /** The `welcome` itself, once connected. */
  welcome: Extract<ServerMessage, { type: "welcome" }> | undefined;
  /** Resolves with the close event, whoever closed. */
  readonly closed: Promise<CloseEvent>;
  #queue: ServerMessage[] = [];
  #waiters: Waiter[] = [];

  private constructor(socket: WebSocket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => {
      socket.addEventListener("close", (event) => {
        for (const waiter of this.#waiters.splice(0)) {
          waiter.reject(
            new Error(`Socket closed (${event.code}) while waiting`),
          );
        }
        resolve(event);
      });
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data as string) as ServerMessage;
      const waiter = this.#waiters.shift();
      if (waiter) waiter.resolve(message);
      else this.#queue.push(message);
    });
  }

  /** Opens a socket and waits for the server's `welcome`. */
  static async connect(url: string): Promise<TestClient> {
    const client = await TestClient.open(url);
    const welcome = await client.next("welcome");
    client.id = welcome.clientId;
    client.welcome = welcome;
    return client;
  }

  /** Opens a socket without waiting for anything but `open`. */
  static open(url: string): Promise<TestClient> {
    const socket = new WebSocket(url);
    const client = new TestClient(socket);
    return new Promise((resolve, reject) => {
      socket.addEventListener("open", () => resolve(client), { once: true });
      socket.addEventListener(
        "error",
        // What the server says of itself, since the refusal's status does
        // not reach a WebSocket (e.g. a cluster node without its Redis).
        () =>
          health(url).then((said) =>
            reject(new Error(`Could not connect to ${url} (${said})`))
          ),
        { once: true },
      );
    });
  }

  send(message: unknown): void {
    this.socket.send(
      typeof message === "string" ? message : JSON.stringify(message),
    );
  }

  /** The next message; with `type`, asserts it is of that type. */
  async next<T extends ServerMessage["type"]>(
    type?: T,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    const message = await this.#take();
    if (type !== undefined && message.type !== type) {
      throw new Error(
        `Expected ${type}, got ${JSON.stringify(message)} on ${this.id}`,
      );
    }
    return message as Extract<ServerMessage, { type: T }>;
  }

  /**
   * Round-trips a ping and returns every message that arrived before the
   * pong: the server handles a socket's frames in order, so afterwards
   * everything sent earlier has been processed.
   */
  async sync(): Promise<ServerMessage[]> {
    const nonce = `sync-${++nonceCounter}`;
    this.send({ type: "ping", nonce });
    const before: ServerMessage[] = [];
    for (;;) {
      const message = await this.#take();
      if (message.type === "pong" && message.nonce === nonce) return before;
      before.push(message);
    }
  }

  /** Asserts nothing is pending: the next message is our own pong. */
  async expectQuiet(): Promise<void> {
    const pending = await this.sync();
    if (pending.length > 0) {
      throw new Error(
        `Expected no messages on ${this.id}, got ${JSON.stringify(pending)}`,
      );
    }
  }

  /** Messages received and not yet taken (also after the socket closed). */
  unread(): ServerMessage[] {
    return this.#queue.splice(0);
  }

  async close(): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.close();
    await this.closed;
  }

  #take(): Promise<ServerMessage> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error(`Socket of ${this.id} is not open`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`No message within ${DEADLINE_MS} ms on ${this.id}`));
      }, DEADLINE_MS);
      const waiter: Waiter = {
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.#waiters.push(waiter);
    });
  }
}

/** The server's /healthz as text, or why it could not be read. */
async function health(url: string): Promise<string> {
  const at = new URL("/healthz", url.replace(/^ws/, "http"));
  try {
    // Bounded: a server that hangs must not hang the failure too.
    const response = await fetch(at, { signal: AbortSignal.timeout(2_000) });
    return `${at.pathname} ${response.status}: ${await response.text()}`;
  } catch (error) {
    return `${at.pathname} unread: ${error}`;
  }
}
