/**
 * The `o=` line's session id: constant for one RTCPeerConnection's offers,
 * ICE restarts included (RFC 3264), so it names a connection on both sides.
 */
export function sessionIdOf(sdp: string): string | undefined {
  return /^o=\S+ (\S+) /m.exec(sdp)?.[1];
}
