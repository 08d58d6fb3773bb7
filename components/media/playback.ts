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
  // With sound if asked (then "none"), else muted (then "muted").
  for (const block of ["none", "muted"] as const) {
    try {
      await video.play();
      return block;
    } catch (error) {
      const name = (error as Error | undefined)?.name;
      // A newer srcObject replaced this one; its own play follows.
      if (name === "AbortError") return "aborted";
      if (name !== "NotAllowedError" || video.muted) break;
    }
    video.muted = true;
  }
  return "gesture";
}
