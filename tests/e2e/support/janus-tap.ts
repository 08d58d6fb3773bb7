/**
 * A WebSocket between the server and a real Janus that can hold the
 * server's requests: from the first one a test names, every request waits
 * (in order) until the test releases them. Janus's replies and events pass
 * at once. For a race with Janus at a known point (the server waits on its
 * answer) without a sleep.
 */
type JanusRequest = Record<string, unknown>;

export class JanusTap implements AsyncDisposable {
  #target: string;
  #server: Deno.HttpServer<Deno.NetAddr>;
  #sockets = new Set<WebSocket>();
  #match: ((request: JanusRequest) => boolean) | undefined;
  #matched: (() => void) | undefined;
  /** While holding: the requests that wait, in order. */
  #held: { send(): void; transaction: unknown }[] | undefined;
  /** Janus's answer (not its ack) to a transaction, awaited by `release`. */
  #answered = new Map<unknown, () => void>();

  private constructor(target: string) {
    this.#target = target;
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) => this.#connect(request),
    );
  }

  /** A tap in front of Janus at `target` (its WebSocket API). */
  static start(target: string): JanusTap {
    return new JanusTap(target);
  }

  /** Where the server links to (its JANUS_URL). */
  get url(): string {
    return `ws://127.0.0.1:${this.#server.addr.port}/`;
  }

  /**
   * Holds the first request `match` takes and every one after it; resolves
   * once that request has come (and is held).
   */
  holdFrom(match: (request: JanusRequest) => boolean): Promise<void> {
    const matched = Promise.withResolvers<void>();
    this.#match = match;
    this.#matched = matched.resolve;
    return matched.promise;
  }

  /**
   * Sends the request that began the hold and, once Janus answered it, the
   * rest in order (Janus's answer to the first comes before it sees them);
   * holds nothing more.
   */
  async release(): Promise<void> {
    const [first, ...rest] = this.#held ?? [];
    this.#held = undefined;
    this.#match = undefined;
    if (!first) return;
    const answered = Promise.withResolvers<void>();
    this.#answered.set(first.transaction, answered.resolve);
    first.send();
    await answered.promise;
    for (const { send } of rest) send();
  }

  #connect(request: Request): Response {
    const { socket, response } = Deno.upgradeWebSocket(request, {
      protocol: "janus-protocol",
    });
    const janus = new WebSocket(this.#target, "janus-protocol");
    this.#sockets.add(socket).add(janus);
    // What the server sends before Janus's side is open waits for it.
    const opened = new Promise<void>((resolve) =>
      janus.addEventListener("open", () => resolve(), { once: true })
    );
    socket.addEventListener("message", (event) => {
      const text = event.data as string;
      const request = JSON.parse(text);
      const send = () => void opened.then(() => janus.send(text));
      if (!this.#held && this.#match?.(request)) {
        this.#held = [];
        this.#matched?.();
      }
      if (this.#held) {
        this.#held.push({ send, transaction: request.transaction });
      } else send();
    });
    janus.addEventListener("message", (event) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(event.data);
      const { janus: verb, transaction } = JSON.parse(event.data as string);
      if (verb === "ack") return;
      this.#answered.get(transaction)?.();
      this.#answered.delete(transaction);
    });
    for (const [one, other] of [[socket, janus], [janus, socket]]) {
      one.addEventListener("close", () => other.close());
      one.addEventListener("error", () => {});
    }
    return response;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const { send } of this.#held ?? []) send();
    this.#held = undefined;
    for (const socket of this.#sockets) socket.close();
    await this.#server.shutdown();
  }
}
