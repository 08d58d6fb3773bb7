import { html, nothing, type PropertyValues } from "lit";
import {
  type BitrateBudget,
  DEFAULT_BUDGET,
  perViewerBitrate,
} from "./media/bitrate-budget.ts";
import { BroadcastPeers } from "./session/broadcast-peers.ts";
import { fellSilent } from "./session/path-silence.ts";
import {
  broadcasterError,
  type BroadcasterFacts,
  type BroadcasterState,
  broadcasterState,
  INITIAL_BROADCASTER_FACTS,
  type Intent,
} from "./state/broadcaster-state.ts";
import {
  BROADCASTER_STRINGS,
  type BroadcasterStrings,
} from "./ui/broadcaster-strings.ts";
import { broadcasterStyles } from "./ui/broadcaster-styles.ts";
import { type CaptureOptions, DEFAULT_CAPTURE } from "./media/camera.ts";
import {
  BROADCASTER_ERRORS,
  type ErrorKey,
  type LiveErrorCode,
} from "./session/error-policy.ts";
import { errorKey } from "./ui/error-keys.ts";
import { LiveErrorEvent, ViewerEvent } from "./live-events.ts";
import { LocalCamera } from "./media/local-camera.ts";
import { StateMachine } from "./state/state-machine.ts";
import { sharedStyles } from "./ui/shared-styles.ts";
import type { SignalingState } from "./session/signaling-client.ts";
import { StreamElement } from "./stream-element.ts";
import {
  BROADCASTER_HEARTBEAT,
  type SessionError,
  type StreamMessage,
} from "./session/stream-session.ts";
import type { SfuAnswer, SfuPublish } from "../protocol/messages.ts";
import type { SfuUplink } from "./session/sfu-uplink.ts";
import type { HttpMediaSession } from "./session/http-media-session.ts";
import { ScreenWakeLock } from "./media/wake-lock.ts";
import { BROADCASTER_MESSAGES } from "../protocol/parse-server-message.ts";

export type { BroadcasterState } from "./state/broadcaster-state.ts";

/** The message over the preview in each state but `live` (none) and `error`. */
const MESSAGE_KEYS = {
  idle: "broadcasterIdle",
  "starting-camera": "broadcasterStartingCamera",
  connecting: "broadcasterConnecting",
  reconnecting: "broadcasterReconnecting",
} as const satisfies Record<
  Exclude<BroadcasterState, "live" | "error">,
  keyof BroadcasterStrings
>;

/** Everything render() reads that is neither a property nor the state. */
interface BroadcasterView {
  hidden: boolean;
  /** The stream's viewers as the server counts them (our peers on a seed server). */
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
 * @attr token - A broadcaster token for this stream, when the server requires one (SIGNAL_SECRET); with `whip-url`, the endpoint's Bearer token.
 * @attr whip-url - Publish to this WHIP endpoint (any standard one: ours, a media server's) instead of the signaling server. Use it without `stream-id`.
 * @attr state - Reflects the current state, for styling (read-only).
 *
 * @prop {BroadcasterState} state - The current state.
 * @prop {Partial<BroadcasterStrings>} strings - Overrides for any visible string.
 * @prop {number} viewerCount - Viewers in the stream, as the server counts them.
 * @prop {TokenProvider | undefined} tokenProvider - Called for a token before announcing, and again when the last one is about to expire: `({ streamId, role }) => Promise<string>`.
 * @prop {E2eeKey | undefined} e2eeKey - The stream's end-to-end encryption key, a property only (never in the DOM, the server or a URL): `{ epoch, key }` or a bare key (epoch 0), `key` being 16-64 random bytes as base64url text, a `Uint8Array` or an `ArrayBuffer`. With it every frame, video and audio, is encrypted in the browser before it leaves, peer to peer and through the SFU, and only viewers with the key are connected. Set a new value with a higher epoch to rotate (viewers get it from their `e2eeKeyProvider`). Once given, the element never streams in the clear; not with `whip-url` (`e2ee-unsupported`). Loads the encryption code (a chunk and a worker) the first time.
 * @prop {E2eeKeyProvider | undefined} e2eeKeyProvider - Asked for epoch 0's key when no `e2eeKey` is given: `(streamId, epoch) => Promise<E2eeKey>`. The element announces itself once it answers (it never sends clear frames, so it could not stream before); a provider that gives no key fails it (`e2ee-key-invalid`), and `start()` asks again.
 *
 * @fires live-state-change - The state changed (`event.state`, `event.previous`).
 * @fires live-error - Camera or server problem (`event.code`: `permission-denied`, `no-camera`, `camera-in-use`, `insecure-context`, `camera-error`, `signaling-unavailable`, `stream-taken`, `token-*`, `replaced`, `turn-auth-failed`, `negotiation-failed` (a viewer's answer refused: that viewer is retried, then left; the state stays), `e2ee-key-invalid`, `e2ee-unsupported` (end-to-end encryption as asked is not possible: the `error` state, nothing sent), ...: a `LiveErrorCode`).
 * @fires viewer-joined - A viewer arrived (`event.viewerId`, `event.viewerCount`: the server's count, the same as the `viewerCount` property); once per viewer id, not again when it joins again to repair its picture or is named again after a reconnection (a viewer whose resume claim was refused comes back under a new id: the `viewerCount` property is the count to show).
 * @fires viewer-left - A viewer left (`event.viewerId`, `event.viewerCount`: the server's count, the same as the `viewerCount` property); only one `viewer-joined` was fired for. Also for a viewer gone while this broadcaster was away (not named again 30 s after its reconnection), and for a viewer's old id once its connection under a new id (a claim refused after a server restart with a rotated key) took over; through the SFU, a viewer gone meanwhile is not told.
 *
 * @slot overlay - Custom content over the preview.
 *
 * @csspart preview - The preview box.
 * @csspart video - The muted preview `<video>`.
 * @csspart badge - The "LIVE" badge and viewer count.
 * @csspart message - The status or error message over the preview.
 * @csspart controls - The button bar.
 * @csspart start-button - The start/stop button.
 * @csspart microphone-button - The microphone mute button.
 * @csspart camera-button - The camera picture on/off button.
 * @csspart switch-camera-button - The switch camera button.
 * @csspart torch-button - The torch button (where the camera has one).
 * @csspart retry-button - The "Try again" button under an error.
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
 * @cssprop [--live-button-color=#111] - Other buttons' text.
 * @cssprop [--live-pressed=#555] - A pressed toggle's background (microphone or camera off, torch on).
 * @cssprop [--live-overlay-background=rgb(0 0 0 / 55%)] - Overlay background.
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
export class LiveBroadcaster extends StreamElement {
  static override styles = [sharedStyles, broadcasterStyles];
  protected override get builtInStrings(): typeof BROADCASTER_STRINGS {
    return BROADCASTER_STRINGS;
  }
  static override properties = {
    autostart: { type: Boolean, reflect: true },
    uploadBudget: { type: Number, attribute: "upload-budget", reflect: true },
    // Text attributes have no `type` (stream-element.ts).
    facingMode: { attribute: "facing-mode", reflect: true },
    videoWidth: { type: Number, attribute: "video-width" },
    videoHeight: { type: Number, attribute: "video-height" },
    noAudio: { type: Boolean, attribute: "no-audio" },
    strings: { attribute: false },
    whipUrl: { attribute: "whip-url" },
  };

  declare autostart: boolean;
  declare uploadBudget: number;
  declare facingMode: "environment" | "user";
  declare videoWidth: number;
  declare videoHeight: number;
  declare noAudio: boolean;
  declare strings: Partial<BroadcasterStrings>;
  declare whipUrl: string | null;
  /** Publishing to a WHIP endpoint instead of the signaling server. */
  #whip: HttpMediaSession | undefined;

  #machine = new StateMachine(
    this,
    INITIAL_BROADCASTER_FACTS,
    broadcasterState,
  );
  #view: BroadcasterView = { hidden: false, viewerCount: 0 };
  #bitrates: Promise<void> = Promise.resolve();
  #wakeLock = new ScreenWakeLock(this);
  #peers: BroadcastPeers = new BroadcastPeers(this.session, {
    stream: () => this.#camera.stream!,
    bitrateFor: (viewers) => perViewerBitrate(viewers, this.#budget()),
    onChange: () => this.requestUpdate(),
    onPathLost: () => this.session.checkConnection(),
    onRefused: (viewerId, error) =>
      this.session.report(
        "negotiation-failed",
        `The browser refused viewer ${viewerId}'s answer: ${error}`,
        error,
      ),
    onGone: (viewerId) => this.#left(viewerId),
  });
  /** The SFU connection: a chunk, loaded when a stream first moves to the SFU. */
  #uplink: SfuUplink | undefined;
  /** The viewers `viewer-joined` was fired for (and no `viewer-left` yet). */
  #viewers = new Set<string>();
  #uplinkLoad: Promise<SfuUplink> | undefined;
  #camera: LocalCamera = new LocalCamera({
    replace: (track) =>
      Promise.all([
        this.#peers.replaceTrack(track.kind, track),
        this.#uplink?.replaceTrack(track.kind, track),
        this.#whip?.connection?.getSenders()
          .find((sender) => sender.track?.kind === track.kind)
          ?.replaceTrack(track),
        // A sender that refuses is closed or being rebuilt (from the stream,
        // which has the new track): no camera error.
      ]).then(() => {}, () => {}),
    onChange: () => this.#showPreview(),
    // No camera again: the error a start would have had.
    onLost: (error) => this.#cameraFailed(error, "broadcasting"),
  });
  #onVisibility = () => {
    this.#setView({ hidden: document.visibilityState === "hidden" });
  };

  constructor() {
    super({
      role: "broadcaster",
      admit: "broadcaster-ready",
      auto: false,
      messages: BROADCASTER_MESSAGES,
      errors: BROADCASTER_ERRORS,
      signaling: BROADCASTER_HEARTBEAT,
    });
    this.autostart = false;
    this.uploadBudget = DEFAULT_BUDGET.totalKbps;
    this.facingMode = DEFAULT_CAPTURE.facingMode;
    this.videoWidth = DEFAULT_CAPTURE.width;
    this.videoHeight = DEFAULT_CAPTURE.height;
    this.noAudio = false;
    this.strings = {};
    this.whipUrl = null;
  }

  /** The current state (also reflected as the `state` attribute). */
  get state(): BroadcasterState {
    return this.#machine.state;
  }

  /** Viewers in the stream, as the server counts them. */
  get viewerCount(): number {
    return this.#view.viewerCount;
  }

  /** Each connected viewer's id and RTCPeerConnection state. */
  get viewers(): { viewerId: string; state: RTCPeerConnectionState }[] {
    return this.#peers.states();
  }

  /** The captured stream while broadcasting. */
  get mediaStream(): MediaStream | undefined {
    return this.#camera.stream;
  }

  /** Starts the camera and goes live. Never throws: failures become the `error` state. */
  async start(): Promise<void> {
    if (this.#machine.facts.intent !== "stopped") return;
    if (!this.streamId && !this.whipUrl) {
      return this.session.report(
        "missing-stream-id",
        "No stream-id attribute",
      );
    }
    this.#apply(
      { intent: "capturing", failure: undefined, refusal: undefined },
      "start",
    );
    try {
      // False: stop() or removal while the permission prompt was open.
      if (!(await this.#camera.open(this.#capture()))) return;
    } catch (error) {
      return this.#cameraFailed(error, "capturing");
    }
    this.#apply({ intent: "broadcasting" }, "camera started");
    await this.updateComplete;
    if (!this.#still("broadcasting")) return;
    this.#showPreview();
    if (this.whipUrl) await this.#publishWhip(this.whipUrl);
    else this.session.open();
  }

  /** Stops broadcasting: viewers are told, every connection and track is closed. */
  stop(): void {
    this.#release();
    this.#apply(INITIAL_BROADCASTER_FACTS, "stopped");
  }

  /** Mutes or unmutes the microphone (the track stays; viewers hear silence). */
  setMicrophone(on: boolean): void {
    this.#camera.setMicrophone(on);
  }

  /** Turns the camera picture on or off (viewers see black, nothing renegotiates). */
  setCamera(on: boolean): void {
    this.#camera.setCamera(on);
  }

  /**
   * Switches to another camera: `deviceId` when given, else the next camera,
   * else the other facing mode. Uses `replaceTrack` on every viewer's
   * connection, so nothing renegotiates.
   */
  async switchCamera(deviceId?: string): Promise<void> {
    if (!this.#camera.stream) return;
    const facingMode = this.facingMode === "user" ? "environment" : "user";
    try {
      // Not switched (closed, or a lost camera opened again first): the
      // facing mode stays the one in use.
      if (
        !await this.#camera.switchTo({
          ...this.#capture(),
          facingMode,
          deviceId,
        })
      ) return;
    } catch (error) {
      return this.#cameraFailed(error);
    }
    if (!deviceId) this.facingMode = facingMode;
    this.#showPreview();
  }

  /** Cameras the browser offers (labels once permission was given). */
  async getCameras(): Promise<MediaDeviceInfo[]> {
    const { listCameras } = await import("./media/camera-switch.ts");
    return listCameras();
  }

  /** Turns the torch on or off where the camera has one. */
  async setTorch(on: boolean): Promise<void> {
    await this.#camera.setTorch(on);
  }

  protected override arrived(): void {
    document.addEventListener("visibilitychange", this.#onVisibility);
    // Publishes the first state (the attribute).
    this.#apply({}, "on the page");
    if (this.autostart) this.start();
  }

  protected override left(): void {
    document.removeEventListener("visibilitychange", this.#onVisibility);
    this.stop();
  }

  protected override updated(changed: PropertyValues<this>): void {
    // Another endpoint while on: publish there instead.
    if (
      changed.has("whipUrl") && changed.get("whipUrl") !== undefined &&
      this.#machine.facts.intent === "broadcasting"
    ) {
      this.stop();
      void this.start();
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

  /** Every change of the facts comes here; the machine publishes and logs. */
  #apply(patch: Partial<BroadcasterFacts>, reason: string): void {
    const previous = this.#machine.apply(patch, reason);
    if (previous === undefined) return;
    if (previous === "live") this.#wakeLock.release();
    this.requestUpdate();
  }

  /** Whether `intent` is still what the provider wants, after an await. */
  #still(intent: Intent): boolean {
    return this.#machine.facts.intent === intent;
  }

  /** Closes the session, every connection and track; the facts are the caller's. */
  #release(): void {
    this.#whip?.stop();
    this.#whip = undefined;
    this.session.close();
    this.#peers.closeAll();
    this.#viewers.clear();
    this.#uplink?.close();
    this.#camera.close();
    this.#wakeLock.release();
    const video = this.renderRoot.querySelector("video");
    if (video) video.srcObject = null;
    this.#setView({ viewerCount: 0 });
  }

  protected override onStreamChange(): void {
    // The old stream's viewers are gone from this session.
    this.#peers.closeAll();
    this.#viewers.clear();
    this.#uplink?.close();
    this.#setView({ viewerCount: 0 });
    this.#apply(
      { accepted: false, everAccepted: false, refusal: undefined },
      "stream changed",
    );
    if (this.#machine.facts.intent === "broadcasting" && !this.streamId) {
      this.session.report("missing-stream-id", "The stream-id was removed");
    }
  }

  protected override onSignaling(state: SignalingState): void {
    const { accepted, everAccepted, refusal } = this.#machine.facts;
    this.#apply({
      accepted: accepted && state === "open",
      refusal: refusal === "signaling-unavailable" && state === "open"
        ? undefined
        : refusal,
    }, `signaling ${state}`);
    if (state === "waiting" && !everAccepted && !this.#machine.facts.refusal) {
      // Never reached the server yet: say so, while retrying in the background.
      this.session.report(
        "signaling-unavailable",
        "Cannot reach the signaling server",
      );
    }
  }

  protected override onStreamMessage(message: StreamMessage): void {
    switch (message.type) {
      case "broadcaster-accepted":
        this.#peers.accepted(message.viewerCount, {
          resumed: this.session.resumed,
          restart: this.session.networkSuspect,
        });
        this.#uplink?.rejoined(this.session.networkSuspect);
        this.#countViewers(message.viewerCount);
        this.#wakeLock.hold();
        return this.#apply(
          { accepted: true, everAccepted: true, refusal: undefined },
          "accepted",
        );
      case "viewer-joined":
        // Through the SFU the viewer is counted, not connected to.
        if (!message.sfu) {
          const { viewerId, session, restart, keyFrame } = message;
          this.#peers.join(viewerId, session, restart, keyFrame);
        }
        this.#countViewers(message.viewerCount);
        // Once per viewer: it joins again to repair its picture, and every
        // viewer is named again after our own reconnection.
        if (this.#viewers.has(message.viewerId)) return;
        this.#viewers.add(message.viewerId);
        return this.#emitViewer("viewer-joined", message.viewerId);
      case "viewer-left":
        this.#peers.close(message.viewerId);
        this.#countViewers(message.viewerCount);
        return this.#left(message.viewerId);
      // It watches through the SFU now: still a viewer, no longer ours.
      case "viewer-moved":
        return this.#peers.close(message.viewerId);
      case "webrtc-answer":
        return this.#peers.handleAnswer(message.viewerId, message.answer);
      case "webrtc-ice-candidate":
        return this.#peers.handleCandidate(message.viewerId, message.candidate);
      // Through the SFU: one connection up, whatever the number of viewers.
      case "sfu-publish":
      case "sfu-answer":
        return void this.#sfu(message);
      // Pause the layers no viewer gets.
      case "sfu-layers":
        return this.#uplink?.layers(message.rids);
    }
  }

  protected override onNetworkChange(): void {
    this.#peers.restartBroken();
    if (this.#uplink?.state !== "connected") void this.#uplink?.restart();
  }

  protected override onSessionError(error: SessionError): void {
    if (error.fatal) this.#fail(error.code);
    else if (error.shown) {
      this.#apply({ refusal: error.code }, error.code);
    }
    this.#tell(error.code, error.message, error.cause);
  }

  /**
   * `live-error`. The event is made apart from `dispatchEvent` so the
   * manifest's analyzer does not take the code for an event's name.
   */
  #tell(code: LiveErrorCode, message: string, cause?: unknown): void {
    const event = new LiveErrorEvent(code, message, cause);
    this.dispatchEvent(event);
  }

  /** The upload budget: `upload-budget` with the default floor and ceiling. */
  #budget(): BitrateBudget {
    return { ...DEFAULT_BUDGET, totalKbps: this.uploadBudget };
  }

  /**
   * Hands `message` to the SFU connection, loading its chunk the first
   * time; not when the element moved to another stream while it loaded.
   */
  async #sfu(message: SfuPublish | SfuAnswer): Promise<void> {
    const uplink = await (this.#uplinkLoad ??= import(
      "./session/sfu-uplink.ts"
    ).then(({ SfuUplink }) =>
      this.#uplink = new SfuUplink(this.session, {
        stream: () => this.#camera.stream!,
        budget: () => this.#budget(),
        onChange: () => this.requestUpdate(),
        fellSilent,
        onPathLost: () => this.session.checkConnection(),
      })
    ).catch((error) => {
      // Not loaded (offline a moment?): the next sfu-publish tries again.
      this.#uplinkLoad = undefined;
      throw error;
    })).catch((error) => {
      console.warn("live-broadcaster: the SFU connection did not load", error);
    });
    if (uplink && this.session.streamId === message.streamId) {
      await uplink.handle(message);
    }
  }

  /**
   * With `whip-url`: one connection to that endpoint, no signaling server
   * (the WHIP client is a chunk of its own, loaded only here). The camera
   * goes up in the same simulcast layers as to our SFU.
   */
  async #publishWhip(url: string): Promise<void> {
    let chunk: typeof import("./session/whip-publisher.ts");
    let addCamera: typeof import("./session/sfu-uplink.ts").addCamera;
    try {
      [chunk, { addCamera }] = await Promise.all([
        import("./session/whip-publisher.ts"),
        import("./session/sfu-uplink.ts"),
        // With a key it refuses a WHIP endpoint (e2ee.ts): before any offer.
        this.session.e2eeReady(),
      ]);
    } catch (error) {
      // Its chunk did not load (offline, not served beside the bundle).
      const code = "signaling-unavailable";
      this.#fail(code);
      return this.#tell(code, "The WHIP client did not load", error);
    }
    if (!this.#still("broadcasting") || this.#whip) return;
    this.#whip = chunk.whipPublisher({
      url,
      token: () => this.token,
      newConnection: () => this.session.newConnection(),
      setup: (pc) => addCamera(pc, this.#camera.stream!, this.#budget()),
      apply: (patch, reason) => this.#apply(patch, reason),
      everAccepted: () => this.#machine.facts.everAccepted,
      onLive: () => this.#wakeLock.hold(),
      errors: BROADCASTER_ERRORS,
      fellSilent,
      onError: (code, message, fatal) => {
        if (fatal) this.#fail(code);
        this.#tell(code, message);
      },
    });
    await this.#whip.start();
  }

  /** A failure for good: everything released, the `error` state. */
  #fail(code: LiveErrorCode): void {
    this.#release();
    this.#apply({ ...INITIAL_BROADCASTER_FACTS, failure: code }, code);
  }

  /** The server's count; a seed-protocol server sends none, so count peers. */
  #countViewers(count: number | undefined): void {
    this.#setView({
      viewerCount: typeof count === "number" ? count : this.#peers.size,
    });
  }

  /** `viewer-left`, only for one it told of (not a viewer refused before pairing). */
  #left(viewerId: string): void {
    if (this.#viewers.delete(viewerId)) {
      this.#emitViewer("viewer-left", viewerId);
    }
  }

  #emitViewer(type: "viewer-joined" | "viewer-left", viewerId: string): void {
    const event = new ViewerEvent(type, viewerId, this.viewerCount);
    this.dispatchEvent(event);
  }

  /**
   * The camera could not be opened: a fatal failure, by the error policy
   * (unless `intent` is no longer what the provider wants). Rare: the
   * classification is a chunk; not loaded (offline), a `camera-error`.
   */
  async #cameraFailed(error: unknown, intent?: Intent): Promise<void> {
    const failure = await import("./media/camera-errors.ts").then(
      ({ classifyCameraError }) => classifyCameraError(error),
      () => undefined,
    );
    if (intent && !this.#still(intent)) return;
    if (!failure) {
      return this.session.report(
        "camera-error",
        "The camera could not be started",
        error,
      );
    }
    // The classified error, as when openCamera threw it itself.
    this.session.report(failure.code, failure.message, failure);
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

  #showPreview(): void {
    const video = this.renderRoot.querySelector("video");
    const stream = this.#camera.stream;
    if (video && stream) {
      // The same stream is not loaded again (a blank moment); playing it
      // again restarts one that ended when all its tracks did.
      if (video.srcObject !== stream) video.srcObject = stream;
      video.play().catch(() => {
        // Muted previews may autoplay; if not, the next user action plays it.
      });
    }
    this.requestUpdate();
  }

  /** Changes what render() shows; the one place that asks for a render. */
  #setView(patch: Partial<BroadcasterView>): void {
    this.#view = { ...this.#view, ...patch };
    this.requestUpdate();
  }

  /** The "Try again" button: as much of a restart as the error needs. */
  #retry(): void {
    const { failure, refusal, intent } = this.#machine.facts;
    if (failure || intent === "stopped") {
      this.stop();
      this.start();
    } else if (
      refusal && refusal !== "signaling-unavailable" &&
      this.session.signalingState === "open"
    ) {
      // Refused by the server: ask again now.
      this.#apply({ refusal: undefined }, "retry");
      this.session.admit();
    } else {
      this.session.reconnectNow();
    }
  }

  #message(strings: BroadcasterStrings): string | undefined {
    const state = this.#machine.state;
    if (state === "live") return undefined;
    if (state !== "error") return strings[MESSAGE_KEYS[state]];
    // Its own text, else the generic one. Indexed here, not in a helper
    // of error-policy.ts: terser inlines no function whose result is a
    // property of an argument.
    const code = broadcasterError(this.#machine.facts)!;
    return (strings as Record<ErrorKey, string | undefined>)[
      errorKey(code)
    ] || strings.broadcasterError;
  }

  protected override render() {
    const strings = BROADCASTER_STRINGS.for(this, this.strings);
    const message = this.#message(strings);
    const on = this.#machine.facts.intent !== "stopped";
    return html`
      ${this.#renderPreview(strings, message)}
      ${this.#view.hidden && on
        ? html`<div part="notice" class="notice" role="alert">${strings.pageHidden}</div>`
        : nothing}
      ${this.#renderControls(strings, on)}
      ${on ? this.#renderViewerList(strings) : nothing}
      <div class="sr-only" role="status" aria-live="polite">${message ??
        strings.broadcasterLive}</div>
    `;
  }

  /** The camera preview, with the LIVE badge or the state's message over it. */
  #renderPreview(strings: BroadcasterStrings, message: string | undefined) {
    const track = this.#camera.videoTrack;
    const front = track?.getSettings().facingMode === "user" ||
      (!track?.getSettings().facingMode && this.facingMode === "user");
    const state = this.#machine.state;
    return html`
      <div part="preview" class="preview">
        <video part="video" class=${front
          ? "mirrored"
          : ""} muted playsinline></video>
        ${state === "live"
          ? html`
            <div part="badge" class="badge">
              <span class="live">${strings.live}</span>
              ${this.whipUrl
                ? nothing
                : html`<span class="count">${
                  strings.viewers.replace(
                    "{count}",
                    String(this.#view.viewerCount),
                  )
                }</span>`}
            </div>
          `
          : nothing}
        ${message
          ? html`<div part="message" class="message">
              <div>${message}</div>
              ${
            state === "error"
              ? html`<button part="retry-button" @click=${this.#retry}>${strings.retry}</button>`
              : nothing
          }
            </div>`
          : nothing}
        <slot name="overlay"></slot>
      </div>
    `;
  }

  /** Start/stop, and while on: microphone, camera, switch camera, torch. */
  #renderControls(strings: BroadcasterStrings, on: boolean) {
    const camera = this.#camera;
    const { micOn, cameraOn, torchOn } = camera;
    return html`
      <div part="controls" class="controls">
        <button part="start-button" class=${on ? "" : "primary"}
          @click=${() => (on ? this.stop() : this.start())}>${on
            ? strings.stop
            : strings.start}</button>
        ${on && camera.stream
          ? html`
            ${camera.hasMicrophone
              ? html`
                <button part="microphone-button" aria-pressed=${String(!micOn)}
                  @click=${() => this.setMicrophone(!micOn)}>${micOn
                    ? strings.muteMic
                    : strings.unmuteMic}</button>
              `
              : nothing}
            <button part="camera-button" aria-pressed=${String(!cameraOn)}
              @click=${() => this.setCamera(!cameraOn)}>${cameraOn
                ? strings.cameraOff
                : strings.cameraOn}</button>
            <button part="switch-camera-button" @click=${() =>
              this.switchCamera()}>${strings.switchCamera}</button>
            ${camera.hasTorch
              ? html`
                <button part="torch-button" aria-pressed=${String(torchOn)}
                  @click=${() => this.setTorch(!torchOn)}>${torchOn
                    ? strings.torchOff
                    : strings.torchOn}</button>
              `
              : nothing}
          `
          : nothing}
      </div>
    `;
  }

  /** Each viewer's connection state, folded away. */
  #renderViewerList(strings: BroadcasterStrings) {
    const viewers = this.#peers.states();
    return html`
      <details part="viewer-list">
        <summary>${strings.viewerDetails} (${viewers.length})</summary>
        <ul>${viewers.map((v) => html`<li>${v.viewerId}: ${v.state}</li>`)}</ul>
      </details>
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
