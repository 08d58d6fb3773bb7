/**
 * The elements' WebSocket to the signaling server. It reconnects with
 * backoff and says so, and it detects a dead server with an application-level
 * ping, because browsers expose no WebSocket pings and can take minutes to
 * notice a dead TCP connection.
 *
 * State machine, changed only in {@link SignalingClient.#setState}:
 * `idle -> connecting -> open -> (lost) waiting -> connecting ...`, and
 * `closed` for good once {@link SignalingClient.close} is called.
 */
import type {
  ClientMessage,
  ServerMessage,
  Welcome,
} from "../../protocol/messages.ts";
import {
  type MessageShapes,
  parseMessageOf,
} from "../../protocol/parse-server-message.ts";
import { backoffDelay, type BackoffOptions } from "./backoff.ts";

/** Close code for a socket dropped to reconnect (the server then waits for us). */
export const RECONNECTING_CLOSE_CODE = 4000;
/**
 * Once the socket went silent (our own network, most likely), the backoff
 * grows no further than this step (2 s with the default backoff): a 10 s
 * outage reached 8 s waits with the plain backoff, and a broadcaster back
 * after its seat's grace ended the stream.
 */
const SILENT_RETRY_STEPS = 2;

/** No `welcome` this long after starting to connect = lost. */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * How long a probe ({@link SignalingClient.checkNow}) waits for its pong:
 * 300 ms plus three of the slowest recent round trips (the first: from
 * connecting to the welcome), at most 1.5 s. Short, because a socket whose
 * network went away says nothing; a live one answers in a round trip, and a
 * needless reconnection costs little (the server resumes us).
 */
export function probeDeadline(rttMs: number | undefined): number {
  return rttMs === undefined ? 1_500 : Math.min(1_500, 300 + 3 * rttMs);
}

export type SignalingState =
  | "idle"
  | "connecting"
  | "open"
  | "waiting"
  | "closed";

export interface SignalingClientOptions {
  /** Where to connect; a function is asked again before each attempt. */
  url: string | (() => string);
  /** Each `welcome`: the first connection and every reconnection. */
  onSession(welcome: Welcome): void;
  /** Every other message. */
  onMessage(message: Exclude<ServerMessage, Welcome>): void;
  onState(state: SignalingState): void;
  /** The message types read (a role's: parse-server-message.ts); others are ignored. */
  messages: MessageShapes;
  backoff?: BackoffOptions;
  /** How often to ping while open; no pong within `pongTimeoutMs` = lost. */
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
}

export class SignalingClient {
  #options: SignalingClientOptions;
  #state: SignalingState = "idle";
  #socket: WebSocket | undefined;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  /** A pong (or, while connecting, the welcome) must come before this. */
  #deadline: ReturnType<typeof setTimeout> | undefined;
  /** When the outstanding ping (or the connection attempt) was sent, and when its pong is due. */
  #pingAt = 0;
  #dueAt = 0;
  /** The slowest recent ping round trip, decaying (see probeDeadline). */
  #rtt: number | undefined;
  // The next two are read by the session and written here only: plain
  // fields (undefined until set), not getters over private ones, which
  // would be more of each bundle.
  /** This connection's id from the server's `welcome`. */
  declare clientId: string | undefined;
  /**
   * How the last socket was lost: `silent` (no pong, no welcome, or dropped
   * on request: our network may have changed) or `closed` (the server or
   * the network closed it: a restart, a deploy).
   */
  declare lostBy: "silent" | "closed" | undefined;
  /**
   * What started the outage the attempts are in: an attempt that never
   * opened does not change it (it fails fast while our network is down).
   */
  #outage: "silent" | "closed" | undefined;

  constructor(options: SignalingClientOptions) {
    this.#options = options;
  }

  get state(): SignalingState {
    return this.#state;
  }

  start(): void {
    if (this.#state === "idle") this.#connect();
  }

  /** Sends if connected; returns whether it was sent. */
  send(message: ClientMessage): boolean {
    if (this.#state !== "open") return false;
    // Open: #socket is the one that sent the welcome (losing it leaves
    // `open` first).
    this.#socket!.send(JSON.stringify(message));
    return true;
  }

  /** Closes for good: no reconnection after this. */
  close(): void {
    this.#setState("closed");
  }

  /**
   * Is the socket alive? An open one must answer a ping within `timeoutMs`
   * (default {@link probeDeadline}) or is dropped; a waiting one tries again
   * now, and so does an attempt under way when the `network` changed (it may
   * be stuck on the old path). Not for other reasons (a frozen picture): on
   * a slow network every attempt would be cut short.
   */
  checkNow(network?: boolean, timeoutMs = probeDeadline(this.#rtt)): void {
    if (
      this.#state === "waiting" || network && this.#state === "connecting"
    ) return this.reconnectNow();
    if (this.#state === "open") this.#ping(timeoutMs);
  }

  /** Drops the current socket and reconnects at once (tests, network change). */
  reconnectNow(): void {
    if (this.#state === "closed") return;
    this.#attempt = 0;
    this.#lost("silent");
  }

  #connect(): void {
    this.#setState("connecting");
    let socket: WebSocket;
    try {
      const { url } = this.#options;
      socket = new WebSocket(typeof url === "function" ? url() : url);
    } catch {
      // A malformed URL will not get better by retrying soon, but may be fixed
      // by the page; the backoff keeps this cheap.
      this.#lost("closed");
      return;
    }
    this.#socket = socket;
    this.#pingAt = performance.now();
    // A connect stuck on a dead path (SYNs unanswered) would wait minutes.
    this.#deadline = setTimeout(
      () => this.#lost("silent"),
      CONNECT_TIMEOUT_MS,
    );
    socket.addEventListener("message", (event) => {
      if (socket !== this.#socket) return;
      const message = parseMessageOf(
        String(event.data),
        this.#options.messages,
      );
      if (!message) return;
      if (message.type === "welcome") {
        // Our first round trip (a few, with the handshakes: on the safe side).
        this.#timed();
        this.clientId = message.clientId;
        this.#attempt = 0;
        this.#setState("open");
        this.#options.onSession(message);
        return;
      }
      if (message.type === "pong" && this.#deadline) {
        this.#timed();
        clearTimeout(this.#deadline);
        this.#deadline = undefined;
      }
      this.#options.onMessage(message);
    });
    socket.addEventListener("close", () => {
      if (socket === this.#socket) this.#lost("closed");
    });
  }

  /** The socket is gone or presumed dead: schedule the next attempt. */
  #lost(cause: "silent" | "closed"): void {
    if (this.#state === "closed") return;
    if (this.#state === "open" || cause === "silent") this.#outage = cause;
    this.#outage ??= cause;
    this.lostBy = cause;
    this.#setState("waiting");
  }

  /** The one place the state changes. */
  #setState(next: SignalingState): void {
    const previous = this.#state;
    if (previous === "closed") return;
    this.#state = next;
    this.#stopPinging();
    clearTimeout(this.#retryTimer);
    switch (next) {
      case "open":
        this.#startPinging();
        break;
      case "waiting":
        // Not a goodbye: the server keeps our place for a while.
        this.#dropSocket(RECONNECTING_CLOSE_CODE);
        this.#retryTimer = setTimeout(
          () => this.#connect(),
          this.#retryDelay(this.#attempt++),
        );
        break;
      case "closed":
        this.#dropSocket(1000);
        break;
      // Last, with nothing to do: terser drops them.
      case "idle":
      case "connecting":
        break;
      default:
        // Checked when compiled: every state has its case.
        next satisfies never;
    }
    if (previous !== next || next === "waiting") {
      this.#options.onState(next);
    }
  }

  /**
   * Gone silent (our own network changed, most likely): the first attempt
   * at once, the next ones at most SILENT_RETRY_STEPS into the backoff
   * however long the network stays down, so the first attempt after it is
   * back comes well inside the server's RECONNECT_GRACE_MS (attempts over
   * a dead network never reach a server). A server that closed on everyone
   * gets the jittered backoff.
   */
  #retryDelay(attempt: number): number {
    return this.lostBy === "silent" && attempt === 0 ? 0 : backoffDelay(
      this.#outage === "silent"
        ? Math.min(attempt, SILENT_RETRY_STEPS)
        : attempt,
      // Undefined: backoffDelay's default (DEFAULT_BACKOFF).
      this.#options.backoff,
    );
  }

  #dropSocket(code: number): void {
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(code);
  }

  #startPinging(): void {
    const interval = this.#options.pingIntervalMs ?? 10_000;
    const timeout = this.#options.pongTimeoutMs ?? 5_000;
    this.#pingTimer = setInterval(() => this.#ping(timeout), interval);
  }

  /** A round trip from #pingAt to now, into the decaying maximum. */
  #timed(): void {
    const rtt = performance.now() - this.#pingAt;
    this.#rtt = Math.max(rtt, (this.#rtt ?? 0) * 0.75);
  }

  /** A ping whose pong must come within `timeoutMs` (or an earlier one's deadline). */
  #ping(timeoutMs: number): void {
    const now = performance.now();
    if (this.#deadline && this.#dueAt <= now + timeoutMs) return;
    if (!this.send({ type: "ping" })) return;
    clearTimeout(this.#deadline);
    if (!this.#deadline) this.#pingAt = now;
    this.#dueAt = now + timeoutMs;
    this.#deadline = setTimeout(() => this.#lost("silent"), timeoutMs);
  }

  #stopPinging(): void {
    clearInterval(this.#pingTimer);
    clearTimeout(this.#deadline);
    // Only #deadline is read again (a pong is due while it is set).
    this.#deadline = undefined;
  }
}
