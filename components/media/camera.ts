/**
 * Camera and microphone capture, with browser errors turned into the few
 * cases a provider can act on.
 */

/** Why capture failed, each with its own message and fix. */
export type CameraErrorCode =
  | "permission-denied"
  | "no-camera"
  | "camera-in-use"
  | "insecure-context"
  | "camera-error";

export class CameraError extends Error {
  readonly code: CameraErrorCode;
  constructor(code: CameraErrorCode, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = "CameraError";
    this.code = code;
  }
}

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

/** Classifies a getUserMedia rejection by its DOMException name. */
export function classifyCameraError(error: unknown): CameraError {
  if (error instanceof CameraError) return error;
  const name = (error as { name?: string } | undefined)?.name ?? "";
  switch (name) {
    case "NotAllowedError":
    case "SecurityError":
    case "PermissionDeniedError":
      return new CameraError(
        "permission-denied",
        "Camera permission was denied",
        error,
      );
    case "NotFoundError":
    case "DevicesNotFoundError":
    case "OverconstrainedError":
      return new CameraError("no-camera", "No camera was found", error);
    case "NotReadableError":
    case "TrackStartError":
    case "AbortError":
      return new CameraError(
        "camera-in-use",
        "The camera is in use by another application",
        error,
      );
    default:
      return new CameraError(
        "camera-error",
        `The camera could not be started${
          error instanceof Error ? `: ${error.message}` : ""
        }`,
        error,
      );
  }
}

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

/**
 * Opens camera and microphone. Without a microphone it falls back to video
 * only rather than failing: a silent stream beats none.
 */
export async function openCamera(
  options: CaptureOptions,
): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new CameraError(
      "insecure-context",
      "Camera access needs HTTPS (or localhost)",
    );
  }
  const video = videoConstraints(options);
  const audio = options.audio && {
    echoCancellation: options.echoCancellation,
    noiseSuppression: options.noiseSuppression,
  };
  try {
    return await navigator.mediaDevices.getUserMedia({ video, audio });
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (!audio || name !== "NotFoundError") throw classifyCameraError(error);
  }
  try {
    return await navigator.mediaDevices.getUserMedia({ video, audio: false });
  } catch (error) {
    throw classifyCameraError(error);
  }
}

/** Opens just a video track, for switching cameras. */
export async function openVideoTrack(
  options: CaptureOptions,
): Promise<MediaStreamTrack> {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      video: videoConstraints(options),
    });
    return stream.getVideoTracks()[0];
  } catch (error) {
    throw classifyCameraError(error);
  }
}

/** Whether the track's camera has a torch (Chrome on Android exposes this). */
export function hasTorch(track: MediaStreamTrack | undefined): boolean {
  const capabilities = track?.getCapabilities?.() as
    | { torch?: boolean }
    | undefined;
  return capabilities?.torch === true;
}
