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
