/**
 * One direct link from this node to another: a TCP connection this node
 * opened, authenticated both ways by a cluster key (link-wire.ts), that
 * carries this node's frames for the other node's clients and brings back
 * its answers (misses, probes).
 *
 *   connecting --handshake done--> open --socket ends / error--> closed
 *   connecting --refused, timed out, unreachable--> closed
 *
 * Frames sent while connecting wait (in order, within the queue budget);
 * a link that never opened gives them back ({@link OutLink.takePending}) for
 * the other transport. Frames written to a link that then breaks are lost:
 * at most once, like pub/sub.
 */
import {
  fields,
  FrameReader,
  FrameWriter,
  LinkProtocolError,
  proof,
  randomHex,
  sameProof,
  writeAll,
} from "./link-wire.ts";

export type LinkState = "connecting" | "open" | "closed";

/** The limits one link keeps (docs/server.md, NODE_LINK_*). */
export interface LinkLimits {
  /** Bytes queued for one link (waiting to open, or to be written). */
  queueBytes: number;
  /** Largest frame either side sends or accepts. */
  maxFrameBytes: number;
  /** Connecting and the handshake, together. */
  connectTimeoutMs: number;
  /**
   * Connections to this node's link still proving themselves, at most
   * (each holds a socket until `connectTimeoutMs`); more are closed at once.
   */
  maxPending: number;
}

/**
 * Frames for one connection: queued, then written in batches by one write
 * loop, within a byte budget.
 */
export class FrameSink {
  #conn: Deno.TcpConn;
  #writer = new FrameWriter();
  #budget: number;
  #maxFrame: number;
  #writing = false;
  #closed = false;
  /** Called once when a write fails (the connection is gone). */
  onError: ((error: unknown) => void) | undefined;

  constructor(conn: Deno.TcpConn, budget: number, maxFrame: number) {
    this.#conn = conn;
    this.#budget = budget;
    this.#maxFrame = maxFrame;
  }

  /**
   * Queues `text`; false (nothing queued) when the budget is spent or the
   * frame is over the largest the other side accepts.
   */
  push(text: string): boolean {
    if (this.#closed) return false;
    if (this.#writer.size + text.length > this.#budget) return false;
    if (this.#writer.append(text, this.#maxFrame) === 0) return false;
    // Written at once when the link is idle; frames queued while a write
    // is under way go together in the next one.
    if (!this.#writing) this.#flush();
    return true;
  }

  close(): void {
    this.#closed = true;
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#writer.size > 0 && !this.#closed) {
        await writeAll(this.#conn, this.#writer.take());
      }
    } catch (error) {
      this.#closed = true;
      this.onError?.(error);
    } finally {
      this.#writing = false;
    }
  }
}

/** Reads one frame within `reader`'s limit (the handshake's steps). */
export async function readFrame(
  conn: Deno.TcpConn,
  reader: FrameReader,
  backlog: string[],
): Promise<string> {
  while (backlog.length === 0) {
    const space = reader.space();
    const count = await conn.read(space);
    if (count === null) throw new LinkProtocolError("Link closed");
    reader.filled(count);
    backlog.push(...reader.frames());
  }
  return backlog.shift()!;
}

/** Resolves with `step`, or rejects after `ms` (and closes `conn`). */
export function within<T>(
  step: Promise<T>,
  ms: number,
  conn: Deno.TcpConn | undefined,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      try {
        conn?.close();
      } catch {
        // Closed already.
      }
      reject(new LinkProtocolError(`No answer within ${ms} ms`));
    }, ms);
  });
  return Promise.race([step, late]).finally(() => clearTimeout(timer));
}

export interface OutLinkOptions {
  /** This node's id, as the other node is told. */
  self: string;
  /** The other node's id, checked in the handshake. */
  node: string;
  /** Where it listens, `tcp://host:port` (looked up; none: no link). */
  address(): Promise<string | undefined>;
  key: CryptoKey;
  limits: LinkLimits;
  /** A miss or a probe's answer from the other node. */
  reply(text: string): void;
  /** The link opened, or closed (`cause` says why). */
  changed(state: "open" | "closed", cause: string, flushed?: number): void;
}

export class OutLink {
  #state: LinkState = "connecting";
  #options: OutLinkOptions;
  #conn: Deno.TcpConn | undefined;
  #sink: FrameSink | undefined;
  #pending: string[] = [];
  #pendingBytes = 0;

  constructor(options: OutLinkOptions) {
    this.#options = options;
    this.#run().catch(() => {});
  }

  get state(): LinkState {
    return this.#state;
  }

  /** Queues a frame; false when it is over the queue budget or closed. */
  send(text: string): boolean {
    if (this.#state === "open") return this.#sink!.push(text);
    if (this.#state === "closed") return false;
    if (this.#pendingBytes + text.length > this.#options.limits.queueBytes) {
      return false;
    }
    this.#pending.push(text);
    this.#pendingBytes += text.length;
    return true;
  }

  /** The frames it held while connecting, if it never opened. */
  takePending(): string[] {
    const pending = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    return pending;
  }

  close(cause: string): void {
    if (this.#state === "closed") return;
    const opened = this.#state === "open";
    this.#state = "closed";
    this.#sink?.close();
    try {
      this.#conn?.close();
    } catch {
      // Closed already.
    }
    if (opened) this.#pending = [];
    this.#options.changed("closed", cause);
  }

  async #run(): Promise<void> {
    const { limits } = this.#options;
    const reader = new FrameReader(limits.maxFrameBytes);
    const backlog: string[] = [];
    try {
      const address = await within(
        this.#options.address(),
        limits.connectTimeoutMs,
        undefined,
      );
      if (!address) throw new LinkProtocolError("No link address");
      const { hostname, port } = parseLinkUrl(address);
      this.#conn = await within(
        Deno.connect({ hostname, port }),
        limits.connectTimeoutMs,
        undefined,
      );
      if ((this.#state as LinkState) === "closed") {
        return void this.#conn.close();
      }
      this.#conn.setNoDelay(true);
      await within(
        this.#handshake(this.#conn, reader, backlog),
        limits.connectTimeoutMs,
        this.#conn,
      );
    } catch (error) {
      return this.close(String((error as Error)?.message ?? error));
    }
    if ((this.#state as LinkState) === "closed") return;
    this.#state = "open";
    this.#sink = new FrameSink(
      this.#conn,
      limits.queueBytes,
      limits.maxFrameBytes,
    );
    this.#sink.onError = (error) => this.close(`write failed: ${error}`);
    const pending = this.takePending();
    for (const text of pending) this.#sink.push(text);
    this.#options.changed("open", "handshake done", pending.length);
    try {
      for (const text of backlog) this.#options.reply(text);
      for (;;) {
        const count = await this.#conn.read(reader.space());
        if (count === null) break;
        reader.filled(count);
        for (const text of reader.frames()) this.#options.reply(text);
      }
      this.close("closed by the other node");
    } catch (error) {
      this.close(String((error as Error)?.message ?? error));
    }
  }

  /** Proves this node to the other one and checks it is the node meant. */
  async #handshake(
    conn: Deno.TcpConn,
    reader: FrameReader,
    backlog: string[],
  ): Promise<void> {
    const { self, node, key } = this.#options;
    const challenge = fields(await readFrame(conn, reader, backlog), 1);
    if (challenge?.[0] !== "C") throw new LinkProtocolError("No challenge");
    const nonce = randomHex(16);
    const mine = await proof(key, "c", challenge[1], self, node);
    await writeAll(conn, frame(`H ${self} ${node} ${nonce} ${mine}`));
    const answer = await readFrame(conn, reader, backlog);
    if (answer.startsWith("X ")) {
      throw new LinkProtocolError(`Refused: ${answer.slice(2)}`);
    }
    const expected = await proof(key, "s", nonce, node, self);
    if (!answer.startsWith("W ") || !sameProof(answer.slice(2), expected)) {
      throw new LinkProtocolError("The other node's proof is wrong");
    }
  }
}

/** One frame's bytes (the handshake's, written one at a time). */
export function frame(text: string): Uint8Array {
  const writer = new FrameWriter();
  writer.append(text);
  return writer.take();
}

/** `tcp://host:port` (IPv6 in brackets) as Deno.connect takes it. */
export function parseLinkUrl(url: string): { hostname: string; port: number } {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  const port = Number(parsed?.port);
  if (parsed?.protocol !== "tcp:" || !parsed.hostname || !(port > 0)) {
    throw new LinkProtocolError(`Not a link address: ${url}`);
  }
  return { hostname: parsed.hostname.replace(/^\[|\]$/g, ""), port };
}
