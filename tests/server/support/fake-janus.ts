/**
 * Just enough of Janus's WebSocket API (`janus-protocol`) for a server to
 * link to it: sessions, handles and keepalives are answered; every plugin
 * request is recorded and answered with empty data. For server tests that
 * need "the SFU is up" and must show Janus was never asked for anything
 * (the real one: tests/e2e).
 */
export class FakeJanus implements AsyncDisposable {
  /** The plugin requests' bodies (`janus: "message"`), in order. */
  readonly messages: Record<string, unknown>[] = [];
  /** Every request's `janus` verb, in order. */
  readonly requests: string[] = [];
  /** When it returns a promise for a request, the answer waits for it. */
  hold?: (request: Record<string, unknown>) => Promise<void> | undefined;
  #server: Deno.HttpServer<Deno.NetAddr>;
  #sockets = new Set<WebSocket>();
  #next = 1;

  private constructor() {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) => {
        const { socket, response } = Deno.upgradeWebSocket(request, {
          protocol: "janus-protocol",
        });
        this.#sockets.add(socket);
        socket.addEventListener("close", () => this.#sockets.delete(socket));
        socket.addEventListener(
          "message",
          (event) => this.#answer(socket, JSON.parse(event.data as string)),
        );
        return response;
      },
    );
  }

  static start(): FakeJanus {
    return new FakeJanus();
  }

  get url(): string {
    return `ws://127.0.0.1:${this.#server.addr.port}/`;
  }

  async #answer(
    socket: WebSocket,
    request: Record<string, unknown>,
  ): Promise<void> {
    const { transaction } = request;
    this.requests.push(String(request.janus));
    await this.hold?.(request);
    if (socket.readyState !== WebSocket.OPEN) return;
    const reply = (body: Record<string, unknown>) =>
      socket.send(JSON.stringify({ transaction, ...body }));
    switch (request.janus) {
      case "create":
      case "attach":
        return reply({ janus: "success", data: { id: this.#next++ } });
      case "keepalive":
      case "trickle":
        return reply({ janus: "ack" });
      case "message":
        this.messages.push(request.body as Record<string, unknown>);
        return reply({
          janus: "success",
          plugindata: { plugin: "janus.plugin.videoroom", data: {} },
        });
      default:
        return reply({ janus: "success" });
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const socket of this.#sockets) socket.close();
    await this.#server.shutdown();
  }
}
