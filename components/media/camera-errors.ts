/**
 * A camera that did not open, told apart by the browser's error name: the
 * few cases a provider can act on, each with its own message. Only a
 * failure needs it: a chunk of its own, loaded by live-broadcaster.ts then
 * (it imports nothing, so no chunk the bundle would load at once).
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

/** Classifies a getUserMedia rejection by its DOMException name. */
export function classifyCameraError(error: unknown): CameraError {
  if (error instanceof CameraError) return error;
  const name = (error as { name?: string } | undefined)?.name ?? "";
  switch (name) {
    // camera.ts's INSECURE_CONTEXT: no getUserMedia at all.
    case "insecure-context":
      return new CameraError(
        "insecure-context",
        "Camera access needs HTTPS (or localhost)",
      );
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
