/**
 * Whether a client's text is over a limit in UTF-8 bytes, at a cost bounded
 * by the limit rather than by what the client sends. Frames
 * (MAX_MESSAGE_BYTES) and SDP lines (MAX_SDP_LINE_BYTES) are held to it.
 *
 * Browser-safe: no Deno or Node APIs.
 */

/** Whether `text[start, stop)` is longer than `limit` bytes in UTF-8. */
export function exceedsUtf8Bytes(
  text: string,
  limit: number,
  start = 0,
  stop = text.length,
): boolean {
  // Every UTF-16 unit is 1 to 3 UTF-8 bytes: most texts decide here.
  const units = stop - start;
  if (units > limit) return true;
  if (units * 3 <= limit) return false;
  let bytes = 0;
  for (let i = start; i < stop; i++) {
    const unit = text.charCodeAt(i);
    // A surrogate pair is 4 bytes: 2 for each half.
    bytes += unit < 0x80
      ? 1
      : unit < 0x800 || (unit >= 0xd800 && unit <= 0xdfff)
      ? 2
      : 3;
  }
  return bytes > limit;
}
