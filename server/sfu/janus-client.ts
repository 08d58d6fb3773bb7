/**
 * Janus's plain JSON API over its WebSocket transport (sub-protocol
 * `janus-protocol`): sessions kept alive, plugin handles, requests matched to
 * their replies by transaction, and the events Janus pushes per handle.
 *
 * Written on the JSON API rather than `janode` (Janus's own client): janode
 * loads `unix-dgram`, a native addon, at import, which Deno cannot load
 * without building it (no toolchain or headers here). The API is small and
 * documented (janus.conf.meetecho.com/docs/rest.html).
 *
 * The WebSocket is `ws`'s, not Deno's: Deno's client leaves Nagle's
 * algorithm on and writes a large frame's header and payload apart, so every
 * request carrying an SDP (a publisher's offer, a viewer's answer) waited for
 * Janus's delayed ACK of the 8-byte header: 42-45 ms each, seen in a packet
 * capture of the lab (bench/RESULTS.md). `ws` sets TCP_NODELAY.
 */
import WebSocket from "ws";

/** A message from Janus, as much of it as we read. */
export interface JanusMessage {
  janus: string;
  transaction?: string;
  session_id?: number;
  sender?: number;
  data?: { id?: number };
  error?: { code: number; reason: string };
  plugindata?: { plugin: string; data: Record<string, unknown> };
  jsep?: { type: "offer" | "answer"; sdp: string };
  [key: string]: unknown;
}

/** Janus refused a request (core or plugin error), with its code. */
export class JanusError extends Error {
  readonly code: number;
  constructor(code: number, reason: string) {
    super(`Janus error ${code}: ${reason}`);
    this.name = "JanusError";
    this.code = code;
  }
}

/** Janus cannot be reached (never connected, or the link closed). */
export class JanusUnavailable extends Error {
  constructor(reason: string) {
    super(`Janus unavailable: ${reason}`);
    this.name = "JanusUnavailable";
  }
}

export interface JanusClientOptions {
  /** A request unanswered this long fails (Janus stuck). */
  requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Janus drops a session silent for 60 s by default; ping well inside it. */
export const KEEPALIVE_MS = 25_000;

interface Pending {
  resolve(message: JanusMessage): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
  /** Resolve on Janus's `ack` (trickle and keepalive get nothing else). */
  ackIsReply: boolean;
}

export class JanusClient {
  /** Fires `closed` once, when the link to Janus is gone. */
  readonly events = new EventTarget();
  #socket: WebSocket;
  #pending = new Map<string, Pending>();
  #handles = new Map<number, JanusHandle>();
  #sessions = new Set<JanusSession>();
  #next = 0;
  /**
   * Unique per link: after a session is claimed by another node, a late
   * reply to this one's `lw5` must not settle the new owner's `lw5`.
   */
  #prefix = crypto.randomUUID().slice(0, 8);
  #timeoutMs: number;
  #closed = false;

  private constructor(socket: WebSocket, options: JanusClientOptions) {
    this.#socket = socket;
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    socket.addEventListener("message", (event) => this.#onMessage(event));
    socket.addEventListener("close", () => this.#onClose("link closed"));
    // `close` follows; an `error` nobody listens to would throw.
    socket.addEventListener("error", () => {});
  }

  /** Opens the WebSocket to `url` (e.g. `ws://127.0.0.1:8188/`). */
  static connect(
    url: string,
    options: JanusClientOptions = {},
  ): Promise<JanusClient> {
    return new Promise((resolve, reject) => {
      let socket: WebSocket;
      try {
        socket = new WebSocket(url, "janus-protocol");
      } catch (error) {
        return reject(new JanusUnavailable(String(error)));
      }
      const failed = () =>
        reject(new JanusUnavailable(`cannot connect to ${url}`));
      socket.addEventListener("error", failed, { once: true });
      socket.addEventListener("open", () => {
        socket.removeEventListener("error", failed);
        resolve(new JanusClient(socket, options));
      }, { once: true });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** A new session, kept alive until destroyed or the link closes. */
  async createSession(): Promise<JanusSession> {
    const reply = await this.request({ janus: "create" });
    const session = new JanusSession(this, reply.data!.id!);
    this.#sessions.add(session);
    return session;
  }

  /**
   * Takes over session `id` made by another link (a node that died or let
   * go): Janus sends its handles' events here from now on. Needs Janus's
   * `reclaim_session_timeout` > 0, or the session died with its link (458).
   */
  async claimSession(id: number): Promise<JanusSession> {
    await this.request({ janus: "claim", session_id: id });
    const session = new JanusSession(this, id);
    this.#sessions.add(session);
    return session;
  }

  /** Sends `body` with a fresh transaction; resolves with Janus's reply. */
  request(
    body: Record<string, unknown>,
    ackIsReply = false,
  ): Promise<JanusMessage> {
    if (this.#closed) {
      return Promise.reject(new JanusUnavailable("link closed"));
    }
    const transaction = `${this.#prefix}-${++this.#next}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(transaction);
        reject(
          new JanusUnavailable(
            `no reply to ${body.janus} in ${this.#timeoutMs} ms`,
          ),
        );
      }, this.#timeoutMs);
      this.#pending.set(transaction, { resolve, reject, timer, ackIsReply });
      this.#socket.send(JSON.stringify({ ...body, transaction }));
    });
  }

  /** Closes the link; sessions end with it (Janus reclaims them). */
  close(): void {
    this.#onClose("closed by us");
    try {
      this.#socket.close();
    } catch {
      // Closing already.
    }
  }

  /** @internal */
  register(handle: JanusHandle): void {
    this.#handles.set(handle.id, handle);
  }

  /** @internal */
  unregister(handle: JanusHandle): void {
    this.#handles.delete(handle.id);
  }

  /** @internal */
  forget(session: JanusSession): void {
    this.#sessions.delete(session);
  }

  #onMessage(event: { data: unknown }): void {
    let message: JanusMessage;
    try {
      message = JSON.parse(event.data as string);
    } catch {
      return;
    }
    const pending = message.transaction
      ? this.#pending.get(message.transaction)
      : undefined;
    if (pending && (message.janus !== "ack" || pending.ackIsReply)) {
      this.#pending.delete(message.transaction!);
      clearTimeout(pending.timer);
      const error = errorOf(message);
      if (error) pending.reject(error);
      else pending.resolve(message);
      return;
    }
    if (message.janus === "ack" || pending) return;
    // Pushed by Janus: webrtcup, media, slowlink, hangup, detached, or a
    // plugin event not answering a request of ours.
    if (message.sender !== undefined) {
      this.#handles.get(message.sender)?.dispatch(message);
    } else if (message.janus === "timeout") {
      for (const session of this.#sessions) {
        if (session.id === message.session_id) session.timedOut();
      }
    }
  }

  #onClose(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new JanusUnavailable(reason));
    }
    this.#pending.clear();
    for (const session of this.#sessions) session.stopKeepalive();
    this.#sessions.clear();
    this.#handles.clear();
    this.events.dispatchEvent(new CustomEvent("closed", { detail: reason }));
  }
}

export class JanusSession {
  readonly id: number;
  /** Fires `timeout` if Janus dropped this session (no keepalive in time). */
  readonly events = new EventTarget();
  #client: JanusClient;
  #keepalive: ReturnType<typeof setInterval>;

  constructor(client: JanusClient, id: number, keepaliveMs = KEEPALIVE_MS) {
    this.#client = client;
    this.id = id;
    this.#keepalive = setInterval(() => {
      client.request({ janus: "keepalive", session_id: id }, true).catch(
        () => {},
      );
    }, keepaliveMs);
  }

  /** Attaches a handle to `plugin` (e.g. `janus.plugin.videoroom`). */
  async attach(plugin: string): Promise<JanusHandle> {
    const reply = await this.#client.request({
      janus: "attach",
      session_id: this.id,
      plugin,
    });
    const handle = new JanusHandle(this.#client, this.id, reply.data!.id!);
    this.#client.register(handle);
    return handle;
  }

  /** A handle of this session made before it was claimed here. */
  adopt(handleId: number): JanusHandle {
    const handle = new JanusHandle(this.#client, this.id, handleId);
    this.#client.register(handle);
    return handle;
  }

  /**
   * Stops driving this session without ending it (another node claims it):
   * no more keepalives, its handles' events no longer dispatched here.
   */
  release(handles: readonly JanusHandle[]): void {
    this.stopKeepalive();
    this.#client.forget(this);
    for (const handle of handles) this.#client.unregister(handle);
  }

  /** Ends the session and every handle in it. */
  async destroy(): Promise<void> {
    this.stopKeepalive();
    this.#client.forget(this);
    await this.#client.request({ janus: "destroy", session_id: this.id });
  }

  /** @internal */
  stopKeepalive(): void {
    clearInterval(this.#keepalive);
  }

  /** @internal */
  timedOut(): void {
    this.stopKeepalive();
    this.#client.forget(this);
    this.events.dispatchEvent(new Event("timeout"));
  }
}

/** What a plugin request came back with: its data, and a jsep if any. */
export interface PluginReply {
  data: Record<string, unknown>;
  /** `e2ee`: Janus says the media of this handle is end-to-end encrypted. */
  jsep?: { type: "offer" | "answer"; sdp: string; e2ee?: boolean };
}

export class JanusHandle {
  readonly id: number;
  readonly sessionId: number;
  /**
   * Fires Janus's pushes as CustomEvents named after them (`webrtcup`,
   * `media`, `slowlink`, `hangup`, `detached`, and `event` for plugin events)
   * with the message as `detail`.
   */
  readonly events = new EventTarget();
  #client: JanusClient;

  constructor(client: JanusClient, sessionId: number, id: number) {
    this.#client = client;
    this.sessionId = sessionId;
    this.id = id;
  }

  /**
   * A plugin request: resolves with the plugin's reply (synchronous requests
   * answer at once; asynchronous ones after Janus's `ack`, with an event).
   */
  async message(
    body: Record<string, unknown>,
    jsep?: { type: string; sdp: string; e2ee?: boolean },
  ): Promise<PluginReply> {
    const reply = await this.#client.request({
      janus: "message",
      session_id: this.sessionId,
      handle_id: this.id,
      body,
      ...(jsep ? { jsep } : {}),
    });
    return {
      data: reply.plugindata?.data ?? {},
      ...(reply.jsep ? { jsep: reply.jsep } : {}),
    };
  }

  /** Hands Janus one ICE candidate, or `null` when gathering is complete. */
  async trickle(candidate: RTCIceCandidateInit | null): Promise<void> {
    await this.#client.request({
      janus: "trickle",
      session_id: this.sessionId,
      handle_id: this.id,
      candidate: candidate ?? { completed: true },
    }, true);
  }

  /** Detaches from the plugin (its peer connection is closed). */
  async detach(): Promise<void> {
    this.#client.unregister(this);
    await this.#client.request({
      janus: "detach",
      session_id: this.sessionId,
      handle_id: this.id,
    });
  }

  /** @internal */
  dispatch(message: JanusMessage): void {
    this.events.dispatchEvent(
      new CustomEvent(message.janus, { detail: message }),
    );
  }
}

/** A core `error`, or a plugin's `error_code` in a reply, as a JanusError. */
function errorOf(message: JanusMessage): JanusError | undefined {
  if (message.janus === "error" && message.error) {
    return new JanusError(message.error.code, message.error.reason);
  }
  const data = message.plugindata?.data;
  if (data && typeof data.error_code === "number") {
    return new JanusError(data.error_code, String(data.error ?? "error"));
  }
  return undefined;
}
