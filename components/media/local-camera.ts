/**
 * The broadcaster's own camera and microphone: one MediaStream, its on/off
 * switches, the torch, and switching cameras without renegotiating. A
 * `close()` during `open()` (the permission prompt still up) wins: the late
 * stream is stopped, never used. A track that ends by itself (its camera
 * unplugged, taken by another application, its permission withdrawn) is
 * opened again and put in its place, again without renegotiating.
 */
import {
  type CaptureOptions,
  hasTorch,
  openCamera,
  openTrack,
} from "./camera.ts";

export interface LocalCameraOptions {
  /** A new track (another camera, or one opened again), to be put on every sender of its kind. */
  replace(track: MediaStreamTrack): Promise<void>;
  /** The switches or the stream changed (for rendering). */
  onChange(): void;
  /**
   * The camera's track ended by itself and no camera opens again: the
   * browser's error (a microphone that does not come back is left out).
   */
  onLost(error: unknown): void;
}

export class LocalCamera {
  #options: LocalCameraOptions;
  #stream: MediaStream | undefined;
  /** What the stream was opened with: a track that ended is opened so again. */
  #capture: CaptureOptions | undefined;
  /** Tracks being replaced (switched, or opened again after they ended). */
  #replacing = new WeakSet<MediaStreamTrack>();
  /** Bumped by every open and close: a late open sees it changed. */
  #generation = 0;
  micOn = true;
  cameraOn = true;
  torchOn = false;

  constructor(options: LocalCameraOptions) {
    this.#options = options;
  }

  get stream(): MediaStream | undefined {
    return this.#stream;
  }

  get videoTrack(): MediaStreamTrack | undefined {
    return this.#stream?.getVideoTracks()[0];
  }

  get hasMicrophone(): boolean {
    return (this.#stream?.getAudioTracks().length ?? 0) > 0;
  }

  get hasTorch(): boolean {
    return hasTorch(this.videoTrack);
  }

  /**
   * Opens camera and microphone. Resolves true when the stream is in use,
   * false when `close()` came first; rejects with the browser's error
   * (camera-errors.ts classifies it).
   */
  async open(options: CaptureOptions): Promise<boolean> {
    this.close();
    const generation = this.#generation;
    const stream = await openCamera(options);
    if (generation !== this.#generation) {
      stopTracks(stream);
      return false;
    }
    this.#stream = stream;
    this.#capture = options;
    stream.getTracks().forEach((track) => this.#watch(track));
    this.#applySwitches();
    return true;
  }

  close(): void {
    this.#generation++;
    if (this.#stream) stopTracks(this.#stream);
    this.#stream = undefined;
    this.torchOn = false;
    this.#options.onChange();
  }

  /** Mutes or unmutes the microphone (the track stays; viewers hear silence). */
  setMicrophone(on: boolean): void {
    this.micOn = on;
    this.#applySwitches();
  }

  /** Turns the picture on or off (viewers see black, nothing renegotiates). */
  setCamera(on: boolean): void {
    this.cameraOn = on;
    this.#applySwitches();
  }

  /**
   * Switches to `options.deviceId`, else the next camera, else
   * `options.facingMode`, and puts the new track on every sender. Resolves
   * whether it switched: not when the stream closed, or its camera was
   * lost and opened again meanwhile (that one stays). Rejects with the
   * browser's error when no camera opens.
   */
  async switchTo(options: CaptureOptions): Promise<boolean> {
    const stream = this.#stream;
    const old = this.videoTrack;
    if (!stream || !old) return false;
    // Its `ended` while this opens another (a phone's one camera at a
    // time) is this switch's to handle, not a lost camera's.
    this.#replacing.add(old);
    try {
      const { nextVideoTrack } = await import("./camera-switch.ts");
      const track = await nextVideoTrack(old, options, openTrack);
      if (!this.#use(stream, old, track)) return false;
      // A camera lost later comes back as switched to (any, if that one
      // is the one gone).
      this.#capture = { ...options, deviceId: undefined };
      await this.#options.replace(track);
      return true;
    } finally {
      this.#replacing.delete(old);
    }
  }

  /**
   * Puts `track` in `old`'s place in the stream (its senders are the
   * caller's: a viewer joining meanwhile gets it from the stream). False,
   * and `track` stopped, when the stream was closed, opened anew or `old`
   * replaced meanwhile.
   */
  #use(
    stream: MediaStream,
    old: MediaStreamTrack,
    track: MediaStreamTrack,
  ): boolean {
    if (this.#stream !== stream || !stream.getTracks().includes(old)) {
      track.stop();
      return false;
    }
    this.#watch(track);
    stream.removeTrack(old);
    stream.addTrack(track);
    old.stop();
    // A new camera's torch is off; a new microphone leaves it as it is.
    this.torchOn &&= track.kind !== "video";
    this.#applySwitches();
    // A script's changes fire no events: the page's own uses of the
    // stream (a recorder, a meter) learn of the swap as of a browser's,
    // once it is done.
    stream.dispatchEvent(
      new MediaStreamTrackEvent("removetrack", { track: old }),
    );
    stream.dispatchEvent(new MediaStreamTrackEvent("addtrack", { track }));
    return true;
  }

  /**
   * A track's `ended` (never fired by our own `stop()`): its device is
   * gone or taken. The same kind opened again, as last asked for.
   */
  #watch(track: MediaStreamTrack): void {
    track.onended = async () => {
      const stream = this.#stream;
      if (!stream || this.#replacing.has(track)) return;
      this.#replacing.add(track);
      try {
        const again = await openTrack(track.kind, this.#capture!);
        if (this.#use(stream, track, again)) {
          await this.#options.replace(again);
        }
      } catch (error) {
        // Lost for good, unless a camera switch put another in its place
        // meanwhile (a phone's one camera at a time refused this one).
        if (
          this.#stream === stream && stream.getTracks().includes(track) &&
          track.kind === "video"
        ) this.#options.onLost(error);
      }
    };
  }

  /** Turns the torch on or off where the camera has one. */
  async setTorch(on: boolean): Promise<void> {
    const track = this.videoTrack;
    if (!track || !hasTorch(track)) return;
    const { setTorch } = await import("./camera-switch.ts");
    await setTorch(track, on);
    this.torchOn = on;
    this.#options.onChange();
  }

  #applySwitches(): void {
    for (const track of this.#stream?.getAudioTracks() ?? []) {
      track.enabled = this.micOn;
    }
    for (const track of this.#stream?.getVideoTracks() ?? []) {
      track.enabled = this.cameraOn;
    }
    this.#options.onChange();
  }
}

function stopTracks(stream: MediaStream): void {
  for (const track of stream.getTracks()) track.stop();
}
