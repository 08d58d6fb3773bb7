/**
 * Camera and microphone capture. What fails is the browser's own error (or
 * {@link INSECURE_CONTEXT}); camera-errors.ts turns it into the few cases a
 * provider can act on, a chunk loaded only then.
 */

/** What {@link openCamera} throws without `getUserMedia` (no HTTPS). */
export const INSECURE_CONTEXT = { name: "insecure-context" };

export interface CaptureOptions {
  width: number;
  height: number;
  /** `environment` (back) or `user` (front); ignored when `deviceId` is set. */
  facingMode: "environment" | "user";
  deviceId?: string;
  audio: boolean;
  echoCancellation: boolean;
  noiseSuppression: boolean;
}

/** The seed's defaults: 1280x720 from the back camera, cleaned-up audio. */
export const DEFAULT_CAPTURE: CaptureOptions = {
  width: 1280,
  height: 720,
  facingMode: "environment",
  audio: true,
  echoCancellation: true,
  noiseSuppression: true,
};

function videoConstraints(
  options: CaptureOptions,
): MediaTrackConstraints {
  // `ideal`, not `exact`: a laptop without a back camera still gets video.
  return {
    width: { ideal: options.width },
    height: { ideal: options.height },
    ...(options.deviceId
      ? { deviceId: { exact: options.deviceId } }
      : { facingMode: { ideal: options.facingMode } }),
  };
}

function audioConstraints(options: CaptureOptions): MediaTrackConstraints {
  const { echoCancellation, noiseSuppression } = options;
  return { echoCancellation, noiseSuppression };
}

/**
 * Opens camera and microphone. Without a microphone it falls back to video
 * only rather than failing: a silent stream beats none.
 */
export async function openCamera(
  options: CaptureOptions,
): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) throw INSECURE_CONTEXT;
  const video = videoConstraints(options);
  const audio = options.audio && audioConstraints(options);
  try {
    return await navigator.mediaDevices.getUserMedia({ video, audio });
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (!audio || name !== "NotFoundError") throw error;
  }
  return await navigator.mediaDevices.getUserMedia({ video, audio: false });
}

/**
 * Opens one track of `kind`: a camera to switch to, or a camera or
 * microphone again after its track ended.
 */
export async function openTrack(
  kind: string,
  options: CaptureOptions,
): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getUserMedia(
    kind === "video"
      ? { video: videoConstraints(options) }
      : { audio: audioConstraints(options) },
  );
  return stream.getTracks()[0];
}

/** Whether the track's camera has a torch (Chrome on Android exposes this). */
export function hasTorch(track: MediaStreamTrack | undefined): boolean {
  const capabilities = track?.getCapabilities?.() as
    | { torch?: boolean }
    | undefined;
  return capabilities?.torch === true;
}
