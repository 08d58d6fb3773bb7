/**
 * Bounds and syntax for SDP a client sends: offers and answers over the
 * WebSocket, WHIP and WHEP bodies and their PATCH fragments. Two checks:
 *
 * - {@link sdpLimitProblem}: the size of the description (media sections,
 *   lines, line length), for every SDP, so no client makes a peer or Janus
 *   allocate for a thousand m-lines. One pass over the text, whose length
 *   the caller has capped (MAX_MESSAGE_BYTES, MAX_SDP_BYTES).
 * - {@link sdpSyntaxProblem}: the lines Janus's parser needs
 *   (`janus_sdp_parse`: `v=` first, one well-formed `o=`, `s=`, `t=`, every
 *   line `x=` and 3 or more characters, `m=` lines of at most 200
 *   characters), for SDP that goes to Janus: refused at once rather than
 *   after Janus's error or silence.
 *
 * Browser-safe: no Deno or Node APIs.
 */

import { exceedsUtf8Bytes } from "./utf8-limit.ts";

/** How large a client's SDP may be (MAX_SDP_* in the server's configuration). */
export interface SdpLimits {
  /** `m=` sections: a camera and a microphone are 2. */
  maxMediaSections: number;
  /** Lines in all: a browser's audio and video offer is 80-200. */
  maxLines: number;
  /** UTF-8 bytes in one line: a browser's longest is about 150. */
  maxLineBytes: number;
}

/** The defaults, about ten times what a browser sends (docs/server.md, Configuration). */
export const DEFAULT_SDP_LIMITS: Readonly<SdpLimits> = {
  maxMediaSections: 16,
  maxLines: 2_000,
  maxLineBytes: 1_024,
};

/**
 * Why `sdp` is over `limits`, or undefined. Stops at the first line past a
 * limit.
 */
export function sdpLimitProblem(
  sdp: string,
  limits: SdpLimits,
): string | undefined {
  let lines = 0;
  let sections = 0;
  let start = 0;
  while (start < sdp.length) {
    let end = sdp.indexOf("\n", start);
    if (end === -1) end = sdp.length;
    const stop = end - (sdp.charCodeAt(end - 1) === 13 ? 1 : 0);
    if (++lines > limits.maxLines) {
      return `An SDP has at most ${limits.maxLines} lines`;
    }
    if (exceedsUtf8Bytes(sdp, limits.maxLineBytes, start, stop)) {
      return `An SDP line has at most ${limits.maxLineBytes} bytes`;
    }
    if (sdp.startsWith("m=", start) && ++sections > limits.maxMediaSections) {
      return `An SDP has at most ${limits.maxMediaSections} media sections`;
    }
    start = end + 1;
  }
  return undefined;
}

/** Janus's parser refuses longer `m=` lines (janus_sdp_parse). */
const MAX_M_LINE = 200;
/** Control characters other than tab, CR and LF: never in an SDP. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const LINE = /^[a-z]=./;
const ORIGIN = /^o=\S+ \d{1,20} \d{1,20} IN IP[46] \S+$/;
const TIMING = /^t=\d{1,20} \d{1,20}$/;
const CONNECTION = /^c=IN IP[46] \S+$/;
const MEDIA = /^m=(audio|video|application) \d{1,5}(\/\d+)? \S+( \S+)+$/;

/**
 * Why `sdp` is not a description Janus can parse, or undefined. Line ends
 * may be CRLF or LF (RFC 8866 §5 asks parsers to take both); a lone CR is
 * refused. Call {@link sdpLimitProblem} first: this one's cost grows with
 * the text.
 */
export function sdpSyntaxProblem(sdp: string): string | undefined {
  if (CONTROL.test(sdp)) return "An SDP holds no control characters";
  const lines = sdp.split("\n");
  if (lines.at(-1) === "") lines.pop();
  let origin = 0;
  let session = 0;
  let timing = 0;
  let media = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].endsWith("\r") ? lines[i].slice(0, -1) : lines[i];
    if (line.includes("\r")) return "An SDP line ends with CRLF or LF";
    if (i === 0 && line !== "v=0") return "An SDP starts with v=0";
    // Janus skips empty lines (a body may end with a blank one).
    if (line === "") continue;
    if (!LINE.test(line) || line.length < 3) {
      return `Not an SDP line: ${JSON.stringify(line.slice(0, 40))}`;
    }
    const bad = (what: string) =>
      `Malformed ${what} line: ${JSON.stringify(line.slice(0, 80))}`;
    switch (line[0]) {
      case "o":
        if (++origin > 1 || media > 0 || !ORIGIN.test(line)) return bad("o=");
        break;
      case "s":
        if (++session > 1 || media > 0) return bad("s=");
        break;
      case "t":
        if (media > 0 || !TIMING.test(line)) return bad("t=");
        timing++;
        break;
      case "c":
        if (!CONNECTION.test(line)) return bad("c=");
        break;
      case "m":
        if (line.length > MAX_M_LINE || !MEDIA.test(line)) return bad("m=");
        media++;
        break;
      case "a":
        // `a=name` or `a=name:value`, the value not empty (it may hold more
        // colons: `a=rtcp:9 IN IP6 ::`).
        if (line.indexOf(":") === line.length - 1) return bad("a=");
        break;
    }
  }
  if (origin !== 1) return "An SDP needs one o= line";
  if (session !== 1) return "An SDP needs one s= line";
  if (timing === 0) return "An SDP needs a t= line";
  if (media === 0) return "An SDP needs a media section (m=)";
  return undefined;
}

/** `sdp` with every line ended by CRLF, as Janus and RFC 8866 want it. */
export function withCrlf(sdp: string): string {
  return sdp.replace(/\r?\n/g, "\r\n");
}
