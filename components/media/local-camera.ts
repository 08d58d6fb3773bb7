/**
 * The broadcaster's own camera and microphone: one MediaStream, its on/off
 * switches, the torch, and switching cameras without renegotiating. A
 * `close()` during `open()` (the permission prompt still up) wins: the late
 * stream is stopped, never used.
 */
import {
  type CaptureOptions,
  hasTorch,
  openCamera,
  openVideoTrack,
} from "./camera.ts";

export interface LocalCameraOptions {
  /** A switched camera's video track, to be put on every sender. */
  replaceVideo(track: MediaStreamTrack): Promise<void>;
  /** The switches or the stream changed (for rendering). */
  onChange(): void;
}

export class LocalCamera {
  #options: LocalCameraOptions;
  #stream: MediaStream | undefined;
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
   * `options.facingMode`, and puts the new track on every sender. Rejects
   * with the browser's error when no camera opens.
   */
  async switchTo(options: CaptureOptions): Promise<void> {
    const stream = this.#stream;
    const old = this.videoTrack;
    if (!stream || !old) return;
    const { nextVideoTrack } = await import("./camera-switch.ts");
    const track = await nextVideoTrack(old, options, openVideoTrack);
    track.enabled = this.cameraOn;
    await this.#options.replaceVideo(track);
    stream.removeTrack(old);
    stream.addTrack(track);
    old.stop();
    this.torchOn = false;
    this.#options.onChange();
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
