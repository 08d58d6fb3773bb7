/**
 * When a player's path went silent: media stopped arriving (path-silence.ts
 * asks the same of a sender). A module of its own, imported by the WHEP
 * chunk alone (whep-player.ts), so that the viewer's bundle does not hold
 * it: a player is the only receiver with no one on the other side to notice.
 */
/** A player's media packet count when it last changed. */
export interface MediaCount {
  received: number;
  at: number;
  /** This silence was reported already. */
  told?: boolean;
}

/**
 * The same question for a player, which sends next to nothing (its RTCP
 * feedback stops too when nothing arrives): one sample of the media packets
 * received at `now` (ms), kept on `holder`; true once per silence, when no
 * packet came for `silentMs` after some had (a stream that has not started
 * is not silent). A sender that stops for good costs one restart, then
 * waits for media again.
 */
export function stoppedReceiving(
  holder: { media?: MediaCount },
  received: number,
  now: number,
  silentMs: number,
): boolean {
  const media = holder.media;
  if (!media || received !== media.received) {
    holder.media = { received, at: now };
    return false;
  }
  return received > 0 && !media.told && now - media.at >= silentMs &&
    (media.told = true);
}
