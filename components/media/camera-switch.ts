/**
 * Switching cameras and the torch: only on a person's click, so a chunk of
 * its own (local-camera.ts loads it then), out of every broadcaster's bundle.
 */
// Types only: a value from camera.ts would make a chunk the bundle loads.
import type { CaptureOptions } from "./camera.ts";

/** Cameras the browser offers (labels once permission was given). */
export async function listCameras(): Promise<MediaDeviceInfo[]> {
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices.filter((device) => device.kind === "videoinput");
}

/**
 * A video track from the camera `options` name, else the one after `old`
 * in the browser's list. A phone that opens one camera at a time refuses
 * the second while the first runs: then `old` stops and it is asked again.
 */
export async function nextVideoTrack(
  old: MediaStreamTrack,
  options: CaptureOptions,
  openTrack: (
    kind: string,
    options: CaptureOptions,
  ) => Promise<MediaStreamTrack>,
): Promise<MediaStreamTrack> {
  const deviceId = options.deviceId ?? (await nextCamera(old));
  const wanted = { ...options, deviceId };
  try {
    return await openTrack("video", wanted);
  } catch {
    old.stop();
    return await openTrack("video", wanted);
  }
}

export async function setTorch(
  track: MediaStreamTrack,
  on: boolean,
): Promise<void> {
  await track.applyConstraints({
    advanced: [{ torch: on } as MediaTrackConstraintSet],
  });
}

/** The camera after `current` in the browser's list, if there are two. */
async function nextCamera(
  current: MediaStreamTrack,
): Promise<string | undefined> {
  const cameras = await listCameras();
  if (cameras.length < 2) return undefined;
  const currentId = current.getSettings().deviceId;
  const index = cameras.findIndex((camera) => camera.deviceId === currentId);
  return cameras[(index + 1) % cameras.length].deviceId || undefined;
}
