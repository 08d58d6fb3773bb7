/**
 * One client's WebSocket: enforces the per-connection limits (frame size,
 * message rate, outbound buffer) and hands valid messages to the router.
 *
 * Lifecycle is a small machine, `connecting -> open -> closed`, changed only
 * in {@link Connection.#transition}. Deno fires `close` twice when a peer stops
 * answering pings (1001, then 1005), and a socket the server closes may sit in
 * CLOSING for as long as a stuck peer keeps it. So the registry is freed once,
 * on entering `closed`, whichever comes first: the socket's `close` event or
 * the server's own decision to drop the client.
 */
import {
  PROTOCOL_VERSION,
  type ServerMessage,
} from "../../protocol/messages.ts";
import { encodeServerMessage } from "../../protocol/encode-server-message.ts";
import { parseClientMessage } from "../../protocol/parse-client-message.ts";
import { exceedsUtf8Bytes } from "../../protocol/utf8-limit.ts";
import type { SdpLimits } from "../../protocol/sdp-check.ts";
import { sdpLimits, type ServerConfig } from "../config.ts";
import type { Logger } from "../observe/logger.ts";
import type { DropReason, Metrics } from "../observe/metrics.ts";
import type { Peer } from "./peer.ts";
import type { ResumeClaims } from "../security/resume-token.ts";
import type { SignalingRouter } from "./signaling-router.ts";
import { TokenBucket } from "../security/token-bucket.ts";
import { turnNow } from "./turn-clock.ts";
import { handleGuarded } from "./handler-guard.ts";

export type ConnectionState = "connecting" | "open" | "closed";

/** What a connection needs from the server that owns it. */
export interface ConnectionContext {
  config: ServerConfig;
  router: SignalingRouter;
  metrics: Metrics;
  logger: Logger;
  /** Called once, when the connection reaches `closed`. */
  onClosed(connection: Connection): void;
}

/** How a connection began: resumed, a resume claim refused, or fresh. */
export type Resumption =
  | { resumed: true; claims: ResumeClaims }
  | { resumed: false; refused?: string };

/**
 * Close codes a client sends when it means to go: normal, going away (a tab
 * closed), or none given. Any other close, or none at all, is a drop.
 */
const GOODBYE_CODES = new Set([1000, 1001, 1005]);

export class Connection implements Peer {
  readonly id: string;
  readonly remoteAddress: string;
  resumed: ResumeClaims | undefined;
  #resumption: Resumption;
  #socket: WebSocket;
  #context: ConnectionContext;
  #state: ConnectionState = "connecting";
  #bucket: TokenBucket;
  #bytes: TokenBucket;
  #windowStart = 0;
  #refusalsInWindow = 0;
  /** Frames waiting for an earlier one's admission check to finish. */
  #backlog: string[] = [];
  #waiting = false;
  /** Any frame came from the client (a close before one is no goodbye). */
  #heard = false;
  /** `bufferedAmount` when last read, and bytes sent since (see sendRaw). */
  #lastBuffered = 0;
  #sentSinceRead = 0;
  /** Over MAX_BUFFERED_BYTES: dropped once the step under way is done. */
  #overflowed = false;
  #sdpLimits: SdpLimits;
  /** Releases the upgrade if it has not opened by HANDSHAKE_TIMEOUT_MS. */
  #handshake: ReturnType<typeof setTimeout> | undefined;
  /** How the server closed it, for a socket that opens only after that. */
  #closedWith: { code: number; reason: string } | undefined;

  constructor(
    socket: WebSocket,
    id: string,
    remoteAddress: string,
    context: ConnectionContext,
    resumption: Resumption = { resumed: false },
  ) {
    this.id = id;
    this.remoteAddress = remoteAddress;
    this.#resumption = resumption;
    this.resumed = resumption.resumed ? resumption.claims : undefined;
    this.#socket = socket;
    socket.binaryType = "arraybuffer";
    this.#context = context;
    const { config } = context;
    const now = turnNow();
    this.#bucket = new TokenBucket(
      config.rateLimitBurst,
      config.rateLimitPerSecond,
      now,
    );
    this.#bytes = new TokenBucket(
      config.rateLimitBytesBurst,
      config.rateLimitBytesPerSecond,
      now,
    );
    this.#sdpLimits = sdpLimits(config);
    // An upgrade whose client reset the connection before it opened gets
    // neither `open` nor `close` from Deno: only this deadline frees it.
    this.#handshake = setTimeout(
      // Not a goodbye: a resumed client's retry that failed mid-handshake
      // keeps its place for RECONNECT_GRACE_MS, as any drop does.
      () => this.#drop("handshake-timeout", 1008, "Handshake timed out", false),
      config.handshakeTimeoutMs,
    );
    Deno.unrefTimer(this.#handshake);
    socket.addEventListener("open", () => this.#onOpen());
    socket.addEventListener("message", (event) => this.#onMessage(event));
    socket.addEventListener("close", (event) => {
      // Deno reports a dead peer (no pong) as 1001 but not clean. A socket
      // that said nothing is an attempt its client gave up (Chromium closes
      // one it dropped while connecting with a clean 1001): not a goodbye,
      // or a resumed client's place would go with it.
      const goodbye = this.#heard && event.wasClean &&
        GOODBYE_CODES.has(event.code);
      this.#transition("closed", `socket closed (${event.code})`, goodbye);
    });
  }

  get isOpen(): boolean {
    return this.#state === "open";
  }

  /** Resolves when the socket itself has closed (the close handshake done). */
  socketClosed(): Promise<void> {
    if (this.#socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) =>
      this.#socket.addEventListener("close", () => resolve(), { once: true })
    );
  }

  /**
   * Holds this client's messages until `step` settles (a resume being
   * checked in the cluster store): they are handled after it, in order.
   */
  holdUntil(step: Promise<unknown>): void {
    this.#waiting = true;
    step.catch(() => {}).finally(() => {
      this.#waiting = false;
      this.#drain();
    });
  }

  /** Sends unless closed; drops the client if its outbound queue is too long. */
  send(message: ServerMessage): void {
    this.sendRaw(encodeServerMessage(message));
  }

  /** {@link send} for a frame that is a server message's JSON already. */
  sendRaw(text: string): void {
    if (this.#state !== "open" || this.#overflowed) return;
    // `bufferedAmount` is an op call into the runtime. It grows only by what
    // we send, so while our last reading plus everything sent since cannot
    // exceed the cap, reading it again could not change the decision.
    const cap = this.#context.config.maxBufferedBytes;
    if (this.#lastBuffered + this.#sentSinceRead > cap) {
      this.#lastBuffered = this.#socket.bufferedAmount;
      this.#sentSinceRead = 0;
      if (this.#lastBuffered > cap) {
        // Not now: a send comes from inside a router step, and this leave's
        // departure would change the room under it (a viewer it still pairs,
        // a broadcaster it still calls live, SFU state for one gone). The
        // step's synchronous part finishes first (a step that then waits
        // for the store sees the leave at its next turn, as any departure
        // meanwhile), sending this client nothing more.
        this.#overflowed = true;
        queueMicrotask(() =>
          this.#drop("slow-consumer", 1008, "Slow consumer")
        );
        return;
      }
    }
    this.#socket.send(text);
    // At most 3 UTF-8 bytes per UTF-16 unit: an upper bound, never under.
    this.#sentSinceRead += text.length * 3;
    this.#context.metrics.messagesSent++;
  }

  /** Closes from the server side with `code`, counting why. */
  close(code: number, reason: string, why: DropReason): void {
    this.#drop(why, code, reason);
  }

  #onOpen(): void {
    if (this.#state === "closed") {
      // Closed by the server while connecting, then opened after all.
      const { code, reason } = this.#closedWith ?? {
        code: 1008,
        reason: "Closed",
      };
      this.#socket.close(code, reason);
      return;
    }
    if (this.#state !== "connecting") return;
    this.#transition("open", "socket open");
    const resumption = this.#resumption;
    this.send({
      type: "welcome",
      clientId: this.id,
      protocolVersion: PROTOCOL_VERSION,
      ...(resumption.resumed ? { resumed: true } : {}),
    });
    if (!resumption.resumed && resumption.refused) {
      this.#context.router.refuse(this, {
        code: "resume-refused",
        message:
          `The resume claim was not honoured (${resumption.refused}): this is a new session`,
      });
    }
  }

  #onMessage(event: MessageEvent): void {
    if (this.#state !== "open") return;
    this.#heard = true;
    const { config, metrics, router } = this.#context;
    metrics.messagesReceived++;
    const data: unknown = event.data;
    const size = typeof data === "string" ? data.length : byteLength(data);
    // The size cap comes first: a frame over it closes the socket whatever
    // the rate budget says, so no client gets to send a second one (Deno
    // buffers each whole frame, up to 64 MiB, before we see it).
    const tooLarge = typeof data === "string"
      ? exceedsUtf8Bytes(data, config.maxMessageBytes)
      : size > config.maxMessageBytes;
    if (tooLarge) {
      router.refuse(this, {
        code: "message-too-large",
        message: `Message exceeds the limit of ${config.maxMessageBytes} bytes`,
      });
      this.#drop("message-too-large", 1009, "Message too large");
      return;
    }
    // Over the rate, a frame is dropped before any work that grows with it.
    if (!this.#withinRate(size)) return;
    if (typeof data !== "string") {
      router.refuse(this, {
        code: "binary-unsupported",
        message: "Send JSON text frames, not binary",
      });
      return;
    }
    // Nothing held back (the usual case): handled at once, without a trip
    // through the backlog.
    if (!this.#waiting && this.#backlog.length === 0) {
      this.#dispatchHolding(data);
      return;
    }
    this.#backlog.push(data);
    if (!this.#waiting) this.#drain();
  }

  /**
   * Handles one frame; a handler that returns a promise holds back the
   * frames after it until it settles.
   */
  #dispatchHolding(data: string): boolean {
    const pending = this.#dispatch(data);
    if (!pending) return false;
    this.#waiting = true;
    pending.finally(() => {
      this.#waiting = false;
      this.#drain();
    });
    return true;
  }

  /**
   * Handles queued frames in arrival order. A handler that returns a promise
   * (an admission being checked) holds back the rest until it settles: a
   * viewer's answer must not overtake its own join.
   */
  #drain(): void {
    while (this.#backlog.length > 0 && this.#state === "open") {
      if (this.#dispatchHolding(this.#backlog.shift()!)) return;
    }
  }

  #dispatch(data: string): Promise<void> | undefined {
    const { router } = this.#context;
    const parsed = parseClientMessage(data, this.#sdpLimits);
    if (!parsed.ok) {
      router.refuse(this, parsed.error);
      return;
    }
    const { message } = parsed;
    return handleGuarded(
      router,
      this.#context.logger,
      this,
      message,
      parsed.exact ? data : undefined,
    );
  }

  /**
   * Takes one message and `size` bytes from the buckets at this turn's time
   * (see turn-clock.ts); on refusal sends `rate-limited` and may close (1008).
   */
  #withinRate(size: number): boolean {
    const now = turnNow();
    if (this.#bytes.take(now, size) && this.#bucket.take(now)) return true;
    const { config, router } = this.#context;
    if (now - this.#windowStart > config.rateLimitWindowMs) {
      this.#windowStart = now;
      this.#refusalsInWindow = 0;
    }
    this.#refusalsInWindow++;
    if (this.#refusalsInWindow > config.rateLimitMaxRefusals) {
      this.#drop("rate-limited", 1008, "Rate limit exceeded");
      return false;
    }
    router.refuse(this, {
      code: "rate-limited",
      message:
        `Too many messages: at most ${config.rateLimitPerSecond}/s (burst ${config.rateLimitBurst}) and ${
          Math.round(config.rateLimitBytesPerSecond / 1024)
        } KiB/s (burst ${Math.round(config.rateLimitBytesBurst / 1024)} KiB)`,
    });
    return false;
  }

  /** Closes from the server side; `goodbye` unless the client may come back. */
  #drop(why: DropReason, code: number, reason: string, goodbye = true): void {
    if (this.#state === "closed") return;
    this.#closedWith = { code, reason };
    this.#context.metrics.countDrop(why);
    // Abuse and overload are worth a warning; a shutdown closes everyone.
    const log = why === "shutdown"
      ? this.#context.logger.debug
      : this.#context.logger.warn;
    log("dropped", {
      clientId: this.id,
      reason: why,
      remoteAddress: this.remoteAddress,
    });
    // The server's own close is a goodbye: the client is told why.
    this.#transition("closed", why, goodbye);
    try {
      this.#socket.close(code, reason);
    } catch {
      // Already closing: the state above is what matters.
    }
  }

  /** The one place the state changes. */
  #transition(next: ConnectionState, cause: string, goodbye = false): void {
    const previous = this.#state;
    if (previous === next || previous === "closed") return;
    this.#state = next;
    clearTimeout(this.#handshake);
    this.#context.logger.debug("connection-state", {
      clientId: this.id,
      from: previous,
      to: next,
      cause,
    });
    if (next === "closed") {
      this.#context.router.disconnected(this, cause, goodbye);
      this.#context.onClosed(this);
    }
  }
}

function byteLength(data: unknown): number {
  return data instanceof ArrayBuffer ? data.byteLength : 0;
}
