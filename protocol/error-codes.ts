/**
 * Every `code` the server can put in an `error` message. Clients switch on
 * these, so they are part of the wire protocol: add, never rename.
 */
export const ERROR_CODES = [
  /** The frame was not valid JSON. */
  "bad-json",
  /** Binary frames are not part of the protocol. */
  "binary-unsupported",
  /** JSON, but not an object with a string `type`. */
  "bad-message",
  /** `type` is not one the server knows. */
  "unknown-type",
  /** A field is missing or has the wrong type or shape. */
  "invalid-field",
  /** `streamId` is not 1-128 characters of `[A-Za-z0-9._:-]`. */
  "invalid-stream-id",
  /** The frame exceeded MAX_MESSAGE_BYTES (the socket is then closed with 1009). */
  "message-too-large",
  /** Another connection is the broadcaster of this stream. */
  "stream-taken",
  /** The stream has MAX_VIEWERS_PER_STREAM viewers already. */
  "stream-full",
  /** The message names a stream this connection has not joined. */
  "not-in-stream",
  /** The message is not allowed for this connection's role in the stream. */
  "wrong-role",
  /** The broadcaster addressed a viewer that is not in its stream. */
  "unknown-viewer",
  /** A viewer sent an answer or candidate while the stream has no broadcaster. */
  "no-broadcaster",
  /** The connection exceeded its message rate; the message was dropped. */
  "rate-limited",
  /** The server failed on this message; it was dropped, the connection stays. */
  "internal-error",
  /** The server requires a token (SIGNAL_SECRET is set) and none was sent. */
  "token-required",
  /** The token is not a well-formed JWT with the claims we need. */
  "token-malformed",
  /** The token's signature does not verify with the server's secret. */
  "token-signature",
  /** The token is signed with another algorithm than HS256 (or `none`). */
  "token-algorithm",
  /** The token's `exp` has passed. */
  "token-expired",
  /** The token's `nbf` is still ahead. */
  "token-not-yet-valid",
  /** The token is for another stream. */
  "token-wrong-stream",
  /** The token is for the other role. */
  "token-wrong-role",
  /** This broadcaster session was taken over by a newer one of the same subject; the socket is closed. */
  "replaced",
  /** Too many joins or announces from this IP address; try again later. */
  "join-rate-limited",
  /**
   * The resume claim was not honoured: malformed, badly signed or expired
   * (the connection goes on under a new client id), or used for another
   * stream or role than it was issued for (the socket is then closed, 4003).
   */
  "resume-refused",
  /**
   * The server cannot reach the store its cluster shares (REDIS_URL) right
   * now: the message was not acted on; the connection stays. Try again
   * shortly (the elements retry a join or announce after 2 s).
   */
  "cluster-unavailable",
  /**
   * An offer or answer over the limits (MAX_SDP_MEDIA_SECTIONS, MAX_SDP_LINES,
   * MAX_SDP_LINE_BYTES), or one bound for the SFU that Janus could not
   * parse: the message was dropped, the connection stays.
   */
  "bad-sdp",
  /**
   * The SFU cannot serve this stream now (its broadcaster stays peer to
   * peer, or Janus is away), and this viewer can watch only through it (a
   * WHEP player): its join is refused.
   */
  "sfu-unavailable",
  /**
   * The stream's media is end-to-end encrypted (`broadcaster-ready.e2ee`)
   * and this viewer did not say it decrypts (`join-stream.e2ee`): it is not
   * paired with that broadcaster (it would get ciphertext), stays in the
   * stream and waits; sent again each time such a broadcaster goes live.
   */
  "stream-encrypted",
] as const;

export type ErrorCode = typeof ERROR_CODES[number];
