/**
 * Whether a connection's path went silent: we keep sending, nothing comes
 * back. A viewer's browser answers our video with congestion feedback every
 * 50-250 ms, so a path that carries video and brings nothing back for
 * {@link SILENT_MS} is probably gone: our address changed (Wi-Fi to
 * cellular), which neither the socket nor ICE notices for seconds (ICE
 * calls it `disconnected` after ~5 s). Counting our own packets keeps a
 * slow sender (camera off: a frame a second) from looking silent.
 */

/** Nothing received this long while sending: silent. */
export const SILENT_MS = 300;
/** ...and at least this many packets sent meanwhile. */
export const SILENT_PACKETS = 8;

/** A connection's packet counts when it last received something. */
export interface PathCount {
  received: number;
  sent: number;
  at: number;
  /** This silence was reported already. */
  told?: boolean;
}

/**
 * One sample of a connection's packet counts at `now` (ms), kept on
 * `holder`; true once per silence (nothing received for `silentMs`), when
 * it begins.
 */
export function fellSilent(
  holder: { path?: PathCount },
  received: number,
  sent: number,
  now: number,
  silentMs = SILENT_MS,
): boolean {
  const path = holder.path;
  if (!path || received !== path.received || sent < path.sent) {
    holder.path = { received, sent, at: now };
    return false;
  }
  return !path.told && now - path.at >= silentMs &&
    sent - path.sent >= SILENT_PACKETS && (path.told = true);
}

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
