/**
 * Janus, not the viewer, starts the DTLS handshake of a subscription.
 *
 * Janus offers `a=setup:actpass` and a browser answers `active`: the browser
 * is the DTLS client and sends its ClientHello the moment its own ICE
 * connects. Janus 1.1 drops DTLS that arrives before it has started its side
 * of the handshake (dtls.c, `dtls_started == 0`), which it does only once its
 * ICE is ready, a little later; so the handshake waited for the browser's
 * first retransmission: ~170 ms between ICE connected and connected, on every
 * viewer's first frame through the SFU (a probe of the lab's timelines,
 * bench/RESULTS.md). Offered `active`, a browser (libwebrtc, Firefox)
 * answers `passive`: Janus is the client, starts the handshake when its ICE
 * is ready and retransmits every 50 ms, and the browser keeps a ClientHello
 * that comes early.
 *
 * Only a first offer: on a renegotiation Janus ignores `a=setup` and a
 * browser keeps the role it has. And only to a client that takes it: RFC
 * 8842 has an offer say `actpass`, and aiortc 1.4 refuses any other, so the
 * SFU's offer says `active` only to `<live-viewer>` (an `overlap` viewer, in
 * a browser: libwebrtc and Firefox answer it `passive`); a seed viewer or a
 * WHEP player on a server offer gets Janus's `actpass`. (A WHEP player
 * that offers, sdp-bridge.ts, connects as the client: answering it `active`
 * instead measured no faster, 271 / 267 ms against 300 / 265, so it stays.)
 */

/** `sdp` (Janus's first offer to a subscriber) with Janus as the DTLS client. */
export function janusConnects(sdp: string): string {
  return sdp.replaceAll("a=setup:actpass", "a=setup:active");
}
