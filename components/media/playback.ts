/**
 * Starting playback of a live stream the way browsers allow it: with sound
 * if permitted, else muted (offer "tap to unmute"), else not at all until a
 * click (offer "click to play"). Never a silent black box.
 */
export type PlaybackBlock = "none" | "muted" | "gesture";

/** Plays `video`; resolves with what, if anything, still needs the person. */
export async function startPlayback(
  video: HTMLVideoElement,
  wantSound: boolean,
): Promise<PlaybackBlock | "aborted"> {
  video.muted = !wantSound;
  try {
    await video.play();
    return "none";
  } catch (error) {
    // AbortError: a newer srcObject replaced this one; its own play follows.
    if (isAbort(error)) return "aborted";
    if (!isNotAllowed(error) || video.muted) return "gesture";
  }
  video.muted = true;
  try {
    await video.play();
    return "muted";
  } catch (error) {
    return isAbort(error) ? "aborted" : "gesture";
  }
}

function isAbort(error: unknown): boolean {
  return (error as { name?: string })?.name === "AbortError";
}

function isNotAllowed(error: unknown): boolean {
  return (error as { name?: string })?.name === "NotAllowedError";
}
