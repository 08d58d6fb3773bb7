import { html, LitElement, nothing, type PropertyValues } from "lit";
import type { ServerMessage, Welcome } from "../protocol/messages.ts";
import { type LiveStats, readStats } from "./connection-stats.ts";
import { LiveErrorEvent } from "./live-events.ts";
import { type PlaybackBlock, startPlayback } from "./playback.ts";
import { PublishedState } from "./published-state.ts";
import { SignalingClient, type SignalingState } from "./signaling-client.ts";
import {
  DEFAULT_ICE_SERVERS,
  defaultSignalingUrl,
  parseIceServers,
} from "./signaling-url.ts";
import { errorText, languageOf, pickStrings } from "./strings.ts";
import {
  VIEWER_EN,
  VIEWER_ZH_CN,
  type ViewerStrings,
} from "./viewer-strings.ts";
import {
  fullscreenIcon,
  pictureInPictureIcon,
  soundOffIcon,
  soundOnIcon,
} from "./viewer-icons.ts";
import {
  isAuthRefusal,
  StreamToken,
  type TokenProvider,
} from "./stream-token.ts";
import { ViewerPeer } from "./viewer-peer.ts";
import { sharedStyles } from "./shared-styles.ts";
import { viewerStyles } from "./viewer-styles.ts";

/** What the person sees, one text each. */
export type ViewerState =
  | "idle"
  | "connecting"
  | "waiting"
  | "negotiating"
  | "live"
  | "reconnecting"
  | "ended"
  | "error";

/** Whether the stream's broadcaster is there, as the server last said. */
type Presence = "unknown" | "waiting" | "present" | "left";

/** How long a failed connection waits for the broadcaster's own recovery before asking anew. */
const REJOIN_AFTER_FAILURE_MS = 3_000;
const STATS_INTERVAL_MS = 1_000;
/** How long a viewer refused for too many joins from its network waits. */
const RATE_LIMITED_RETRY_MS = 10_000;

/** Everything render() reads that is not a public property. */
interface ViewerView {
  block: PlaybackBlock;
  muted: boolean;
  stats?: LiveStats;
  frozen: boolean;
}

/**
 * Plays a live stream from a `<live-broadcaster>` with the same `stream-id`.
 *
 * @summary Shows a live camera stream, with its state explained to the person.
 *
 * @attr stream-id - The stream to watch (an order id, say).
 * @attr signaling-url - WebSocket URL of the signaling server; default `/ws` on the origin the script came from.
 * @attr ice-servers - JSON array of RTCIceServer; default the seed's STUN server, or the server's list when it sends one.
 * @attr ice-transport-policy - `all` (default) or `relay`: use only TURN relays.
 * @attr token - A viewer token for this stream, when the server requires one (SIGNAL_SECRET).
 * @attr stats - Show live statistics (resolution, fps, bitrate, round trip, candidate type).
 * @attr state - Reflects the current state, for styling (read-only).
 *
 * @prop {ViewerState} state - The current state.
 * @prop {Partial<ViewerStrings>} strings - Overrides for any visible string.
 * @prop {TokenProvider | undefined} tokenProvider - Called for a token before joining, and again when the last one is about to expire: `({ streamId, role }) => Promise<string>`.
 * @prop {RTCIceServer[] | undefined} iceServers - ICE servers for every connection (the attribute is JSON); default the seed's STUN server, or the server's list when it sends one.
 *
 * @fires live-state-change - The state changed (`event.state`, `event.previous`).
 * @fires live-error - Something failed (`event.code`, `event.message`).
 *
 * @slot overlay - Custom content over the video (a logo, an order number).
 *
 * @csspart video - The `<video>` element.
 * @csspart last-frame - The frozen last frame shown while not live.
 * @csspart overlay - The status overlay with its text and buttons.
 * @csspart status - The status text.
 * @csspart play-button - The "click to play" / "tap to unmute" button.
 * @csspart controls - The control bar.
 * @csspart badge - The "LIVE" badge.
 * @csspart stats - The statistics box.
 *
 * @cssprop [--live-aspect-ratio=16 / 9] - Box aspect ratio.
 * @cssprop [--live-background=#111] - Background behind the video.
 * @cssprop [--live-color=#fff] - Text color.
 * @cssprop [--live-font=14px/1.4 system-ui, sans-serif] - Font.
 * @cssprop [--live-radius=8px] - Corner radius.
 * @cssprop [--live-object-fit=contain] - How the video fits the box.
 * @cssprop [--live-overlay-background=rgb(0 0 0 / 55%)] - Overlay background.
 * @cssprop [--live-accent=#fff] - Button background.
 * @cssprop [--live-button-color=#111] - Button text.
 * @cssprop [--live-badge-background=#d21f3c] - "LIVE" badge background.
 * @cssprop [--live-focus-ring=#4c9ffe] - Keyboard focus outline.
 *
 * @cssstate idle - `state` is `idle`.
 * @cssstate connecting - `state` is `connecting`.
 * @cssstate waiting - `state` is `waiting`.
 * @cssstate negotiating - `state` is `negotiating`.
 * @cssstate live - `state` is `live`.
 * @cssstate reconnecting - `state` is `reconnecting`.
 * @cssstate ended - `state` is `ended`.
 * @cssstate error - `state` is `error`.
 */
export class LiveViewer extends LitElement {
  static override styles = [sharedStyles, viewerStyles];
  static override properties = {
    streamId: { type: String, attribute: "stream-id", reflect: true },
    signalingUrl: { type: String, attribute: "signaling-url", reflect: true },
    iceServers: {
      attribute: "ice-servers",
      converter: { fromAttribute: parseIceServers },
    },
    iceTransportPolicy: { type: String, attribute: "ice-transport-policy" },
    token: { type: String },
    tokenProvider: { attribute: false },
    showStats: { type: Boolean, attribute: "stats", reflect: true },
    strings: { attribute: false },
  };

  declare streamId: string | null;
  declare signalingUrl: string | null;
  declare iceServers: RTCIceServer[] | undefined;
  declare iceTransportPolicy: RTCIceTransportPolicy;
  declare token: string | null;
  declare tokenProvider: TokenProvider | undefined;
  declare showStats: boolean;
  declare strings: Partial<ViewerStrings>;

  #state = new PublishedState<ViewerState>(this, "idle");
  /** Everything render() reads that is not a public property. */
  #view: ViewerView = { block: "none", muted: false, frozen: false };
  #signaling: SignalingClient | undefined;
  #peer: ViewerPeer | undefined;
  #presence: Presence = "unknown";
  #media: RTCPeerConnectionState | "none" = "none";
  #hasStream = false;
  #everOpen = false;
  #fatal: { code: string; message: string } | undefined;
  #token = new StreamToken("viewer");
  #tokenRetried = false;
  #turnRefused = false;
  #serverIceServers: RTCIceServer[] | undefined;
  #rejoinTimer: ReturnType<typeof setTimeout> | undefined;
  #statsTimer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.streamId = null;
    this.signalingUrl = null;
    this.iceServers = undefined;
    this.iceTransportPolicy = "all";
    this.token = null;
    this.tokenProvider = undefined;
    this.showStats = false;
    this.strings = {};
  }

  /** The current state (also reflected as the `state` attribute). */
  get state(): ViewerState {
    return this.#state.current;
  }

  /** The `<video>` inside, for pages that want to measure or capture it. */
  get video(): HTMLVideoElement | null {
    return this.renderRoot.querySelector("video");
  }

  /** Current statistics of the connection, or `undefined` before one exists. */
  async getStats(): Promise<LiveStats | undefined> {
    const pc = this.#peer?.connection;
    return pc ? (await readStats(pc)).stats : undefined;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#start();
    this.#syncStatsTimer();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#stop();
    clearInterval(this.#statsTimer);
    this.#statsTimer = undefined;
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (
      this.isConnected &&
      (changed.has("streamId") || changed.has("signalingUrl")) &&
      (changed.get("streamId") !== undefined ||
        changed.get("signalingUrl") !== undefined)
    ) {
      this.#stop();
      this.#start();
    }
    if (changed.has("showStats") && this.isConnected) this.#syncStatsTimer();
  }

  get #strings(): ViewerStrings {
    return {
      ...pickStrings(languageOf(this), VIEWER_EN, VIEWER_ZH_CN),
      ...this.strings,
    };
  }

  #start(): void {
    if (!this.streamId) {
      this.#fatal = undefined;
      this.#update();
      return;
    }
    this.#presence = "unknown";
    this.#everOpen = false;
    this.#fatal = undefined;
    // One-shot reactions belong to one run of the element.
    this.#tokenRetried = false;
    this.#turnRefused = false;
    this.#peer = new ViewerPeer({
      streamId: () => this.streamId!,
      viewerId: () => this.#signaling?.clientId,
      send: (message) => this.#signaling?.send(message),
      rtcConfiguration: () => ({
        iceServers: this.iceServers ?? this.#serverIceServers ??
          DEFAULT_ICE_SERVERS,
        iceTransportPolicy: this.iceTransportPolicy,
      }),
      onTurnRefused: () => this.#onTurnRefused(),
      onStream: (stream) => this.#showStream(stream),
      onConnectionState: (state) => this.#onMedia(state),
    });
    this.#signaling = new SignalingClient({
      url: this.signalingUrl ?? defaultSignalingUrl(import.meta.url),
      onSession: (welcome) => this.#onSession(welcome),
      onMessage: (message) => this.#onMessage(message),
      onState: (state) => this.#onSignaling(state),
    });
    this.#signaling.start();
    this.#update();
  }

  #stop(): void {
    clearTimeout(this.#rejoinTimer);
    this.#signaling?.close();
    this.#signaling = undefined;
    this.#peer?.close();
    this.#peer = undefined;
    this.#hasStream = false;
    this.#media = "none";
    const video = this.video;
    if (video) video.srcObject = null;
  }

  #onSession(welcome: Welcome): void {
    this.#everOpen = true;
    if (welcome.iceServers) this.#serverIceServers = welcome.iceServers;
    this.#join();
    this.#update();
  }

  /** Sends `join-stream`, with a token when there is one. */
  async #join(): Promise<void> {
    const signaling = this.#signaling;
    let token: string | undefined;
    try {
      token = await this.#token.get(this, this.streamId!);
    } catch (error) {
      return this.#fail("token-provider-failed", String(error));
    }
    // Still the same connection: the provider may have been slow.
    if (signaling !== this.#signaling) return;
    signaling?.send({
      type: "join-stream",
      streamId: this.streamId!,
      ...(token ? { token } : {}),
    });
  }

  /** A failure retrying cannot fix: the error state, a `live-error`, no reconnecting. */
  #fail(code: string, message: string): void {
    this.#fatal = { code, message };
    this.#signaling?.close();
    this.#update();
    this.#emit(new LiveErrorEvent(code, message));
  }

  #onTurnRefused(): void {
    if (this.#turnRefused) return;
    this.#turnRefused = true;
    const message = "The TURN server refused the credentials";
    if (this.iceTransportPolicy === "relay") {
      this.#fail("turn-auth-failed", message);
    } else this.#emit(new LiveErrorEvent("turn-auth-failed", message));
  }

  #onSignaling(_state: SignalingState): void {
    // Only the server knew who was here; ask again once reconnected.
    if (this.#signaling?.state !== "open") this.#presence = "unknown";
    this.#update();
  }

  #onMessage(message: ServerMessage): void {
    switch (message.type) {
      case "join-accepted":
        this.#presence = message.live ? "present" : "waiting";
        if (message.iceServers) this.#serverIceServers = message.iceServers;
        this.#tokenRetried = false;
        break;
      case "broadcaster-joined":
        this.#presence = "present";
        break;
      case "broadcaster-left":
        this.#presence = "left";
        this.#freezeFrame();
        this.#peer?.close();
        break;
      case "webrtc-offer":
        this.#presence = "present";
        clearTimeout(this.#rejoinTimer);
        this.#peer?.handleOffer(message.offer);
        break;
      case "webrtc-ice-candidate":
        this.#peer?.handleCandidate(message.candidate);
        break;
      case "error":
        this.#onServerError(message.code, message.message);
        break;
    }
    this.#update();
  }

  #onServerError(code: string, message: string): void {
    if (code === "token-expired" && this.tokenProvider && !this.#tokenRetried) {
      // Expired on the way: one more try with a fresh token.
      this.#tokenRetried = true;
      this.#token.forget();
      this.#join();
    } else if (code === "join-rate-limited") {
      this.#rejoinTimer = setTimeout(() => this.#join(), RATE_LIMITED_RETRY_MS);
    } else if (
      isAuthRefusal(code) || code === "stream-full" ||
      code === "invalid-stream-id" || code === "invalid-field"
    ) {
      // Refusals that retrying cannot fix.
      this.#fail(code, message);
    } else {
      console.warn(
        `live-viewer: server refused a message: ${code}: ${message}`,
      );
    }
  }

  #onMedia(state: RTCPeerConnectionState | "closed"): void {
    this.#media = state;
    clearTimeout(this.#rejoinTimer);
    if (state === "failed" || state === "disconnected") {
      this.#freezeFrame();
      // The broadcaster retries by itself; if nothing new comes, ask for it.
      this.#rejoinTimer = setTimeout(() => {
        if (this.#media === "failed" || this.#media === "disconnected") {
          this.#join();
        }
      }, REJOIN_AFTER_FAILURE_MS);
    }
    this.#update();
  }

  async #showStream(stream: MediaStream): Promise<void> {
    const video = this.video;
    if (!video) return;
    this.#hasStream = true;
    if (video.srcObject !== stream) video.srcObject = stream;
    video.requestVideoFrameCallback?.(() => {
      this.#setView({ frozen: false });
    });
    const block = await startPlayback(video, !this.#view.muted);
    if (block !== "aborted") {
      this.#setView({ block, muted: video.muted });
    }
    this.#update();
  }

  /** Keeps the last frame visible while there is no video (never a black box). */
  #freezeFrame(): void {
    const video = this.video;
    const canvas = this.renderRoot.querySelector("canvas");
    if (!video || !canvas || !video.videoWidth || this.#view.frozen) return;
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d")?.drawImage(video, 0, 0);
    this.#setView({ frozen: true });
  }

  /** Changes what render() shows; the one place that asks for a render. */
  #setView(patch: Partial<ViewerView>): void {
    this.#view = { ...this.#view, ...patch };
    this.requestUpdate();
  }

  /** Fires one of the events listed under `@fires`. */
  #emit(event: Event): void {
    this.dispatchEvent(event);
  }

  /** Derives the state from the facts; the one place it changes. */
  #update(): void {
    if (this.#state.set(this.#derive())) this.requestUpdate();
  }

  #derive(): ViewerState {
    if (this.#fatal) return "error";
    if (!this.streamId) return "idle";
    // Video flows peer to peer even while the signaling socket is down.
    if (this.#media === "connected" && this.#hasStream) return "live";
    const signaling = this.#signaling?.state ?? "idle";
    if (signaling !== "open") {
      return this.#everOpen ? "reconnecting" : "connecting";
    }
    switch (this.#presence) {
      case "unknown":
        return "connecting";
      case "waiting":
        return "waiting";
      case "left":
        return "ended";
      case "present":
        return this.#media === "failed" || this.#media === "disconnected"
          ? "reconnecting"
          : "negotiating";
    }
  }

  #syncStatsTimer(): void {
    clearInterval(this.#statsTimer);
    this.#statsTimer = undefined;
    if (!this.showStats) return;
    let previous: { bytes: number; at: number } | undefined;
    this.#statsTimer = setInterval(async () => {
      const pc = this.#peer?.connection;
      if (!pc) return;
      const { stats, sample } = await readStats(pc, previous);
      previous = sample;
      this.#setView({ stats });
    }, STATS_INTERVAL_MS);
  }

  #statusText(strings: ViewerStrings): string {
    switch (this.#state.current) {
      case "idle":
        return strings.viewerIdle;
      case "connecting":
        return strings.viewerConnecting;
      case "waiting":
        return strings.viewerWaiting;
      case "negotiating":
        return strings.viewerNegotiating;
      case "live":
        return strings.viewerLive;
      case "reconnecting":
        return strings.viewerReconnecting;
      case "ended":
        return strings.viewerEnded;
      case "error":
        return this.#fatal
          ? errorText(strings, this.#fatal.code, strings.viewerError)
          : strings.viewerError;
    }
  }

  async #onPlayClick(): Promise<void> {
    const video = this.video;
    if (!video) return;
    // Inside the click: the gesture lets sound start too.
    const block = await startPlayback(video, true);
    if (block !== "aborted") {
      this.#setView({ block, muted: video.muted });
    }
  }

  #toggleMute(): void {
    const video = this.video;
    if (!video) return;
    video.muted = !video.muted;
    this.#setView({
      muted: video.muted,
      block: this.#view.block === "muted" ? "none" : this.#view.block,
    });
  }

  async #toggleFullscreen(): Promise<void> {
    if (document.fullscreenElement) await document.exitFullscreen();
    else await this.requestFullscreen?.();
  }

  async #togglePictureInPicture(): Promise<void> {
    const video = this.video;
    if (!video) return;
    if (document.pictureInPictureElement) await document.exitPictureInPicture();
    else await video.requestPictureInPicture();
  }

  protected override render() {
    const strings = this.#strings;
    const status = this.#statusText(strings);
    const live = this.#state.current === "live";
    const { block, muted, stats, frozen } = this.#view;
    const showOverlay = !live || block === "gesture";
    const pipSupported = "pictureInPictureEnabled" in document &&
      document.pictureInPictureEnabled;
    return html`
      <div class="stage">
        <video part="video" playsinline></video>
        <canvas part="last-frame" ?hidden=${!frozen || live}></canvas>
        ${live
          ? html`<span part="badge" class="badge">${strings.live}</span>`
          : nothing}
        <div part="overlay" class="overlay" ?hidden=${!showOverlay}>
          ${block === "gesture" && this.#hasStream
            ? html`<button part="play-button" @click=${this.#onPlayClick}>${strings.clickToPlay}</button>`
            : html`
              ${this.#state.current === "error" ||
                  this.#state.current === "waiting" ||
                  this.#state.current === "ended"
                ? nothing
                : html`<div class="spinner" aria-hidden="true"></div>`}
              <div part="status">${status}</div>
            `}
        </div>
        ${live && block === "muted"
          ? html`
            <div class="overlay" style="background:none;pointer-events:none">
              <button part="play-button" style="pointer-events:auto" @click=${this
                .#toggleMute}>
                            ${strings.tapToUnmute}
                          </button>
            </div>
          `
          : nothing}
        ${live
          ? html`<div part="controls" class="controls">
              <button @click=${this.#toggleMute} aria-pressed=${
            muted ? "true" : "false"
          }
                aria-label=${muted ? strings.unmute : strings.mute}>${
            muted ? soundOffIcon : soundOnIcon
          }</button>
              <button @click=${this.#toggleFullscreen} aria-label=${strings.fullscreen}>${fullscreenIcon}</button>
              ${
            pipSupported
              ? html`<button @click=${this.#togglePictureInPicture} aria-label=${strings.pictureInPicture}>${pictureInPictureIcon}</button>`
              : nothing
          }
            </div>`
          : nothing}
        ${this.showStats && stats
          ? html`<div part="stats" class="stats">${formatStats(stats)}</div>`
          : nothing}
        <slot name="overlay"></slot>
      </div>
      <div class="sr-only" role="status" aria-live="polite">${status}</div>
    `;
  }
}

function formatStats(stats: LiveStats): string {
  const lines = [
    stats.width ? `${stats.width}x${stats.height}` : undefined,
    stats.framesPerSecond !== undefined
      ? `${Math.round(stats.framesPerSecond)} fps`
      : undefined,
    stats.bitrate !== undefined
      ? `${Math.round(stats.bitrate / 1000)} kbit/s`
      : undefined,
    stats.roundTripTime !== undefined
      ? `RTT ${Math.round(stats.roundTripTime * 1000)} ms`
      : undefined,
    stats.candidateType,
  ];
  return lines.filter(Boolean).join("\n");
}

if (!customElements.get("live-viewer")) {
  customElements.define("live-viewer", LiveViewer);
}

declare global {
  interface HTMLElementTagNameMap {
    "live-viewer": LiveViewer;
  }
}
