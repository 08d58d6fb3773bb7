/**
 * A stand-in for an element hosting a {@link StreamSession}: the properties
 * it reads, and the Lit lifecycle calls (`connect`, `update`, `disconnect`)
 * the test makes by hand.
 */
import {
  BROADCASTER_MESSAGES,
  VIEWER_MESSAGES,
} from "../../../protocol/parse-server-message.ts";
import type { ReactiveController } from "lit";
import {
  BROADCASTER_ERRORS,
  type Role,
  VIEWER_ERRORS,
} from "../../../components/session/error-policy.ts";
import type { SignalingState } from "../../../components/session/signaling-client.ts";
import {
  BROADCASTER_HEARTBEAT,
  type SessionError,
  type SessionHooks,
  type SessionHost,
  type StreamMessage,
  StreamSession,
} from "../../../components/session/stream-session.ts";
import type { TokenProvider } from "../../../components/session/stream-token.ts";
import type {
  E2eeKey,
  E2eeKeyProvider,
} from "../../../components/e2ee/keys.ts";

export class FakeHost implements SessionHost, SessionHooks {
  streamId: string | null = "order-1";
  signalingUrl: string | null = "ws://signal.test/ws";
  iceServers: RTCIceServer[] | undefined = undefined;
  iceTransportPolicy: RTCIceTransportPolicy = "all";
  token: string | null = null;
  tokenProvider: TokenProvider | undefined = undefined;
  e2eeKey: E2eeKey | undefined | null = undefined;
  e2eeKeyProvider: E2eeKeyProvider | undefined = undefined;
  /** The broadcaster's `whip-url` (end-to-end encryption refuses it). */
  whipUrl: string | null = null;
  readonly updateComplete = Promise.resolve(true);
  #controllers: ReactiveController[] = [];
  #errorWaiters: ((error: SessionError) => void)[] = [];

  /** What the session told the element, in order. */
  readonly messages: StreamMessage[] = [];
  readonly signaling: SignalingState[] = [];
  readonly errors: SessionError[] = [];
  streamChanges = 0;
  readonly session: StreamSession;

  /** Extra `join-stream` fields, as the viewer element gives them. */
  joinFields: () => { session?: string } = () => ({});

  /** `heartbeat: false` keeps the session's own ping timing (tests of it). */
  constructor(
    role: Role,
    auto = role === "viewer",
    { heartbeat = true }: { heartbeat?: boolean } = {},
  ) {
    this.session = new StreamSession(this, {
      role,
      admit: role === "viewer" ? "join-stream" : "broadcaster-ready",
      auto,
      messages: role === "viewer" ? VIEWER_MESSAGES : BROADCASTER_MESSAGES,
      errors: role === "viewer" ? VIEWER_ERRORS : BROADCASTER_ERRORS,
      signaling: {
        // As the broadcaster element asks (live-broadcaster.ts).
        ...(role === "broadcaster" ? BROADCASTER_HEARTBEAT : {}),
        backoff: { initialMs: 1_000, maxMs: 1_000 },
        // Heartbeats have tests of their own.
        ...(heartbeat ? { pingIntervalMs: 600_000 } : {}),
      },
    });
  }

  // The element's hooks (SessionHooks), recording what the session said.
  onStreamMessage(message: StreamMessage): void {
    this.messages.push(message);
  }

  onSignaling(state: SignalingState): void {
    this.signaling.push(state);
  }

  onStreamChange(): void {
    this.streamChanges++;
  }

  onSessionError(error: SessionError): void {
    this.errors.push(error);
    this.#errorWaiters.splice(0).forEach((resolve) => resolve(error));
  }

  /** Resolves with the next error the session reports. */
  nextError(): Promise<SessionError> {
    return new Promise((resolve) => this.#errorWaiters.push(resolve));
  }

  addController(controller: ReactiveController): void {
    this.#controllers.push(controller);
  }

  removeController(controller: ReactiveController): void {
    this.#controllers = this.#controllers.filter((c) => c !== controller);
  }

  requestUpdate(): void {}

  /** The element was added to the page. */
  connect(): void {
    for (const c of this.#controllers) c.hostConnected?.();
  }

  /** Properties changed: Lit's update runs each controller's hostUpdate. */
  update(
    patch: Partial<
      Pick<FakeHost, "streamId" | "signalingUrl" | "e2eeKey" | "whipUrl">
    > = {},
  ): void {
    Object.assign(this, patch);
    for (const c of this.#controllers) c.hostUpdate?.();
  }

  /** The element was removed from the page. */
  disconnect(): void {
    for (const c of this.#controllers) c.hostDisconnected?.();
  }

  [Symbol.dispose](): void {
    this.disconnect();
  }
}
