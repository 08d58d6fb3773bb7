/**
 * A client written only from ../shared/design/seed-architecture.md: it knows
 * the six seed messages and nothing of our additions, which it ignores the
 * way a `switch` on `type` without a matching case would.
 */
type SeedMessage = Record<string, unknown> & { type: string };

const SEED_TYPES = new Set([
  "viewer-joined",
  "webrtc-offer",
  "webrtc-answer",
  "webrtc-ice-candidate",
]);

export class SeedClient {
  #socket: WebSocket;
  #inbox: SeedMessage[] = [];
  #wake: (() => void) | undefined;
  readonly ignored: string[] = [];

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data) as SeedMessage;
      if (!SEED_TYPES.has(message.type)) {
        this.ignored.push(message.type);
        return;
      }
      this.#inbox.push(message);
      this.#wake?.();
    };
  }

  static connect(url: string): Promise<SeedClient> {
    const socket = new WebSocket(url);
    return new Promise((resolve, reject) => {
      socket.onopen = () => resolve(new SeedClient(socket));
      socket.onerror = () => reject(new Error("connect failed"));
    });
  }

  send(message: SeedMessage): void {
    this.#socket.send(JSON.stringify(message));
  }

  /** The next seed message, with a deadline so a lost one fails the test. */
  async receive(): Promise<SeedMessage> {
    const deadline = Date.now() + 5_000;
    while (this.#inbox.length === 0) {
      if (Date.now() > deadline) throw new Error("No seed message arrived");
      const arrived = new Promise<void>((resolve) => (this.#wake = resolve));
      const timer = setTimeout(() => this.#wake?.(), 5_000);
      await arrived;
      clearTimeout(timer);
    }
    return this.#inbox.shift()!;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#socket.onclose = () => resolve();
      this.#socket.close();
    });
  }
}
