/**
 * A TCP proxy on loopback in front of one port, whose connections a test
 * can cut (both sides closed at once, as a network failure would), while
 * new connections still go through.
 */
export class TcpProxy implements AsyncDisposable {
  #listener: Deno.TcpListener;
  #target: number;
  #pairs = new Set<[Deno.TcpConn, Deno.TcpConn]>();
  #accepting: Promise<void>;
  #connected = Promise.withResolvers<void>();

  private constructor(target: number) {
    this.#target = target;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  /** A proxy to 127.0.0.1:`target` (which may start listening later). */
  static start(target: number): Promise<TcpProxy> {
    return Promise.resolve(new TcpProxy(target));
  }

  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** Resolves at the next connection made through it. */
  nextConnection(): Promise<void> {
    return this.#connected.promise;
  }

  /** Closes every connection through it; returns how many there were. */
  cut(): number {
    const count = this.#pairs.size;
    for (const pair of this.#pairs) close(pair);
    this.#pairs.clear();
    return count;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    this.cut();
    await this.#accepting.catch(() => {});
  }

  async #accept(): Promise<void> {
    for await (const inbound of this.#listener) {
      Deno.connect({ hostname: "127.0.0.1", port: this.#target }).then(
        (outbound) => {
          const pair: [Deno.TcpConn, Deno.TcpConn] = [inbound, outbound];
          this.#pairs.add(pair);
          this.#connected.resolve();
          this.#connected = Promise.withResolvers<void>();
          const done = () => {
            this.#pairs.delete(pair);
            close(pair);
          };
          inbound.readable.pipeTo(outbound.writable).catch(() => {}).finally(
            done,
          );
          outbound.readable.pipeTo(inbound.writable).catch(() => {}).finally(
            done,
          );
        },
        () => inbound.close(),
      );
    }
  }
}

function close(pair: [Deno.TcpConn, Deno.TcpConn]): void {
  for (const conn of pair) {
    try {
      conn.close();
    } catch {
      // Closed already (a pipe closes its ends when done).
    }
  }
}
