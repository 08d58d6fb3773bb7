/**
 * Where the elements connect when `signaling-url` is absent: `/ws` on the
 * origin the bundle was loaded from, which is the server that serves it.
 */
export function defaultSignalingUrl(moduleUrl: string): string {
  const url = new URL("/ws", moduleUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

/** The seed's STUN server; replaced by the `ice-servers` attribute or the server's list. */
export const DEFAULT_ICE_SERVERS: RTCIceServer[] = [
  { urls: "stun:stun.l.google.com:19302" },
];

/** Parses the `ice-servers` attribute (JSON); a bad value falls back to the default. */
export function parseIceServers(
  value: string | null,
): RTCIceServer[] | undefined {
  if (value === null) return undefined;
  try {
    const parsed = JSON.parse(value);
    if (Array.isArray(parsed)) return parsed as RTCIceServer[];
  } catch {
    // Fall through: an unparseable attribute must not break the element.
  }
  console.warn(`ice-servers is not a JSON array: ${value}`);
  return undefined;
}
