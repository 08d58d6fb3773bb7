import { html, LitElement, nothing, type PropertyValues } from "lit";
import type { ServerMessage, Welcome } from "../protocol/messages.ts";
import { DEFAULT_BUDGET, perViewerBitrate } from "./bitrate-budget.ts";
import { BroadcastPeers } from "./broadcast-peers.ts";
import { sharedStyles } from "./shared-styles.ts";
import { broadcasterStyles } from "./broadcaster-styles.ts";
import {
  type CameraError,
  type CaptureOptions,
  classifyCameraError,
  DEFAULT_CAPTURE,
  hasTorch,
  openCamera,
  openVideoTrack,
  setTorch,
} from "./camera.ts";
import { LiveErrorEvent, ViewerEvent } from "./live-events.ts";
import { PublishedState } from "./published-state.ts";
import { SignalingClient } from "./signaling-client.ts";
import {
  DEFAULT_ICE_SERVERS,
  defaultSignalingUrl,
  parseIceServers,
} from "./signaling-url.ts";
import { errorText, languageOf, pickStrings } from "./strings.ts";
import {
  BROADCASTER_EN,
  BROADCASTER_ZH_CN,
  type BroadcasterStrings,
} from "./broadcaster-strings.ts";
import {
  isAuthRefusal,
  StreamToken,
  type TokenProvider,
} from "./stream-token.ts";
import { ScreenWakeLock } from "./wake-lock.ts";

/** What the provider sees. */
export type BroadcasterState =
  | "idle"
  | "starting-camera"
  | "connecting"
  | "live"
  | "reconnecting"
  | "error";

/** What the provider asked for: the rest of the state follows from it. */
type Intent = "stopped" | "capturing" | "broadcasting";

/** How often a refused `broadcaster-ready` (stream taken) is tried again. */
const RETAKE_INTERVAL_MS = 5_000;

/** Everything render() reads that is not a public property. */
interface BroadcasterView {
  micOn: boolean;
  cameraOn: boolean;
  torchOn: boolean;
  hidden: boolean;
  viewerCount: number;
}

/**
 * Streams the camera live to every `<live-viewer>` with the same `stream-id`.
 *
 * @summary Broadcasts the camera and microphone to the stream's viewers.
 *
 * @attr stream-id - The stream to broadcast (an order id, say).
 * @attr signaling-url - WebSocket URL of the signaling server; default `/ws` on the origin the script came from.
 * @attr ice-servers - JSON array of RTCIceServer; default the seed's STUN server, or the server's list when it sends one.
 * @attr autostart - Start broadcasting as soon as the element is on the page.
 * @attr upload-budget - Video upload shared by all viewers, in kbit/s (default 4000; each viewer gets at most 1500).
 * @attr facing-mode - `environment` (back camera, default) or `user` (front).
 * @attr video-width - Requested width (default 1280).
 * @attr video-height - Requested height (default 720).
 * @attr no-audio - Send video only.
 * @attr ice-transport-policy - `all` (default) or `relay`: use only TURN relays.
 * @attr token - A broadcaster token for this stream, when the server requires one (SIGNAL_SECRET).
 * @attr state - Reflects the current state, for styling (read-only).
 *
 * @prop {BroadcasterState} state - The current state.
 * @prop {Partial<BroadcasterStrings>} strings - Overrides for any visible string.
 * @prop {number} viewerCount - Viewers in the stream, as the server counts them.
 * @prop {TokenProvider | undefined} tokenProvider - Called for a token before announcing, and again when the last one is about to expire: `({ streamId, role }) => Promise<string>`.
 *
 * @fires live-state-change - The state changed (`event.state`, `event.previous`).
 * @fires live-error - Camera or server problem (`event.code`: `permission-denied`, `no-camera`, `camera-in-use`, `insecure-context`, `camera-error`, `signaling-unavailable`, `stream-taken`, `token-*`, `replaced`, `turn-auth-failed`, ...).
 * @fires viewer-joined - A viewer arrived (`event.viewerId`, `event.viewerCount`).
 * @fires viewer-left - A viewer left (`event.viewerId`, `event.viewerCount`).
 *
 * @slot overlay - Custom content over the preview.
 *
 * @csspart preview - The preview box.
 * @csspart video - The muted preview `<video>`.
 * @csspart badge - The "LIVE" badge and viewer count.
 * @csspart message - The status or error message over the preview.
 * @csspart controls - The button bar.
 * @csspart start-button - The start/stop button.
 * @csspart notice - The "page hidden" notice.
 * @csspart viewer-list - The per-viewer connection list.
 *
 * @cssprop [--live-aspect-ratio=16 / 9] - Preview aspect ratio.
 * @cssprop [--live-background=#111] - Background.
 * @cssprop [--live-color=#fff] - Text color.
 * @cssprop [--live-font=14px/1.4 system-ui, sans-serif] - Font.
 * @cssprop [--live-radius=8px] - Corner radius.
 * @cssprop [--live-object-fit=cover] - How the preview fits.
 * @cssprop [--live-primary=#d21f3c] - Start button background.
 * @cssprop [--live-accent=#fff] - Other buttons' background.
 * @cssprop [--live-badge-background=#d21f3c] - "LIVE" badge background.
 * @cssprop [--live-notice-background=#7a5c00] - Notice background.
 * @cssprop [--live-focus-ring=#4c9ffe] - Keyboard focus outline.
 *
 * @cssstate idle - `state` is `idle`.
 * @cssstate starting-camera - `state` is `starting-camera`.
 * @cssstate connecting - `state` is `connecting`.
 * @cssstate live - `state` is `live`.
 * @cssstate reconnecting - `state` is `reconnecting`.
 * @cssstate error - `state` is `error`.
 */
export class LiveBroadcaster extends LitElement {
  static override styles = [sharedStyles, broadcasterStyles];
  static override properties = {
    streamId: { type: String, attribute: "stream-id", reflect: true },
    signalingUrl: { type: String, attribute: "signaling-url", reflect: true },
    iceServers: {
      attribute: "ice-servers",
      converter: { fromAttribute: parseIceServers },
    },
    autostart: { type: Boolean, reflect: true },
    uploadBudget: { type: Number, attribute: "upload-budget", reflect: true },
    facingMode: { type: String, attribute: "facing-mode", reflect: true },
    videoWidth: { type: Number, attribute: "video-width" },
    videoHeight: { type: Number, attribute: "video-height" },
    noAudio: { type: Boolean, attribute: "no-audio" },
    iceTransportPolicy: { type: String, attribute: "ice-transport-policy" },
    token: { type: String },
    tokenProvider: { attribute: false },
    strings: { attribute: false },
  };

  declare streamId: string | null;
  declare signalingUrl: string | null;
  declare iceServers: RTCIceServer[] | undefined;
  declare autostart: boolean;
  declare uploadBudget: number;
  declare facingMode: "environment" | "user";
  declare videoWidth: number;
  declare videoHeight: number;
  declare noAudio: boolean;
  declare iceTransportPolicy: RTCIceTransportPolicy;
  declare token: string | null;
  declare tokenProvider: TokenProvider | undefined;
  declare strings: Partial<BroadcasterStrings>;

  #state = new PublishedState<BroadcasterState>(this, "idle");
  /** Everything render() reads that is not a public property. */
  #view: BroadcasterView = {
    micOn: true,
    cameraOn: true,
    torchOn: false,
    hidden: false,
    viewerCount: 0,
  };
  #intent: Intent = "stopped";
  #stream: MediaStream | undefined;
  #cameraError: CameraError | undefined;
  #serverError: { code: string; message: string } | undefined;
  #accepted = false;
  #everAccepted = false;
  /** After `broadcaster-accepted`: the `viewer-joined` replay still to come. */
  #replay: { remaining: number; seen: Set<string> } | undefined;
  #retakeTimer: ReturnType<typeof setTimeout> | undefined;
  #signaling: SignalingClient | undefined;
  #serverIceServers: RTCIceServer[] | undefined;
  #wakeLock = new ScreenWakeLock();
  #bitrates: Promise<void> = Promise.resolve();
  #token = new StreamToken("broadcaster");
  #tokenRetried = false;
  #turnRefused = false;
  #peers = new BroadcastPeers({
    streamId: () => this.streamId!,
    send: (message) => this.#signaling?.send(message),
    rtcConfiguration: () => ({
      iceServers: this.iceServers ?? this.#serverIceServers ??
        DEFAULT_ICE_SERVERS,
      iceTransportPolicy: this.iceTransportPolicy,
    }),
    onTurnRefused: () => this.#onTurnRefused(),
    stream: () => this.#stream!,
    bitrateFor: (viewers) =>
      perViewerBitrate(viewers, {
        ...DEFAULT_BUDGET,
        totalKbps: this.uploadBudget,
      }),
    onChange: () => this.requestUpdate(),
  });
  #onVisibility = () => {
    this.#setView({ hidden: document.visibilityState === "hidden" });
  };

  constructor() {
    super();
    this.streamId = null;
    this.signalingUrl = null;
    this.iceServers = undefined;
    this.autostart = false;
    this.uploadBudget = DEFAULT_BUDGET.totalKbps;
    this.facingMode = DEFAULT_CAPTURE.facingMode;
    this.videoWidth = DEFAULT_CAPTURE.width;
    this.videoHeight = DEFAULT_CAPTURE.height;
    this.noAudio = false;
    this.iceTransportPolicy = "all";
    this.token = null;
    this.tokenProvider = undefined;
    this.strings = {};
  }

  /** The current state (also reflected as the `state` attribute). */
  get state(): BroadcasterState {
    return this.#state.current;
  }

  get viewerCount(): number {
    return this.#view.viewerCount;
  }

  /** Each connected viewer's id and RTCPeerConnection state. */
  get viewers(): { viewerId: string; state: RTCPeerConnectionState }[] {
    return this.#peers.states();
  }

  /** The captured stream while broadcasting. */
  get mediaStream(): MediaStream | undefined {
    return this.#stream;
  }

  /** Starts the camera and goes live. Never throws: failures become the `error` state. */
  async start(): Promise<void> {
    if (this.#intent !== "stopped") return;
    if (!this.streamId) {
      this.#serverError = {
        code: "missing-stream-id",
        message: "No stream-id attribute",
      };
      this.#update();
      return;
    }
    this.#cameraError = undefined;
    this.#serverError = undefined;
    this.#intent = "capturing";
    this.#update();
    let stream: MediaStream;
    try {
      stream = await openCamera(this.#capture());
    } catch (error) {
      if (this.#intent !== "capturing") return;
      this.#intent = "stopped";
      this.#cameraFailed(error);
      return;
    }
    // stop() or removal while the permission prompt was open.
    if (this.#intent !== "capturing") {
      for (const track of stream.getTracks()) track.stop();
      return;
    }
    this.#stream = stream;
    this.#intent = "broadcasting";
    this.#applyTrackSwitches();
    await this.updateComplete;
    this.#showPreview();
    this.#signaling = new SignalingClient({
      url: this.signalingUrl ?? defaultSignalingUrl(import.meta.url),
      onSession: (welcome) => this.#onSession(welcome),
      onMessage: (message) => this.#onMessage(message),
      onState: () => this.#onSignaling(),
    });
    this.#signaling.start();
    this.#update();
  }

  /** Stops broadcasting: viewers are told, every connection and track is closed. */
  stop(): void {
    if (this.#intent === "broadcasting" && this.streamId) {
      this.#signaling?.send({ type: "leave-stream", streamId: this.streamId });
    }
    this.#intent = "stopped";
    clearTimeout(this.#retakeTimer);
    this.#signaling?.close();
    this.#signaling = undefined;
    this.#peers.closeAll();
    for (const track of this.#stream?.getTracks() ?? []) track.stop();
    this.#stream = undefined;
    this.#accepted = false;
    this.#everAccepted = false;
    this.#replay = undefined;
    this.#serverError = undefined;
    // One-shot reactions belong to one run of the element.
    this.#tokenRetried = false;
    this.#turnRefused = false;
    this.#wakeLock.release();
    const video = this.renderRoot.querySelector("video");
    if (video) video.srcObject = null;
    this.#setView({ viewerCount: 0, torchOn: false });
    this.#update();
  }

  /** Mutes or unmutes the microphone (the track stays; viewers hear silence). */
  setMicrophone(on: boolean): void {
    this.#setView({ micOn: on });
    this.#applyTrackSwitches();
  }

  /** Turns the camera picture on or off (viewers see black, nothing renegotiates). */
  setCamera(on: boolean): void {
    this.#setView({ cameraOn: on });
    this.#applyTrackSwitches();
  }

  /**
   * Switches to another camera: `deviceId` when given, else the next camera,
   * else the other facing mode. Uses `replaceTrack` on every viewer's
   * connection, so nothing renegotiates.
   */
  async switchCamera(deviceId?: string): Promise<void> {
    const stream = this.#stream;
    const old = stream?.getVideoTracks()[0];
    if (!stream || !old) return;
    const target = deviceId ?? (await this.#nextCamera(old));
    const facingMode = this.facingMode === "user" ? "environment" : "user";
    const options: CaptureOptions = {
      ...this.#capture(),
      facingMode,
      deviceId: target,
    };
    let track: MediaStreamTrack;
    try {
      track = await openVideoTrack(options);
    } catch {
      // Phones often cannot open a second camera while one is open.
      old.stop();
      try {
        track = await openVideoTrack(options);
      } catch (error) {
        this.#cameraFailed(error);
        return;
      }
    }
    if (!deviceId) this.facingMode = facingMode;
    track.enabled = this.#view.cameraOn;
    await this.#peers.replaceTrack("video", track);
    stream.removeTrack(old);
    stream.addTrack(track);
    old.stop();
    this.#setView({ torchOn: false });
    this.#showPreview();
  }

  /** Cameras the browser offers (labels once permission was given). */
  async getCameras(): Promise<MediaDeviceInfo[]> {
    const devices = await navigator.mediaDevices.enumerateDevices();
    return devices.filter((device) => device.kind === "videoinput");
  }

  /** Turns the torch on or off where the camera has one. */
  async setTorch(on: boolean): Promise<void> {
    const track = this.#stream?.getVideoTracks()[0];
    if (!track || !hasTorch(track)) return;
    await setTorch(track, on);
    this.#setView({ torchOn: on });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    document.addEventListener("visibilitychange", this.#onVisibility);
    this.#update();
    if (this.autostart) this.start();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener("visibilitychange", this.#onVisibility);
    this.stop();
  }

  protected override updated(changed: PropertyValues<this>): void {
    const moved =
      (changed.has("streamId") && changed.get("streamId") !== undefined) ||
      (changed.has("signalingUrl") &&
        changed.get("signalingUrl") !== undefined);
    if (moved && this.#intent !== "stopped") {
      this.stop();
      this.start();
    }
    if (changed.has("uploadBudget")) {
      this.#bitrates = this.#peers.applyBitrates();
    }
  }

  /** Also waits for a changed upload budget to reach every connection. */
  protected override async getUpdateComplete(): Promise<boolean> {
    const result = await super.getUpdateComplete();
    await this.#bitrates;
    return result;
  }

  get #strings(): BroadcasterStrings {
    return {
      ...pickStrings(languageOf(this), BROADCASTER_EN, BROADCASTER_ZH_CN),
      ...this.strings,
    };
  }

  #capture(): CaptureOptions {
    return {
      ...DEFAULT_CAPTURE,
      width: this.videoWidth,
      height: this.videoHeight,
      facingMode: this.facingMode,
      audio: !this.noAudio,
    };
  }

  async #nextCamera(current: MediaStreamTrack): Promise<string | undefined> {
    const cameras = await this.getCameras();
    if (cameras.length < 2) return undefined;
    const currentId = current.getSettings().deviceId;
    const index = cameras.findIndex((camera) => camera.deviceId === currentId);
    return cameras[(index + 1) % cameras.length].deviceId || undefined;
  }

  #applyTrackSwitches(): void {
    for (const track of this.#stream?.getAudioTracks() ?? []) {
      track.enabled = this.#view.micOn;
    }
    for (const track of this.#stream?.getVideoTracks() ?? []) {
      track.enabled = this.#view.cameraOn;
    }
  }

  #showPreview(): void {
    const video = this.renderRoot.querySelector("video");
    if (!video || !this.#stream) return;
    video.srcObject = this.#stream;
    video.play().catch(() => {
      // Muted previews may autoplay; if not, the next user action plays it.
    });
    this.requestUpdate();
  }

  #onSession(welcome: Welcome): void {
    if (welcome.iceServers) this.#serverIceServers = welcome.iceServers;
    this.#accepted = false;
    this.#announce();
  }

  /** Sends `broadcaster-ready`, with a token when there is one. */
  async #announce(): Promise<void> {
    clearTimeout(this.#retakeTimer);
    const signaling = this.#signaling;
    let token: string | undefined;
    try {
      token = await this.#token.get(this, this.streamId!);
    } catch (error) {
      return this.#onServerError("token-provider-failed", String(error));
    }
    // Still the same connection: the provider may have been slow.
    if (signaling !== this.#signaling) return;
    signaling?.send({
      type: "broadcaster-ready",
      streamId: this.streamId!,
      ...(token ? { token } : {}),
    });
  }

  #onTurnRefused(): void {
    if (this.#turnRefused) return;
    this.#turnRefused = true;
    const message = "The TURN server refused the credentials";
    if (this.iceTransportPolicy === "relay") {
      this.#serverError = { code: "turn-auth-failed", message };
      this.#update();
    }
    this.#emit(new LiveErrorEvent("turn-auth-failed", message));
  }

  #onSignaling(): void {
    if (this.#signaling?.state !== "open") this.#accepted = false;
    this.#update();
  }

  #onMessage(message: ServerMessage): void {
    switch (message.type) {
      case "broadcaster-accepted":
        this.#accepted = true;
        this.#tokenRetried = false;
        if (message.iceServers) this.#serverIceServers = message.iceServers;
        this.#everAccepted = true;
        this.#serverError = undefined;
        this.#replay = { remaining: message.viewerCount, seen: new Set() };
        this.#setView({ viewerCount: message.viewerCount });
        if (message.viewerCount === 0) this.#finishReplay();
        this.#wakeLock.hold();
        break;
      case "viewer-joined":
        this.#countViewers(message.viewerCount);
        this.#onViewerJoined(message.viewerId);
        break;
      case "viewer-left":
        this.#countViewers(message.viewerCount);
        this.#peers.close(message.viewerId);
        this.#emit(
          new ViewerEvent("viewer-left", message.viewerId, this.#peers.size),
        );
        break;
      case "webrtc-answer":
        this.#peers.handleAnswer(message.viewerId, message.answer);
        break;
      case "webrtc-ice-candidate":
        this.#peers.handleCandidate(message.viewerId, message.candidate);
        break;
      case "error":
        this.#onServerError(message.code, message.message);
        break;
    }
    this.#update();
  }

  #onViewerJoined(viewerId: string): void {
    const replay = this.#replay;
    if (replay) {
      // After a reconnection: keep a connection that still works.
      replay.seen.add(viewerId);
      if (!this.#peers.isHealthy(viewerId)) this.#peers.connect(viewerId);
      if (--replay.remaining <= 0) this.#finishReplay();
    } else {
      // A viewer asking again wants a fresh connection.
      this.#peers.connect(viewerId);
    }
    this.#emit(
      new ViewerEvent("viewer-joined", viewerId, this.#peers.size),
    );
  }

  /** The server's count; absent from seed-protocol servers. */
  #countViewers(count: number | undefined): void {
    if (typeof count === "number") this.#setView({ viewerCount: count });
  }

  /** Connections to viewers the server no longer has (ids from before a restart). */
  #finishReplay(): void {
    const seen = this.#replay?.seen ?? new Set<string>();
    this.#replay = undefined;
    for (const { viewerId } of this.#peers.states()) {
      if (!seen.has(viewerId)) this.#peers.close(viewerId);
    }
  }

  #onServerError(code: string, message: string): void {
    if (code === "token-expired" && this.tokenProvider && !this.#tokenRetried) {
      // Expired on the way: one more try with a fresh token.
      this.#tokenRetried = true;
      this.#token.forget();
      this.#announce();
      return;
    }
    if (code === "replaced") {
      // Our own newer session has the stream: stop, do not fight for it.
      this.stop();
    } else if (code === "stream-taken" || code === "join-rate-limited") {
      // Often a stale session of ours that the server has not dropped yet.
      this.#retakeTimer = setTimeout(
        () => this.#announce(),
        RETAKE_INTERVAL_MS,
      );
    } else if (
      !isAuthRefusal(code) && code !== "invalid-stream-id" &&
      code !== "token-provider-failed"
    ) {
      console.warn(
        `live-broadcaster: server refused a message: ${code}: ${message}`,
      );
      return;
    }
    this.#serverError = { code, message };
    this.#update();
    this.#emit(new LiveErrorEvent(code, message));
  }

  /** Changes what render() shows; the one place that asks for a render. */
  #setView(patch: Partial<BroadcasterView>): void {
    this.#view = { ...this.#view, ...patch };
    this.requestUpdate();
  }

  /** The camera could not be opened: the `error` state and a `live-error`. */
  #cameraFailed(error: unknown): void {
    const failure = classifyCameraError(error);
    this.#cameraError = failure;
    this.#update();
    this.#emit(new LiveErrorEvent(failure.code, failure.message, error));
  }

  /** Fires one of the events listed under `@fires`. */
  #emit(event: Event): void {
    this.dispatchEvent(event);
  }

  /** Derives the state from the facts; the one place it changes. */
  #update(): void {
    const previous = this.#state.current;
    const next = this.#derive();
    if (
      next === "error" && previous !== "error" &&
      this.#signaling?.state === "waiting" && !this.#serverError
    ) {
      this.#emit(
        new LiveErrorEvent(
          "signaling-unavailable",
          "Cannot reach the signaling server",
        ),
      );
    }
    if (!this.#state.set(next)) return;
    if (previous === "live") this.#wakeLock.release();
    this.requestUpdate();
  }

  #derive(): BroadcasterState {
    if (this.#cameraError) return "error";
    if (this.#serverError && this.#serverError.code !== "stream-taken") {
      return "error";
    }
    switch (this.#intent) {
      case "stopped":
        return this.#serverError ? "error" : "idle";
      case "capturing":
        return "starting-camera";
      case "broadcasting":
        break;
    }
    if (this.#accepted) return "live";
    if (this.#serverError) return "error";
    const signaling = this.#signaling?.state;
    if (this.#everAccepted) return "reconnecting";
    // Never reached the server yet: say so, while retrying in the background.
    return signaling === "waiting" ? "error" : "connecting";
  }

  #message(strings: BroadcasterStrings): string | undefined {
    switch (this.#state.current) {
      case "idle":
        return strings.broadcasterIdle;
      case "starting-camera":
        return strings.broadcasterStartingCamera;
      case "connecting":
        return strings.broadcasterConnecting;
      case "live":
        return undefined;
      case "reconnecting":
        return strings.broadcasterReconnecting;
      case "error": {
        const code = this.#cameraError?.code ?? this.#serverError?.code ??
          "signaling-unavailable";
        return errorText(strings, code, strings.cameraError);
      }
    }
  }

  #retry(): void {
    if (this.#cameraError || this.#intent === "stopped") {
      this.stop();
      this.start();
    } else if (this.#serverError && this.#signaling?.state === "open") {
      // Refused by the server: ask again (with a fresh token, if provided).
      this.#serverError = undefined;
      this.#token.forget();
      this.#tokenRetried = false;
      this.#announce();
      this.#update();
    } else {
      this.#signaling?.reconnectNow();
    }
  }

  protected override render() {
    const strings = this.#strings;
    const message = this.#message(strings);
    const on = this.#intent !== "stopped";
    const live = this.#state.current === "live";
    const track = this.#stream?.getVideoTracks()[0];
    const front = track?.getSettings().facingMode === "user" ||
      (!track?.getSettings().facingMode && this.facingMode === "user");
    const { micOn, cameraOn, torchOn, hidden, viewerCount } = this.#view;
    const viewers = this.#peers.states();
    return html`
      <div part="preview" class="preview">
        <video part="video" class=${front
          ? "mirrored"
          : ""} muted playsinline></video>
        ${live
          ? html`
            <div part="badge" class="badge">
              <span class="live">${strings.live}</span>
              <span class="count">${strings.viewers.replace(
                "{count}",
                String(viewerCount),
              )}</span>
            </div>
          `
          : nothing}
        ${message
          ? html`<div part="message" class="message">
              <div>${message}</div>
              ${
            this.#state.current === "error"
              ? html`<button @click=${this.#retry}>${strings.retry}</button>`
              : nothing
          }
            </div>`
          : nothing}
        <slot name="overlay"></slot>
      </div>
      ${hidden && on
        ? html`<div part="notice" class="notice" role="alert">${strings.pageHidden}</div>`
        : nothing}
      <div part="controls" class="controls">
        <button part="start-button" class=${on ? "" : "primary"}
          @click=${() => (on ? this.stop() : this.start())}>${on
            ? strings.stop
            : strings.start}</button>
        ${on && this.#stream
          ? html`
            ${this.#stream.getAudioTracks().length
              ? html`
                <button aria-pressed=${micOn ? "false" : "true"}
                  @click=${() => this.setMicrophone(!micOn)}>${micOn
                    ? strings.muteMic
                    : strings.unmuteMic}</button>
              `
              : nothing}
            <button aria-pressed=${cameraOn ? "false" : "true"}
              @click=${() => this.setCamera(!cameraOn)}>${cameraOn
                ? strings.cameraOff
                : strings.cameraOn}</button>
            <button @click=${() => this.switchCamera()}>${strings
              .switchCamera}</button>
            ${hasTorch(track)
              ? html`
                <button aria-pressed=${torchOn ? "true" : "false"}
                  @click=${() => this.setTorch(!torchOn)}>${torchOn
                    ? strings.torchOff
                    : strings.torchOn}</button>
              `
              : nothing}
          `
          : nothing}
      </div>
      ${on
        ? html`
          <details part="viewer-list">
            <summary>${strings.viewerDetails} (${viewers.length})</summary>
            <ul>${viewers.map((v) =>
              html`<li>${v.viewerId}: ${v.state}</li>`
            )}</ul>
          </details>
        `
        : nothing}
      <div class="sr-only" role="status" aria-live="polite">${message ??
        strings.broadcasterLive}</div>
    `;
  }
}

if (!customElements.get("live-broadcaster")) {
  customElements.define("live-broadcaster", LiveBroadcaster);
}

declare global {
  interface HTMLElementTagNameMap {
    "live-broadcaster": LiveBroadcaster;
  }
}
