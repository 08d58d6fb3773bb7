import { html, nothing } from "lit";
import type { LiveStats } from "./media/connection-stats.ts";
import { type Frames, FrameWatch } from "./media/frame-watch.ts";
import { type ErrorKey, VIEWER_ERRORS } from "./session/error-policy.ts";
import { LiveErrorEvent } from "./live-events.ts";
import { StateMachine } from "./state/state-machine.ts";
import type { SignalingState } from "./session/signaling-client.ts";
import { StreamElement } from "./stream-element.ts";
import type {
  JoinFields,
  SessionError,
  StreamMessage,
} from "./session/stream-session.ts";
import {
  INITIAL_VIEWER_FACTS,
  type ViewerFacts,
  type ViewerState,
  viewerState,
} from "./state/viewer-state.ts";
import {
  errorKey,
  errorTextsLoaded,
  VIEWER_STRINGS,
  type ViewerStrings,
} from "./ui/viewer-strings.ts";
import {
  fullscreenIcon,
  pictureInPictureIcon,
  soundOffIcon,
  soundOnIcon,
} from "./ui/viewer-icons.ts";
import { ViewerPeer, type ViewerPeerOptions } from "./session/viewer-peer.ts";
import type { WhepPlayerHost } from "./session/whep-player.ts";
import type { NegotiationRetry } from "./session/negotiation-retry.ts";
import type { NegotiationStage } from "../protocol/messages.ts";
import type { HttpMediaSession } from "./session/http-media-session.ts";
import { sharedStyles } from "./ui/shared-styles.ts";
import { VIEWER_MESSAGES } from "../protocol/parse-server-message.ts";
import { viewerStyles } from "./ui/viewer-styles.ts";

export type { ViewerState } from "./state/viewer-state.ts";

/** How long a failed connection waits for the broadcaster's own recovery before asking anew. */
const REJOIN_AFTER_FAILURE_MS = 3_000;
/** How often a frozen picture tries a repair (see #repair). */
const REPAIR_INTERVAL_MS = 2_000;
/** How long after a restart offer a still frozen picture asks for a new connection. */
const REBUILD_AFTER_OFFER_MS = 4_000;
/**
 * How long a viewer negotiates (joined a live stream, or given an offer)
 * without a picture before it asks for a new connection; each wait after
 * is twice the last, up to 8 times this, until video plays.
 */
export const PICTURE_WAIT_MS = 8_000;

/**
 * The text for each state but `error` (which says which error it is):
 * `viewer` and the state's name (`viewerIdle`), but `cannot-decrypt`'s,
 * `e2eeError`. Made from the name, not a table (~30 B of the bundle);
 * indexing the strings with this type checks each one when compiled.
 */
type StatusKey<S extends string> = S extends "cannot-decrypt" ? "e2eeError"
  : `viewer${Capitalize<S>}`;

/** What playback still needs of the person: nothing, an unmute, or a click to play. */
type PlaybackBlock = "none" | "muted" | "gesture";

/** Everything render() reads that is neither a property nor the state. */
interface ViewerView {
  block: PlaybackBlock;
  muted: boolean;
  stats?: string;
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
 * @attr whep-url - Play from this WHEP endpoint (any standard one) instead of the signaling server; `token` goes as its Bearer token. Use it without `stream-id`.
 * @attr state - Reflects the current state, for styling (read-only).
 *
 * @prop {ViewerState} state - The current state.
 * @prop {Partial<ViewerStrings>} strings - Overrides for any visible string.
 * @prop {TokenProvider | undefined} tokenProvider - Called for a token before joining, and again when the last one is about to expire: `({ streamId, role }) => Promise<string>`.
 * @prop {RTCIceServer[] | undefined} iceServers - ICE servers for every connection (the attribute is JSON); default the seed's STUN server, or the server's list when it sends one.
 * @prop {E2eeKey | undefined} e2eeKey - The stream's end-to-end encryption key, a property only (never in the DOM, the server or a URL): `{ epoch, key }` or a bare key (epoch 0), `key` being 16-64 random bytes as base64url text, a `Uint8Array` or an `ArrayBuffer`. With it every frame is decrypted in the browser, and a frame that does not decrypt is never shown (`cannot-decrypt`); the element then never plays a clear stream. Loads the encryption code (a chunk and a worker) the first time.
 * @prop {E2eeKeyProvider | undefined} e2eeKeyProvider - Called for the key of an epoch the viewer has none for (the broadcaster rotated, or there is no `e2eeKey`): `(streamId, epoch) => Promise<E2eeKey>`; a bare key is the epoch asked for. Frames of that epoch wait up to 1 s for it.
 *
 * @fires live-state-change - The state changed (`event.state`, `event.previous`).
 * @fires live-error - Something failed (`event.code`, a `LiveErrorCode`: `token-*`, `stream-full`, `invalid-stream-id`, `turn-auth-failed`, `token-provider-failed`, `negotiation-failed` (the browser refused the offer: retried, then the `error` state), `stream-encrypted` (the stream is end-to-end encrypted and this viewer has no key: `cannot-decrypt`), `e2ee-decrypt-failed` (frames do not decrypt with its key: `cannot-decrypt`), `e2ee-key-invalid`, `e2ee-unsupported` (the `error` state), ...; `event.message`).
 *
 * @slot overlay - Custom content over the video (a logo, an order number).
 *
 * @csspart video - The `<video>` element.
 * @csspart last-frame - The frozen last frame shown while not live.
 * @csspart overlay - The status overlay with its text and buttons.
 * @csspart status - The status text.
 * @csspart play-button - The "click to play" / "tap to unmute" button.
 * @csspart controls - The control bar.
 * @csspart mute-button - The sound on/off button.
 * @csspart fullscreen-button - The full screen button.
 * @csspart picture-in-picture-button - The picture-in-picture button (where the browser has it).
 * @csspart badge - The "LIVE" badge.
 * @csspart stats - The statistics box (while live).
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
 * @cssstate cannot-decrypt - `state` is `cannot-decrypt`.
 * @cssstate error - `state` is `error`.
 */
export class LiveViewer extends StreamElement {
  static override styles = [sharedStyles, viewerStyles];
  protected override get builtInStrings(): typeof VIEWER_STRINGS {
    return VIEWER_STRINGS;
  }
  static override properties = {
    showStats: { type: Boolean, attribute: "stats", reflect: true },
    strings: { attribute: false },
    // Text: no `type` (stream-element.ts).
    whepUrl: { attribute: "whep-url" },
  };

  declare showStats: boolean;
  declare strings: Partial<ViewerStrings>;
  declare whepUrl: string | null;
  /** Playing from a WHEP endpoint instead of the signaling server. */
  #whep: HttpMediaSession | undefined;

  #machine = new StateMachine(this, INITIAL_VIEWER_FACTS, viewerState);
  #view: ViewerView = { block: "none", muted: false, frozen: false };
  #rejoinTimer: ReturnType<typeof setTimeout> | undefined;
  /** The connection's stream whose tracks the video shows. */
  #source: MediaStream | undefined;
  /** The sound for the stream last shown, once the page is shown (see #showStream); unset before. */
  #onShown!: () => unknown;
  /**
   * What the connection playing tells the element: the peer's, or the WHEP
   * player's. Its onError fires every `live-error` of the viewer.
   */
  #media: ViewerPeerOptions & WhepPlayerHost = {
    onStream: (...args) => this.#showStream(...args),
    onConnectionState: (state) => this.#onMedia(state),
    onRefused: (...args) => void this.#onRefused(...args),
    apply: (...args) => this.#apply(...args),
    onError: (...args) => this.dispatchEvent(new LiveErrorEvent(...args)),
  };
  #peer = new ViewerPeer(this.session, this.#media);
  /** Refused offers since video last flowed (negotiation-retry.ts; none: clean). */
  #negotiation: NegotiationRetry | undefined;
  #frames = new FrameWatch({
    video: () => this.video,
    connection: () => this.#connection,
    onChange: (frames) => this.#onFrames(frames),
    // Back: shown again, if the stream still has it.
    onVideo: (back) =>
      back
        ? this.#source!.getVideoTracks()[0] && this.#showStream(this.#source!)
        : this.#setAside(),
    onStarved: () => {
      this.#keyFrame = true;
      this.session.admit();
    },
  });
  /** Ask for a key frame with the next join (media arrives, no picture). */
  #keyFrame: boolean | undefined;
  #repairTimer: ReturnType<typeof setTimeout> | undefined;
  /** Runs while negotiating: see {@link #watchPicture}. */
  #pictureTimer: ReturnType<typeof setTimeout> | undefined;
  #pictureWait = PICTURE_WAIT_MS;
  /** When a frozen picture last asked for an ICE restart (0: not now). */
  #askedAt = 0;
  /** When the broadcaster's last offer came. */
  #offerAt = 0;
  /** The `stats` box's sampler is made (or being loaded). */
  #sampling = false;

  constructor() {
    super({
      role: "viewer",
      admit: "join-stream",
      auto: true,
      messages: VIEWER_MESSAGES,
      errors: VIEWER_ERRORS,
    });
    this.showStats = false;
    this.strings = {};
    this.whepUrl = null;
  }

  /** The `error` state renders once its English texts (a chunk) are here. */
  protected override scheduleUpdate(): void | Promise<unknown> {
    return this.#machine.state === "error"
      ? errorTextsLoaded().then(() => super.scheduleUpdate())
      : super.scheduleUpdate();
  }

  /** The current state (also reflected as the `state` attribute). */
  get state(): ViewerState {
    return this.#machine.state;
  }

  /** The `<video>` inside, for pages that want to measure or capture it. */
  get video(): HTMLVideoElement | null {
    return this.renderRoot.querySelector("video");
  }

  /** The connection playing now (the WHEP one with `whep-url`). */
  get #connection(): RTCPeerConnection | undefined {
    return this.#whep?.connection ?? this.#peer.connection;
  }

  /** Current statistics of the connection, or `undefined` before one exists. */
  async getStats(): Promise<LiveStats | undefined> {
    const pc = this.#connection;
    if (!pc) return undefined;
    // Few pages ask: the reader is a chunk of its own.
    const { readStats } = await import("./media/connection-stats.ts");
    return (await readStats(pc)).stats;
  }

  protected override arrived(): void {
    // Back on the page: play again (the first time, updated() starts it).
    if (this.hasUpdated) void this.#playWhep();
    // Publishes the first state (the attribute) even with no stream id.
    this.#apply({}, "on the page");
  }

  protected override left(): void {
    this.#release();
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    if (changed.has("whepUrl")) void this.#playWhep();
    if (this.showStats && !this.#sampling) {
      // Few pages show the box: its sampler is a chunk, loaded the first time.
      this.#sampling = true;
      import("./media/stats-sampler.ts").then(({ StatsSampler }) =>
        new StatsSampler(this, {
          connection: () => this.#connection,
          onStats: (stats) => this.#setView({ stats }),
        })
      ).catch(() => this.#sampling = false);
    }
  }

  /**
   * With `whep-url`: plays from that endpoint, no signaling server. The
   * WHEP client is a chunk of its own, loaded only here.
   */
  async #playWhep(): Promise<void> {
    // Removed or changed: what it played is over, and its facts with it.
    if (this.#whep) this.onStreamChange();
    this.#whep = undefined;
    const url = this.whepUrl;
    if (!url || !this.isConnected) return;
    this.#release();
    let chunk: typeof import("./session/whep-player.ts");
    try {
      // With a key, its connection is decrypted (e2ee.ts): ready first.
      await this.session.e2eeReady();
      chunk = await import("./session/whep-player.ts");
    } catch (error) {
      // Its chunk did not load (offline, not served beside the bundle).
      const code = "signaling-unavailable";
      const message = "The WHEP client did not load";
      this.#apply({ failure: code }, message);
      return this.#media.onError(code, message, error);
    }
    // Changed or removed while the chunk loaded.
    if (url !== this.whepUrl || !this.isConnected || this.#whep) return;
    const player = chunk.whepPlayer(
      url,
      this,
      this.session,
      this.#media,
      VIEWER_ERRORS,
    );
    this.#whep = player;
    void player.start();
  }

  /** Every change of the facts comes here; the machine publishes and logs. */
  #apply(patch: Partial<ViewerFacts>, reason: string): void {
    if (this.#machine.apply(patch, reason) === undefined) return;
    this.#watchPicture();
    // Figures of a connection that is gone are not shown when video returns.
    this.#setView(this.state === "live" ? {} : { stats: undefined });
  }

  /**
   * On entering `negotiating` (not with `whep-url`, whose client asks again
   * itself) and on each offer, a wait for the picture starts; if it ends
   * with no connection checking a path, a new connection is asked for. The
   * server sends each frame at most once across nodes, and a broadcaster
   * may miss a join: a lost `viewer-joined`, offer or every candidate would
   * otherwise leave the viewer negotiating for good. Any other state ends
   * the wait.
   */
  #watchPicture(): void {
    clearTimeout(this.#pictureTimer);
    if (this.state === "negotiating" && !this.#whep) {
      this.#pictureTimer = setTimeout(() => {
        // Checks under way: the browser's ICE and DTLS timers decide (a
        // firewalled path fails in 5-15 s, then the repair of a failed
        // connection takes over); nothing under way: ask anew. Without a
        // connection to name, the broadcaster builds a new one.
        if (this.#machine.facts.media !== "connecting") {
          this.#peer.close();
          this.session.admit();
        }
        this.#pictureWait = Math.min(
          this.#pictureWait * 2,
          8 * PICTURE_WAIT_MS,
        );
        this.#watchPicture();
      }, this.#pictureWait);
    }
  }

  /** Closes the connection and empties the video (the socket is the session's). */
  #release(): void {
    this.#whep?.stop();
    clearTimeout(this.#rejoinTimer);
    clearTimeout(this.#repairTimer);
    clearTimeout(this.#pictureTimer);
    this.#frames.stop();
    this.#peer.close();
    const video = this.video;
    if (video) video.srcObject = null;
    // Its sound's wait for the page to show (#showStream): nothing to play.
    document.removeEventListener("visibilitychange", this.#onShown);
    this.#source = undefined;
  }

  protected override onStreamChange(): void {
    this.#release();
    this.#negotiation = this.#keyFrame = undefined;
    // The socket's (a WHEP player's facts said "open" with no socket).
    const signaling = this.session.signalingState;
    this.#apply({
      ...INITIAL_VIEWER_FACTS,
      // A new whep-url is a stream too (not `idle` while its chunk loads).
      hasStreamId: !!(this.streamId || this.whepUrl),
      signaling,
      // Still open: the same socket moved to another stream.
      everOpen: signaling === "open",
    }, "stream changed");
  }

  protected override onSignaling(state: SignalingState): void {
    this.#apply({
      signaling: state,
      everOpen: this.#machine.facts.everOpen || state === "open",
      // Only the server knew who was here; ask again once reconnected.
      presence: state === "open" ? this.#machine.facts.presence : "unknown",
    }, `signaling ${state}`);
  }

  protected override onStreamMessage(message: StreamMessage): void {
    switch (message.type) {
      // The message's type says why (the debug log's reason).
      case "join-accepted":
        return this.#apply(
          { presence: message.live ? "present" : "waiting" },
          message.type,
        );
      case "broadcaster-joined":
        return this.#apply({ presence: "present" }, message.type);
      case "broadcaster-left":
        this.#freezeFrame();
        this.#frames.stop();
        this.#peer.close();
        return this.#apply({ presence: "left" }, message.type);
      case "webrtc-offer":
        this.#offerAt = performance.now();
        clearTimeout(this.#rejoinTimer);
        this.#peer.handleOffer(message.offer, message.sfu);
        // Paired: whatever refused this viewer before (stream-encrypted) is over.
        this.#apply({ presence: "present", sealed: false }, message.type);
        // The wait for its picture starts over.
        return this.#watchPicture();
      case "webrtc-ice-candidate":
        return this.#peer.handleCandidate(message.candidate);
    }
  }

  /**
   * From the end-to-end encryption worker (e2ee.ts): frames decrypt again
   * (no argument), or do not (`failure` says so), which no repair of the
   * path changes.
   */
  protected onDecrypt(failure?: string): void {
    this.#apply({ undecryptable: !!failure }, "e2ee");
    const code = "e2ee-decrypt-failed";
    if (failure) this.#media.onError(code, failure);
  }

  protected override joinFields(): JoinFields {
    const { session } = this.#peer;
    // This viewer switches connections make before break (viewer-peer.ts).
    // Restart only a session it has, and only with a reason: a restart is
    // not free (Firefox sometimes gets no media after one), and a deploy
    // changes no path. Undefined fields are left out of the frame.
    const restart = session &&
      (this.#machine.facts.frames === "stalled" ||
        this.session.networkSuspect);
    // Once: if the key frame does not bring the picture back, the repair
    // asks on as before.
    const keyFrame = this.#keyFrame;
    this.#keyFrame = undefined;
    return { session, restart: restart || undefined, keyFrame, overlap: true };
  }

  protected override onNetworkChange(): void {
    const { media } = this.#machine.facts;
    // Ask the broadcaster for an ICE restart now (also when the rejoin
    // timer of #onMedia fires).
    if (media === "failed" || media === "disconnected") this.session.admit();
  }

  protected override onSessionError(
    { code, message, fatal, cause }: SessionError,
  ): void {
    if (fatal) {
      this.#release();
      this.#apply({ failure: code }, code);
    }
    // No key for this encrypted stream: not paired, waiting.
    if (code === "stream-encrypted") {
      this.#apply({ presence: "present", sealed: true }, code);
    }
    this.#media.onError(code, message, cause);
  }

  #onFrames(frames: Frames): void {
    if (frames === "flowing") {
      this.#negotiation = undefined;
      this.#pictureWait = PICTURE_WAIT_MS;
    }
    this.#apply({ frames }, `frames ${frames}`);
    clearTimeout(this.#repairTimer);
    this.#askedAt = 0;
    if (frames === "stalled") this.#repair();
  }

  /**
   * Sound and no video from the broadcaster: a video that never had a frame
   * (its camera off from the start) would hold the sound too (Chromium,
   * Firefox). Set aside, the sound plays; it is shown again once its packets
   * come (FrameWatch's onVideo).
   */
  #setAside(): void {
    const video = this.video!;
    const shown = video.srcObject as MediaStream;
    if (video.readyState || !shown.getVideoTracks()[0]) return;
    for (const track of shown.getVideoTracks()) shown.removeTrack(track);
    // Loaded again: an element goes on waiting for the frame.
    video.srcObject = shown;
    this.#onShown();
  }

  /**
   * A frozen picture, every {@link REPAIR_INTERVAL_MS} until frames return:
   * check our socket (a new address leaves it silently dead) and ask the
   * broadcaster for an ICE restart. When it did restart and frames stayed
   * away {@link REBUILD_AFTER_OFFER_MS} later, ask for a fresh connection
   * instead: a restart does not bring media back in every case (seen with
   * Firefox receiving from Chromium after a long outage). A request that
   * cannot reach the broadcaster, or that it cannot answer, never throws
   * away a connection that will carry video again once the network is back.
   */
  #repair(): void {
    this.session.checkConnection();
    const now = performance.now();
    if (this.session.signalingState === "open") {
      const restarted = this.#askedAt > 0 && this.#offerAt > this.#askedAt;
      if (!restarted || now - this.#offerAt >= REBUILD_AFTER_OFFER_MS) {
        // Restarted in vain: without a connection to name, the broadcaster
        // builds a new one.
        if (restarted) this.#peer.close();
        this.#askedAt = now;
        this.session.admit();
      }
    }
    this.#repairTimer = setTimeout(() => this.#repair(), REPAIR_INTERVAL_MS);
  }

  /** The browser refused the broadcaster's offer: see viewer-refusal.ts. */
  async #onRefused(
    stage: NegotiationStage,
    error: unknown,
    takeover: boolean,
  ) {
    const { viewerRefused } = await import("./session/viewer-refusal.ts");
    this.#negotiation = viewerRefused(
      this.#negotiation,
      takeover || this.state === "live",
      stage,
      error,
      this.session,
      this.#media,
      (afterMs) => {
        // Without a connection to name, the broadcaster builds a new one.
        this.#peer.close();
        this.#rejoinTimer = setTimeout(() => this.session.admit(), afterMs);
      },
    );
  }

  #onMedia(state: RTCPeerConnectionState): void {
    clearTimeout(this.#rejoinTimer);
    if (state === "failed" || state === "disconnected") {
      this.#freezeFrame();
      this.session.checkConnection();
      // The broadcaster retries by itself; if nothing new comes, ask for it
      // (as when the network changes).
      this.#rejoinTimer = setTimeout(
        () => this.onNetworkChange(),
        REJOIN_AFTER_FAILURE_MS,
      );
    }
    this.#apply(
      {
        media: state,
        hasStream: state !== "closed" && this.#machine.facts.hasStream,
      },
      `connection ${state}`,
    );
  }

  async #showStream(stream: MediaStream, takeover = false): Promise<void> {
    const video = this.video;
    if (!video) return;
    this.#apply({ hasStream: true }, "track");
    let shown = video.srcObject as MediaStream | null;
    // The stream shown again (its next track, or a renegotiation's): kept.
    const kept = takeover || this.#source === stream;
    // A person's pause (picture-in-picture's button, a media key) holds
    // when another connection's tracks take the place of the shown ones;
    // playback the browser refused is asked for again.
    const held = kept && video.paused && this.#view.block !== "gesture";
    if (kept && shown) {
      // The same stream object, its tracks replaced (a takeover's all, a
      // renegotiation's those it lost): the element keeps playing (a new
      // srcObject would blank it for a moment). Removed first: Firefox
      // keeps showing the first video track it has.
      for (const track of shown.getTracks()) {
        if (takeover || !stream.getTracks().includes(track)) {
          shown.removeTrack(track);
        }
      }
    } else video.srcObject = shown = new MediaStream();
    this.#source = stream;
    const add = (tracks: MediaStreamTrack[]) =>
      tracks.map((track) => shown!.addTrack(track)).length;
    // The audio once a frame is on screen (a frame's time for a takeover,
    // whose video decodes already): Chromium sets up the audio output on
    // the page's thread (100-250 ms), which would hold the answer and the
    // first frame. Sound is asked for again then: Firefox plays a video
    // without audio unmuted, and pauses it when audio comes. At once in a
    // hidden page: no frame is shown there.
    // Only while this stream is the one shown (adding a track it has is
    // nothing, playing a playing video too).
    const audio = () =>
      this.#source === stream && add(stream.getAudioTracks()) && !held &&
      this.#play(video);
    const later = add(stream.getVideoTracks()) && !document.hidden;
    // Live from its first frame on, not from the connection event; a
    // connection taking over stays live (its frames are decoding already).
    this.#frames.start(kept);
    // The sound only for the latest show: an earlier one's callback, its
    // `held` outdated, would undo a person's pause (a video set aside and
    // shown again).
    (video.requestVideoFrameCallback?.(() => {
      this.#setView({ frozen: false });
      if (later && this.#onShown === audio) audio();
    }) && later) || audio();
    // Hidden before the first frame: no frame callback until it is shown
    // again, so the sound now (a background tab still hears the stream).
    // One at a time: a page that never changes visibility keeps no closure
    // (element, stream) per connection shown.
    document.removeEventListener("visibilitychange", this.#onShown);
    document.addEventListener("visibilitychange", this.#onShown = audio, {
      once: true,
    });
    // Again after a takeover: Firefox ends playback when the last track goes.
    if (!held) await this.#play(video);
  }

  /**
   * Plays `video`, with sound if `sound` (as last time, unless said) and the
   * browser allows it, else muted (offer "tap to unmute"), else not at all
   * until a click (offer "click to play"). Never a silent black box.
   */
  async #play(
    video: HTMLVideoElement,
    sound = !this.#view.muted,
  ): Promise<void> {
    let block: PlaybackBlock = "gesture";
    video.muted = !sound;
    // With sound if asked (then "none"), else muted (then "muted").
    for (const tried of ["none", "muted"] as const) {
      try {
        await video.play();
        block = tried;
        break;
      } catch (error) {
        const name = (error as Error | undefined)?.name;
        // A newer srcObject replaced this one; its own play follows.
        if (name === "AbortError") return;
        if (name !== "NotAllowedError" || video.muted) break;
      }
      video.muted = true;
    }
    this.#setView({ block, muted: video.muted });
  }

  /** Keeps the last frame visible while there is no video (never a black box). */
  #freezeFrame(): void {
    const video = this.video;
    const canvas = this.renderRoot.querySelector("canvas");
    if (!canvas || !video?.videoWidth || this.#view.frozen) return;
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d")?.drawImage(video, 0, 0);
    this.#setView({ frozen: true });
  }

  /** Changes what render() shows; the one place that asks for a render. */
  #setView(patch: Partial<ViewerView>): void {
    Object.assign(this.#view, patch);
    this.requestUpdate();
  }

  // The buttons' handlers: each button is rendered with the video, which
  // is there when it is clicked.

  #onPlayClick(): Promise<void> {
    // Inside the click: the gesture lets sound start too.
    return this.#play(this.video!, true);
  }

  #toggleMute(): void {
    const video = this.video!;
    video.muted = !video.muted;
    this.#setView({
      muted: video.muted,
      block: this.#view.block === "muted" ? "none" : this.#view.block,
    });
  }

  #toggleFullscreen(): Promise<void> | undefined {
    return document.fullscreenElement
      ? document.exitFullscreen()
      : this.requestFullscreen?.();
  }

  #togglePictureInPicture(): Promise<unknown> {
    return document.pictureInPictureElement
      ? document.exitPictureInPicture()
      : this.video!.requestPictureInPicture();
  }

  protected override render() {
    const strings = VIEWER_STRINGS.for(this, this.strings);
    const state = this.#machine.state;
    // The state's text; the error state's own, else the generic one (as
    // the broadcaster's #message). The error state always has its failure
    // (viewer-state.ts), and renders once errorKey is here (scheduleUpdate),
    // unless its chunk did not load.
    const status = state === "error"
      ? (strings as Record<ErrorKey, string | undefined>)[
        errorKey?.(this.#machine.facts.failure!) as ErrorKey
      ] || strings.viewerError
      : strings[
        (state === "cannot-decrypt"
          ? "e2eeError"
          : "viewer" + state[0].toUpperCase() +
            state.slice(1)) as StatusKey<typeof state>
      ];
    const live = state === "live";
    // `aria-pressed=${muted}`: an attribute binding writes the boolean as
    // its text, "true" or "false".
    const { block, muted, stats, frozen } = this.#view;
    return html`
      <div class="stage">
        <video part="video" playsinline></video>
        <canvas part="last-frame" ?hidden=${!frozen || live}></canvas>
        ${live
          ? html`<span part="badge" class="badge">${strings.live}</span>`
          : nothing}
        <div part="overlay" class="overlay" ?hidden=${live &&
          block !== "gesture"}>
          ${block === "gesture" && this.#machine.facts.hasStream
            ? html`<button part="play-button" @click=${this.#onPlayClick}>${strings.clickToPlay}</button>`
            : html`
              ${state === "error" || state === "waiting" || state === "ended"
                ? nothing
                : html`<div class="spinner" aria-hidden="true"></div>`}
              <div part="status">${status}</div>
            `}
        </div>
        ${live && block === "muted"
          ? html`
            <div class="overlay" style="background:none;pointer-events:none">
              <button part="play-button" style="pointer-events:auto"
                @click=${this
                  .#toggleMute}>${strings.tapToUnmute}</button>
            </div>
          `
          : nothing}
        ${live
          ? html`<div part="controls" class="controls">
              <button part="mute-button" @click=${this.#toggleMute} aria-pressed=${muted}
                aria-label=${muted ? strings.unmute : strings.mute}>${
            muted ? soundOffIcon : soundOnIcon
          }</button>
              <button part="fullscreen-button" @click=${this.#toggleFullscreen} aria-label=${strings.fullscreen}>${fullscreenIcon}</button>
              ${
            // Undefined where the browser has no picture-in-picture (Firefox).
            document.pictureInPictureEnabled
              ? html`
                <button part="picture-in-picture-button" @click=${this
                  .#togglePictureInPicture}
                  aria-label=${strings
                    .pictureInPicture}>${pictureInPictureIcon}</button>
              `
              : nothing}
            </div>`
          : nothing}
        ${live && this.showStats && stats
          ? html`<div part="stats" class="stats">${stats}</div>`
          : nothing}
        <slot name="overlay"></slot>
      </div>
      <div class="sr-only" role="status" aria-live="polite">${status}</div>
    `;
  }
}

if (!customElements.get("live-viewer")) {
  customElements.define("live-viewer", LiveViewer);
}

declare global {
  interface HTMLElementTagNameMap {
    "live-viewer": LiveViewer;
  }
}
