/**
 * Which leading bytes of an encoded frame stay in the clear under SFrame
 * (see sframe.ts), so that the SFU can route and switch layers and the RTP
 * packetizer and depacketizer still work. The clear bytes are authenticated
 * (they are SFrame metadata), only not hidden.
 *
 * - VP8 (RFC 6386 §9.1): the uncompressed data chunk, 10 bytes of a key
 *   frame (3-byte frame tag, start code 9d 01 2a, width and height) and 3
 *   of a delta frame. The key-frame bit is bit 0 of byte 0, 0 meaning key
 *   frame. Janus detects VP8 key frames (for simulcast switching and PLI
 *   handling) from exactly these bytes; LiveKit and the WebRTC end-to-end
 *   encryption sample clear the same 10/3. The VP8 payload descriptor is in
 *   the RTP packet, not in the frame, and stays readable anyway.
 * - H.264 (Annex B, as encoded transforms deliver it): every NAL unit before
 *   the first coded slice (AUD, SPS, PPS, SEI) stays clear whole, plus the
 *   first slice's start code and NAL header byte. The SFU reads NAL types
 *   (SPS 7 / IDR 5) to find key frames, and the packetizer splits the frame
 *   at start codes and puts the NAL header type in STAP-A/FU-A headers. The
 *   encrypted remainder (slice data, any later slices, SFrame header and
 *   tag) is arbitrary bytes and would contain false start codes, so it is
 *   escaped with H.264 emulation prevention ({@link escapeH264}) after
 *   encryption and unescaped ({@link unescapeH264}) before decryption; to
 *   the packetizer it is one NAL unit with the first slice's header. This
 *   is what LiveKit does (clear up to the first slice, then RBSP-escaped
 *   ciphertext). Keeping every later slice's start code and header clear
 *   too would need one SFrame per NAL unit (a header, a tag and a cipher
 *   call each) or a scattered layout no other implementation reads, for no
 *   gain to Janus, which only inspects the first NAL units of a frame.
 *   Decoders never see the escaped form: the receiver unescapes, decrypts
 *   and hands on the original frame.
 * - Opus: 0 bytes. The TOC byte (RFC 6716 §3.1) tells mode, bandwidth,
 *   frame size and stereo, i.e. something about the content, and nothing in
 *   our path reads it: Janus forwards Opus without parsing the payload and
 *   takes audio levels from the RTP header extension. (The WebRTC sample
 *   keeps it so a middlebox can see the Opus mode; we have no such
 *   middlebox.)
 *
 * @module
 */

/** Codecs whose frames this module can lay out. */
export type FrameCodec = "vp8" | "h264" | "opus";

/** Clear bytes of a VP8 frame: 10 for a key frame, 3 for a delta frame. */
export function vp8ClearBytes(frame: Uint8Array): number {
  if (frame.length === 0) return 0;
  const keyFrame = (frame[0] & 0x01) === 0;
  return Math.min(keyFrame ? 10 : 3, frame.length);
}

/** Clear bytes of an Opus frame: none (see the module doc). */
export function opusClearBytes(_frame?: Uint8Array): number {
  return 0;
}

const H264_SLICE_NON_IDR = 1;
const H264_SLICE_IDR = 5;

/**
 * Offsets just past each Annex B start code (00 00 01 or 00 00 00 01) in
 * `frame`, i.e. where each NAL unit's header byte is.
 */
export function h264NalStarts(frame: Uint8Array): number[] {
  const starts: number[] = [];
  for (let i = 2; i < frame.length; i++) {
    if (frame[i] === 1 && frame[i - 1] === 0 && frame[i - 2] === 0) {
      starts.push(i + 1);
    }
  }
  return starts.filter((at) => at < frame.length);
}

/**
 * Clear bytes of an H.264 Annex B frame: everything up to and including the
 * first coded slice's NAL header byte. A frame without a slice (or not in
 * Annex B) gets 0: all of it is encrypted and escaped. Either way the
 * receiver finds the same number in the protected frame, because the clear
 * part is unchanged and the escaped remainder holds no start code.
 */
export function h264ClearBytes(frame: Uint8Array): number {
  for (const at of h264NalStarts(frame)) {
    const type = frame[at] & 0x1f;
    if (type === H264_SLICE_NON_IDR || type === H264_SLICE_IDR) return at + 1;
  }
  return 0;
}

/**
 * Clear bytes of `frame` for `codec` (see the module doc for why). For a
 * well-formed frame the receiver gets the same number from the protected
 * frame (clear bytes + SFrame), so it needs no side channel to decrypt.
 */
export function clearBytes(codec: FrameCodec, frame: Uint8Array): number {
  switch (codec) {
    case "vp8":
      return vp8ClearBytes(frame);
    case "h264":
      return h264ClearBytes(frame);
    case "opus":
      return opusClearBytes(frame);
  }
}

/** True when the codec's encrypted part must be emulation-escaped. */
export function needsEscape(codec: FrameCodec): boolean {
  return codec === "h264";
}

/**
 * H.264 emulation prevention (ITU-T H.264 §7.4.1) over arbitrary bytes:
 * after two zero bytes, a 0x03 is inserted before any byte 0x00-0x03 and at
 * the very end, so the result holds no 00 00 0x (x <= 3) and does not end in
 * 00 00, and no start code can be seen in it or across its end.
 */
export function escapeH264(data: Uint8Array): Uint8Array {
  let zeros = 0;
  let extra = 0;
  for (let i = 0; i < data.length; i++) {
    if (zeros >= 2 && data[i] <= 3) {
      extra++;
      zeros = 0;
    }
    zeros = data[i] === 0 ? zeros + 1 : 0;
  }
  if (zeros >= 2) extra++;
  if (extra === 0) return data;
  const out = new Uint8Array(data.length + extra);
  let o = 0;
  zeros = 0;
  for (let i = 0; i < data.length; i++) {
    if (zeros >= 2 && data[i] <= 3) {
      out[o++] = 3;
      zeros = 0;
    }
    out[o++] = data[i];
    zeros = data[i] === 0 ? zeros + 1 : 0;
  }
  if (zeros >= 2) out[o++] = 3;
  return out;
}

/** Inverse of {@link escapeH264}: drops each 0x03 that follows 00 00. */
export function unescapeH264(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  let o = 0;
  let zeros = 0;
  for (let i = 0; i < data.length; i++) {
    if (zeros >= 2 && data[i] === 3) {
      zeros = 0;
      continue;
    }
    out[o++] = data[i];
    zeros = data[i] === 0 ? zeros + 1 : 0;
  }
  return o === data.length ? data : out.subarray(0, o);
}
