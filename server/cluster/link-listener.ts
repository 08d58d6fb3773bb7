/**
 * Where other nodes' links arrive (NODE_LINK_HOST and NODE_LINK_PORT): each
 * connection is challenged, must prove it knows the cluster key and name
 * this node's current id, gets this node's proof back, and then its frames
 * are handed on in the order they came. Answers (misses, probes) go back on
 * the same connection.
 */
import type { Logger } from "../observe/logger.ts";
import {
  fields,
  FrameReader,
  LinkProtocolError,
  proof,
  randomHex,
  sameProof,
  writeAll,
} from "./link-wire.ts";
import {
  frame,
  FrameSink,
  type LinkLimits,
  readFrame,
  within,
} from "./node-link.ts";

export interface ListenerOptions {
  hostname: string;
  /** 0: any free port. */
  port: number;
  /** This node's current id: a link for another id is refused. */
  self(): string;
  /** The cluster key; none yet (not registered): links are refused. */
  key(): CryptoKey | undefined;
  limits: LinkLimits;
  logger: Logger;
  /** A frame from node `from`; `reply` answers it on the same connection. */
  frame(from: string, text: string, reply: (text: string) => boolean): void;
  /** A connection authenticated (for the metrics). */
  accepted(from: string): void;
}

export class LinkListener {
  #listener: Deno.TcpListener;
  #options: ListenerOptions;
  #conns = new Set<Deno.TcpConn>();
  #closed = false;

  constructor(options: ListenerOptions) {
    this.#options = options;
    this.#listener = Deno.listen({
      hostname: options.hostname,
      port: options.port,
    });
    this.#accept().catch(() => {});
  }

  /** The port bound. */
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** Stops accepting and closes every link that came in. */
  close(): void {
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // Closed already.
    }
    for (const conn of this.#conns) close(conn);
    this.#conns.clear();
  }

  /**
   * Closes the links from node `from` (it is gone, or a test cuts them);
   * returns how many there were.
   */
  drop(from: string): number {
    let count = 0;
    for (const [conn, node] of this.#from) {
      if (node !== from) continue;
      close(conn);
      count++;
    }
    return count;
  }

  #from = new Map<Deno.TcpConn, string>();

  async #accept(): Promise<void> {
    for await (const conn of this.#listener) {
      if (this.#closed) {
        close(conn);
        continue;
      }
      // Past the connections still proving themselves: closed unread.
      if (
        this.#conns.size - this.#from.size >= this.#options.limits.maxPending
      ) {
        this.#options.logger.debug("node-link-refused", {
          remote: (conn.remoteAddr as Deno.NetAddr).hostname,
          error: "too many links proving themselves at once",
        });
        close(conn);
        continue;
      }
      this.#conns.add(conn);
      this.#serve(conn).catch((error) => {
        if (!(error instanceof LinkProtocolError)) return;
        this.#options.logger.warn("node-link-refused", {
          remote: (conn.remoteAddr as Deno.NetAddr).hostname,
          error: error.message,
        });
      }).finally(() => {
        this.#conns.delete(conn);
        this.#from.delete(conn);
        close(conn);
      });
    }
  }

  async #serve(conn: Deno.TcpConn): Promise<void> {
    const { limits } = this.#options;
    conn.setNoDelay(true);
    const reader = new FrameReader(limits.maxFrameBytes);
    const backlog: string[] = [];
    const from = await within(
      this.#handshake(conn, reader, backlog),
      limits.connectTimeoutMs,
      conn,
    );
    this.#from.set(conn, from);
    this.#options.accepted(from);
    const sink = new FrameSink(conn, limits.queueBytes, limits.maxFrameBytes);
    sink.onError = () => close(conn);
    const reply = (text: string) => sink.push(text);
    const handle = this.#options.frame;
    for (const text of backlog) handle(from, text, reply);
    for (;;) {
      const count = await conn.read(reader.space());
      if (count === null) break;
      reader.filled(count);
      for (const text of reader.frames()) handle(from, text, reply);
    }
    sink.close();
  }

  /** Returns the id of the node that proved itself. */
  async #handshake(
    conn: Deno.TcpConn,
    reader: FrameReader,
    backlog: string[],
  ): Promise<string> {
    const nonce = randomHex(16);
    await writeAll(conn, frame(`C ${nonce}`));
    const hello = fields(await readFrame(conn, reader, backlog), 4);
    const refuse = async (why: string): Promise<never> => {
      await writeAll(conn, frame(`X ${why}`)).catch(() => {});
      throw new LinkProtocolError(why);
    };
    if (hello?.[0] !== "H") return await refuse("no hello");
    const [, from, to, theirs, mac] = hello;
    const key = this.#options.key();
    if (!key) return await refuse("not registered yet");
    if (!sameProof(mac, await proof(key, "c", nonce, from, to))) {
      return await refuse("bad proof");
    }
    // Checked after the proof: only a node of the cluster learns our id.
    const self = this.#options.self();
    if (to !== self) return await refuse(`not ${to}`);
    await writeAll(
      conn,
      frame(`W ${await proof(key, "s", theirs, self, from)}`),
    );
    return from;
  }
}

function close(conn: Deno.TcpConn): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}
