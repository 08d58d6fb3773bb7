/**
 * The signaling session both elements share, as a Lit `ReactiveController`:
 * the socket to the signaling server, the stream it is in, the token, the ICE
 * servers and the error policy. Each element keeps only its role: what to do
 * with an offer, a `viewer-joined`, a camera.
 *
 * Changing `stream-id` on an open session reuses the socket (`leave-stream`,
 * then join or announce the new stream): a page that switches orders quickly
 * must not spend its network's per-IP connection allowance.
 */
import type { ReactiveController, ReactiveControllerHost } from "lit";
import type { E2ee } from "../e2ee/e2ee.ts";
import type { E2eeKey, E2eeKeyProvider } from "../e2ee/keys.ts";
import {
  type BroadcasterAccepted,
  type BroadcasterReady,
  type ClientMessage,
  type JoinAccepted,
  type JoinStream,
  type ServerMessage,
  type Welcome,
} from "../../protocol/messages.ts";
import type { MessageShapes } from "../../protocol/parse-server-message.ts";
import {
  type ErrorPolicy,
  type LiveErrorCode,
  reactionTo,
  type Role,
} from "./error-policy.ts";
import {
  SignalingClient,
  type SignalingClientOptions,
  type SignalingState,
} from "./signaling-client.ts";
import { DEFAULT_ICE_SERVERS, defaultSignalingUrl } from "./signaling-url.ts";
import type { StreamToken, TokenProvider } from "./stream-token.ts";

/** The element properties a session reads. */
export interface SessionHost extends ReactiveControllerHost {
  readonly streamId: string | null;
  readonly signalingUrl: string | null;
  readonly iceServers: RTCIceServer[] | undefined;
  readonly iceTransportPolicy: RTCIceTransportPolicy;
  readonly token: string | null;
  readonly tokenProvider: TokenProvider | undefined;
  readonly e2eeKey?: E2eeKey | null;
  readonly e2eeKeyProvider?: E2eeKeyProvider | null;
}

/** An error the element shows or acts on; the policy has decided the rest. */
export interface SessionError {
  code: LiveErrorCode;
  message: string;
  /** Nothing retrying can fix: the session has closed; release everything. */
  fatal: boolean;
  /** Not fatal, but shown (the error state) until the retry succeeds. */
  shown: boolean;
  cause?: unknown;
}

/** What a viewer adds to its `join-stream`. */
export type JoinFields = Pick<
  JoinStream,
  "session" | "restart" | "keyFrame" | "overlap"
>;

/** Server messages about the session's stream. */
export type StreamMessage = Exclude<
  ServerMessage,
  { type: "welcome" | "pong" | "error" }
>;

/** What a peer connection needs from the session it signals through. */
export interface PeerLink {
  /** The stream the session is in. */
  readonly streamId: string | null;
  /** This connection's id from the server's `welcome`. */
  readonly clientId: string | undefined;
  /** The socket's state: `open`, what is sent now reaches the server. */
  readonly signalingState: SignalingState;
  send(message: ClientMessage): boolean;
  /** A new connection: the session's ICE servers and policy; end-to-end encrypted when the element has a key. */
  newConnection(): RTCPeerConnection;
  /** A TURN server refused the credentials it was given (STUN/TURN error 401). */
  turnRefused(): void;
}

/**
 * What the session tells its element: StreamElement's hooks of these names,
 * called on the element itself (no closures forwarding to them).
 */
export interface SessionHooks {
  onStreamMessage(message: StreamMessage): void;
  onSignaling(state: SignalingState): void;
  /** The session opened, or moved to another stream (or none): drop the old stream's peers. */
  onStreamChange(): void;
  onSessionError(error: SessionError): void;
  /** The device is back online, or its network changed: connections may need an ICE restart. */
  onNetworkChange?(): void;
  /** Extra fields for `join-stream` (the viewer's `session`, `restart`, `overlap`). */
  joinFields?(): JoinFields;
}

export interface StreamSessionOptions {
  role: Role;
  /**
   * The role's message into its stream: `join-stream` (the viewer) or
   * `broadcaster-ready`. An option rather than a test of `role`, so that
   * each bundle names its own only.
   */
  admit: (BroadcasterReady | JoinStream)["type"];
  /**
   * Open whenever the host is on the page with a stream id (the viewer);
   * otherwise only on {@link StreamSession.open} (the broadcaster, once its
   * camera runs).
   */
  auto: boolean;
  /** The server messages this role reads (parse-server-message.ts). */
  messages: MessageShapes;
  /** This role's error table (error-policy.ts). */
  errors: ErrorPolicy;
  /**
   * Backoff and ping timing: the broadcaster's {@link BROADCASTER_HEARTBEAT},
   * and tests'.
   */
  signaling?: Pick<
    SignalingClientOptions,
    "backoff" | "pingIntervalMs" | "pongTimeoutMs"
  >;
}

/** A role's admission: `broadcaster-accepted` or `join-accepted`. */
type Accepted = BroadcasterAccepted | JoinAccepted;

/** The Network Information API's object, where the browser has it. */
const connection = () =>
  (globalThis.navigator as { connection?: EventTarget } | undefined)
    ?.connection;

/**
 * The broadcaster pings every 2 s and gives up after 1.5 s without a pong:
 * its socket carries every viewer's recovery, so it finds out fast that it
 * died (a new address leaves it silently dead). Its element passes this as
 * its `signaling` option (the viewer's bundle holds neither).
 */
export const BROADCASTER_HEARTBEAT = {
  pingIntervalMs: 2_000,
  pongTimeoutMs: 1_500,
};

export class StreamSession implements ReactiveController, PeerLink {
  #host: SessionHost & SessionHooks;
  #options: StreamSessionOptions;
  #signaling: SignalingClient | undefined;
  /** The stream and URL the open session is for. */
  #streamId: string | null = null;
  #url = "";
  /** An announce or join was sent on this socket: leave before another. */
  #admitted = false;
  /** A provider's tokens, cached (made the first time one is asked for). */
  #token: StreamToken | undefined;
  #serverIceServers: RTCIceServer[] | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #onPage = false;
  /**
   * The server kept our client id on this connection (a resume claim it
   * honoured). A field, set on each welcome: the viewer never reads it, and
   * a getter over a private one would be more of its bundle.
   */
  resumed = false;
  /** The server's latest resume claim, and the stream it is for. */
  #resume: { claim: string; streamId: string } | undefined;
  #onOnline = () => {
    this.#signaling?.checkNow(true);
    this.#host.onNetworkChange?.();
  };
  // One-shot reactions belong to one run.
  #tokenRenewed = false;
  #turnRefused = false;
  /**
   * End-to-end encryption (a chunk), from the first `e2eeKey` or
   * `e2eeKeyProvider` on, never dropped: a page that gave a key wants no
   * clear stream. Resolves to nothing when its chunk did not load
   * (reported, and loaded again next time).
   */
  #e2ee: Promise<E2ee | void> | undefined;
  #secure: E2ee | undefined;

  constructor(host: SessionHost & SessionHooks, options: StreamSessionOptions) {
    this.#host = host;
    this.#options = options;
    host.addController(this);
  }

  /** The stream the session is in (or joining). */
  get streamId(): string | null {
    return this.#streamId;
  }

  get signalingState(): SignalingState {
    return this.#signaling?.state ?? "idle";
  }

  /**
   * Our last socket went silent rather than closed: our own network may
   * have changed, so our connections may need new ICE candidates.
   */
  get networkSuspect(): boolean {
    return this.#signaling?.lostBy === "silent";
  }

  /** This connection's id from the server's `welcome`. */
  get clientId(): string | undefined {
    return this.#signaling?.clientId;
  }

  hostConnected(): void {
    this.#listen(this.#onPage = true);
    if (this.#options.auto && this.#host.streamId) this.open();
  }

  hostDisconnected(): void {
    this.#listen(this.#onPage = false);
    this.close();
  }

  /** Listens to the network's changes while on the page (`on`), or stops. */
  #listen(on: boolean): void {
    const method = on ? "addEventListener" : "removeEventListener";
    globalThis[method]?.("online", this.#onOnline);
    // Chrome on Android also says when the network changes (Wi-Fi to
    // cellular): our socket and paths may be dead without a word.
    connection()?.[method]("change", this.#onOnline);
  }

  /**
   * Once the element has a key: its end-to-end encryption, loaded once (a
   * chunk; from then on it follows the element's key itself).
   */
  #e2eeLoad(): Promise<E2ee | void> | undefined {
    const host = this.#host;
    if (!this.#e2ee && (host.e2eeKey || host.e2eeKeyProvider)) {
      // Keyed while in the stream in the clear: those connections close
      // now, not once the chunk is here; it joins again encrypted.
      if (this.#admitted) this.open();
      this.#e2ee = import("../e2ee/e2ee.ts").then(
        ({ E2ee }) => this.#secure = new E2ee(host, this, this.#options.role),
        (error) => {
          this.#e2ee = undefined;
          this.report("e2ee-unsupported", String(error), error);
        },
      );
    }
    return this.#e2ee;
  }

  /**
   * Before announcing, joining or publishing: with a key, its encryption
   * once ready. Undefined without a key, and when it cannot be used: the
   * failure is reported then (fatal: the session closed, the element
   * failed), so the caller's check that it is still wanted stops it.
   */
  async e2eeReady(): Promise<E2ee | undefined> {
    return (await this.#e2eeLoad())?.ready();
  }

  /** Before each render: follow a changed `stream-id`, `signaling-url` or key. */
  hostUpdate(): void {
    this.#e2eeLoad();
    if (!this.#onPage) return;
    const wanted = this.#host.streamId;
    if (!this.#signaling) {
      // Closed after a fatal failure: only another stream or server reopens.
      const moved = wanted !== this.#streamId ||
        this.#resolveUrl() !== this.#url;
      if (this.#options.auto && wanted && moved) this.open();
      return;
    }
    if (!wanted) {
      this.close();
      this.#streamId = null;
      this.#host.onStreamChange();
    } else if (this.#resolveUrl() !== this.#url) this.open();
    else if (wanted !== this.#streamId) this.#switchTo(wanted);
  }

  /** Connects (again, if open) to the server for the host's stream. */
  open(): void {
    this.close();
    this.#streamId = this.#host.streamId;
    this.#url = this.#resolveUrl();
    this.#tokenRenewed = false;
    this.#turnRefused = false;
    const signaling = new SignalingClient({
      ...this.#options.signaling,
      messages: this.#options.messages,
      url: () => this.#connectUrl(),
      onSession: (welcome) => this.#onWelcome(welcome),
      onMessage: (message) => this.#onMessage(message),
      onState: (state) => this.#host.onSignaling(state),
    });
    this.#signaling = signaling;
    this.#host.onStreamChange();
    signaling.start();
  }

  /** Leaves the stream and closes the socket for good. */
  close(): void {
    clearTimeout(this.#retryTimer);
    this.#resume = undefined;
    const signaling = this.#signaling;
    if (!signaling) return;
    this.#leave();
    this.#signaling = undefined;
    signaling.close();
  }

  /** Sends if connected; returns whether it was sent. */
  send(message: ClientMessage): boolean {
    return this.#signaling?.send(message) ?? false;
  }

  /** Drops the socket and connects again at once (the retry button). */
  reconnectNow(): void {
    this.#signaling?.reconnectNow();
  }

  /** Media trouble: is the socket still alive? A pong soon (probeDeadline), or reconnect. */
  checkConnection(): void {
    this.#signaling?.checkNow();
  }

  /**
   * A connection with the ICE servers (the host's, else the server's, else
   * the seed's) and policy.
   */
  newConnection(): RTCPeerConnection {
    const pc = new RTCPeerConnection({
      iceServers: this.#host.iceServers ?? this.#serverIceServers ??
        DEFAULT_ICE_SERVERS,
      iceTransportPolicy: this.#host.iceTransportPolicy,
    });
    this.#secure?.attach(pc);
    return pc;
  }

  /**
   * The token to send now: the attribute as given, or the provider's through
   * a cache that reads expiry. Few pages use a provider: its cache is a
   * chunk of its own, loaded the first time.
   */
  async #tokenFor(streamId: string): Promise<string | undefined> {
    const host = this.#host;
    if (!host.tokenProvider) return host.token ?? undefined;
    if (!this.#token) {
      const { StreamToken } = await import("./stream-token.ts");
      this.#token ??= new StreamToken(this.#options.role);
    }
    return this.#token.get(host, streamId);
  }

  /** Sends `broadcaster-ready` or `join-stream`, with a token when there is one. */
  async admit(): Promise<void> {
    clearTimeout(this.#retryTimer);
    const signaling = this.#signaling;
    const streamId = this.#streamId;
    if (!signaling || !streamId) return;
    let token: string | undefined;
    try {
      token = await this.#tokenFor(streamId);
    } catch (error) {
      if (this.#signaling === signaling && this.#streamId === streamId) {
        this.report("token-provider-failed", String(error), error);
      }
      return;
    }
    // With a key, nothing goes out before its transforms are ready.
    const e2ee = await this.e2eeReady();
    // Still the same session and stream: the provider may have been slow
    // (or a refused key closed the session).
    if (this.#signaling !== signaling || this.#streamId !== streamId) return;
    // Only the viewer has joinFields.
    const message = {
      type: this.#options.admit,
      streamId,
      ...this.#host.joinFields?.(),
    } as BroadcasterReady | JoinStream;
    if (token) message.token = token;
    if (e2ee) message.e2ee = true;
    if (signaling.send(message)) this.#admitted = true;
    e2ee?.joined();
  }

  /** A TURN server refused its credentials: reported once per run. */
  turnRefused(): void {
    if (this.#turnRefused) return;
    this.#turnRefused = true;
    this.report("turn-auth-failed", "The TURN server refused the credentials");
  }

  /**
   * Applies the error policy to `code` (a server's, the camera's or the
   * element's own): retries, renews the token, closes on a fatal one, and
   * tells the element what it must show.
   */
  report(code: string, message: string, cause?: unknown): void {
    const reaction = reactionTo(code, this.#options.errors);
    let fatal = false;
    let shown = false;
    switch (reaction.do) {
      case "warn":
        console.warn(
          `live-${this.#options.role}: server refused: ${code}: ${message}`,
        );
        return;
      case "renew-token":
        if (this.#host.tokenProvider && !this.#tokenRenewed) {
          // Expired on the way: one more try with a fresh token.
          this.#tokenRenewed = true;
          this.#token?.forget();
          this.admit();
          return;
        }
        // falls through: no provider, or renewed once already
      case "fail":
        fatal = true;
        break;
      case "retry":
        this.#admitLater(reaction.afterMs);
        // falls through: said (`shown`) or not, as while reconnecting
      case "reconnect":
        if (!reaction.shown) return;
        shown = true;
        break;
      case "relay-only":
        if (this.#host.iceTransportPolicy !== "relay") break;
        fatal = reaction.then === "fail";
        shown = !fatal;
        break;
      case "report":
        break;
      default:
        // Checked when compiled: every reaction has its case.
        reaction satisfies never;
    }
    if (fatal) {
      // A refused token is not asked for again; the next run gets a new one.
      this.#token?.forget();
      this.close();
    }
    this.#host.onSessionError({
      // Every code but an unknown one has a rule; unknown ones only warn.
      code: code as LiveErrorCode,
      message,
      fatal,
      shown,
      cause,
    });
  }

  #resolveUrl(): string {
    return this.#host.signalingUrl ?? defaultSignalingUrl(import.meta.url);
  }

  /** The URL of the next attempt: with our resume claim, if it is for this stream. */
  #connectUrl(): string {
    const resume = this.#resume;
    if (!resume || resume.streamId !== this.#streamId) return this.#url;
    const url = new URL(this.#url);
    url.searchParams.set("resume", resume.claim);
    return url.href;
  }

  /** Keeps the server's resume claim with the stream it names (read, not verified). */
  #keepClaim(claim: string | undefined): void {
    // `1~clientId~role~exp~streamId~mac`: the server's format (resume-token.ts).
    const streamId = claim?.split("~")[4];
    if (claim && streamId) this.#resume = { claim, streamId };
  }

  #admitLater(ms: number): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.admit(), ms);
  }

  #switchTo(streamId: string): void {
    clearTimeout(this.#retryTimer);
    this.#leave();
    this.#streamId = streamId;
    this.#tokenRenewed = false;
    this.#host.onStreamChange();
    if (this.signalingState === "open") this.admit();
  }

  #leave(): void {
    if (this.#admitted && this.#streamId) {
      this.send({ type: "leave-stream", streamId: this.#streamId });
    }
    this.#admitted = false;
  }

  #onWelcome(welcome: Welcome): void {
    this.resumed = !!welcome.resumed;
    // A new socket is in no stream yet.
    this.#admitted = false;
    this.admit();
  }

  #onMessage(message: Exclude<ServerMessage, Welcome>): void {
    // A late message about the stream this session just left, a refusal of
    // its join too (a seed server sends offers, answers and candidates
    // without a stream id, and errors name one only as an addition).
    const { streamId } = message as { streamId?: string };
    if (streamId !== undefined && streamId !== this.#streamId) return;
    switch (message.type) {
      case "pong":
        return this.#keepClaim(message.resume);
      case "error":
        // Refused our announce or join (the server names the type we sent).
        if (message.inReplyTo === this.#options.admit) {
          this.#admitted = false;
          // A bug of the server's, not our doing: asked again in a moment
          // (left alone, the element would wait outside the stream for good).
          if (message.code === "internal-error") this.#admitLater(2_000);
        }
        // The server would not honour it: the next attempt goes without.
        if (message.code === "resume-refused") this.#resume = undefined;
        return this.report(message.code, message.message);
    }
    // `broadcaster-accepted` or `join-accepted`: a role parses its own only
    // (parse-server-message.ts), the one type of either that ends so.
    if (message.type.endsWith("-accepted")) {
      if ((message as Accepted).iceServers) {
        this.#serverIceServers = (message as Accepted).iceServers;
      }
      this.#keepClaim((message as Accepted).resume);
      // Admitted: fresh credentials, so their refusal is news again.
      this.#tokenRenewed = false;
      this.#turnRefused = false;
    }
    this.#host.onStreamMessage(message);
  }
}
