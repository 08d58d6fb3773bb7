import { LitElement, type PropertyDeclarations } from "lit";
import type { SignalingState } from "./session/signaling-client.ts";
import { parseIceServers } from "./session/signaling-url.ts";
import {
  type JoinFields,
  type SessionError,
  type SessionHooks,
  type StreamMessage,
  StreamSession,
  type StreamSessionOptions,
} from "./session/stream-session.ts";
import type { TokenProvider } from "./session/stream-token.ts";
import type { E2eeKey, E2eeKeyProvider } from "./e2ee/keys.ts";
import type { BuiltInStrings } from "./ui/strings.ts";

/**
 * What both elements share: which stream, on which server, with which ICE
 * servers and credentials, and the {@link StreamSession} controller that
 * acts on them. Each element adds its role by answering the session's
 * hooks.
 *
 * @attr stream-id - The stream (an order id, say).
 * @attr signaling-url - WebSocket URL of the signaling server; default `/ws` on the origin the script came from.
 * @attr ice-servers - JSON array of RTCIceServer; default the seed's STUN server, or the server's list when it sends one.
 * @attr ice-transport-policy - `all` (default) or `relay`: use only TURN relays.
 * @attr token - A token for this stream and role, when the server requires one (SIGNAL_SECRET).
 *
 * @prop {TokenProvider | undefined} tokenProvider - Called for a token before announcing or joining, and again when the last one is about to expire: `({ streamId, role }) => Promise<string>`.
 * @prop {E2eeKey | undefined} e2eeKey - End-to-end encryption key (never an attribute: it must not reach the DOM, the server or a URL). `{ epoch, key }` or a bare key (epoch 0); `key` is 16-64 random bytes, as base64url text, a `Uint8Array` or an `ArrayBuffer`. With it the broadcaster encrypts every frame and the viewer decrypts; set a new value with a higher epoch to rotate. Once given, the element never streams in the clear.
 * @prop {E2eeKeyProvider | undefined} e2eeKeyProvider - Called by the viewer for the key of an epoch it has none for (a rotation): `(streamId, epoch) => Promise<E2eeKey>`.
 */
export abstract class StreamElement extends LitElement {
  // Text attributes have no `type`: Lit's default converter takes their
  // text as it is.
  static override properties: PropertyDeclarations = {
    streamId: { attribute: "stream-id", reflect: true },
    signalingUrl: { attribute: "signaling-url", reflect: true },
    // A function converter is Lit's `fromAttribute` (this one never
    // reflects).
    iceServers: { attribute: "ice-servers", converter: parseIceServers },
    iceTransportPolicy: { attribute: "ice-transport-policy" },
    token: {},
    tokenProvider: { attribute: false },
    // Properties only: an attribute would put the key in the DOM.
    e2eeKey: { attribute: false },
    e2eeKeyProvider: { attribute: false },
  };

  declare streamId: string | null;
  declare signalingUrl: string | null;
  declare iceServers: RTCIceServer[] | undefined;
  declare iceTransportPolicy: RTCIceTransportPolicy;
  declare token: string | null;
  declare tokenProvider: TokenProvider | undefined;
  declare e2eeKey: E2eeKey | undefined;
  declare e2eeKeyProvider: E2eeKeyProvider | undefined;

  /** The signaling session: socket, stream, token, ICE servers, error policy. */
  declare protected readonly session: StreamSession;

  /** `options`: the session's, for the element's role (StreamSessionOptions). */
  constructor(options: StreamSessionOptions) {
    super();
    this.streamId = null;
    this.signalingUrl = null;
    this.iceTransportPolicy = "all";
    this.token = null;
    // iceServers, tokenProvider and the e2ee properties start undefined:
    // unset, as a Lit property reads before anything sets it.
    // The session calls the hooks below on the element (SessionHooks; no
    // closures forwarding to them): protected for pages, and TypeScript has
    // no access for a friend, hence the cast.
    const hooks = this as unknown as this & SessionHooks;
    this.session = new StreamSession(hooks, options);
  }

  /** Taken out of the page; its release waits for this task's microtasks. */
  #leaving = false;

  /**
   * Put on the page. Put back within the task that took it out (a move: a
   * list reordered, a portal), it goes on as it was: same socket,
   * connections and camera.
   */
  override connectedCallback(): void {
    if (this.#leaving) this.#leaving = false;
    else {
      super.connectedCallback();
      this.arrived();
    }
  }

  /** Taken out: released once this task's microtasks have run, unless put back. */
  override disconnectedCallback(): void {
    this.#leaving = true;
    queueMicrotask(() => {
      if (!this.#leaving) return;
      this.#leaving = false;
      super.disconnectedCallback();
      this.left();
    });
  }

  /** On the page (not after a move): the element's own start. */
  protected abstract arrived(): void;
  /** Off the page (not a move): the element's own release. */
  protected abstract left(): void;

  /** The element's built-in strings (English inside, others loaded). */
  protected abstract get builtInStrings(): BuiltInStrings<unknown>;

  /**
   * A page in a language whose strings are not loaded yet renders once
   * they are (a chunk, a few ms): never English first.
   */
  protected override scheduleUpdate(): void | Promise<unknown> {
    const ready = this.builtInStrings.ready(this);
    return ready
      ? ready.then(() => super.scheduleUpdate())
      : super.scheduleUpdate();
  }

  /** A server message about the session's stream. */
  protected abstract onStreamMessage(message: StreamMessage): void;
  /** The socket's state changed. */
  protected abstract onSignaling(state: SignalingState): void;
  /** The session opened, or moved to another stream (or none). */
  protected abstract onStreamChange(): void;
  /** An error the element shows or acts on (the error policy decided which). */
  protected abstract onSessionError(error: SessionError): void;

  // Optional hooks (the session calls them only where they exist): no
  // empty defaults in the bundles.

  /** The device came back online (the session is checking its socket). */
  protected onNetworkChange?(): void;

  /** Extra `join-stream` fields: the viewer says which connection it holds. */
  protected joinFields?(): JoinFields;
}
