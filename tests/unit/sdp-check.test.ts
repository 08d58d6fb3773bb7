/** SDP bounds and Janus's syntax (protocol/sdp-check.ts), without a server. */
import assert from "node:assert/strict";
import {
  DEFAULT_SDP_LIMITS,
  sdpLimitProblem,
  sdpSyntaxProblem,
  withCrlf,
} from "../../protocol/sdp-check.ts";

/** Chromium's offer for a camera and a microphone, trimmed of most codecs. */
const BROWSER_OFFER = [
  "v=0",
  "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0 1",
  "a=extmap-allow-mixed",
  "a=msid-semantic: WMS",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111 63",
  "c=IN IP4 0.0.0.0",
  "a=rtcp:9 IN IP4 0.0.0.0",
  "a=candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host generation 0 network-id 1",
  "a=ice-ufrag:abcd",
  "a=ice-pwd:abcdefghijklmnopqrstuvwx",
  "a=ice-options:trickle",
  "a=fingerprint:sha-256 " +
  "12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0",
  "a=setup:actpass",
  "a=mid:0",
  "a=sendonly",
  "a=msid:- 2b3f9d1c-8f0e-4c55-9a0e-6b2b5d6f1e7a",
  "a=rtcp-mux",
  "a=rtpmap:111 opus/48000/2",
  "a=fmtp:111 minptime=10;useinbandfec=1",
  "a=rtpmap:63 red/48000/2",
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97",
  "c=IN IP4 0.0.0.0",
  "a=mid:1",
  "a=rtpmap:96 VP8/90000",
  "a=rtcp-fb:96 nack pli",
  "a=rtpmap:97 rtx/90000",
  "a=fmtp:97 apt=96",
  "a=rid:h send",
  "a=rid:m send",
  "a=simulcast:send h;m",
  "",
].join("\r\n");

Deno.test("a browser's offer is within the default limits and parses as Janus wants", () => {
  assert.equal(sdpLimitProblem(BROWSER_OFFER, DEFAULT_SDP_LIMITS), undefined);
  assert.equal(sdpSyntaxProblem(BROWSER_OFFER), undefined);
});

Deno.test("limits: media sections, lines and line length, each named in the refusal", () => {
  const limits = { maxMediaSections: 2, maxLines: 40, maxLineBytes: 200 };
  assert.equal(sdpLimitProblem(BROWSER_OFFER, limits), undefined);
  const thousand = BROWSER_OFFER +
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:x\r\n".repeat(1_000);
  assert.equal(
    sdpLimitProblem(thousand, { ...limits, maxLines: 10_000 }),
    "An SDP has at most 2 media sections",
  );
  assert.equal(
    sdpLimitProblem(thousand, DEFAULT_SDP_LIMITS),
    "An SDP has at most 16 media sections",
  );
  assert.equal(
    sdpLimitProblem(BROWSER_OFFER + "a=x\r\n".repeat(20), limits),
    "An SDP has at most 40 lines",
  );
  assert.equal(
    sdpLimitProblem(`${BROWSER_OFFER}a=x:${"y".repeat(197)}\r\n`, limits),
    "An SDP line has at most 200 bytes",
  );
  // Exactly at the line limit passes (CR not counted).
  assert.equal(
    sdpLimitProblem(`${BROWSER_OFFER}a=x:${"y".repeat(196)}\r\n`, limits),
    undefined,
  );
  // One endless line is refused at its end, not split into lines first.
  assert.match(
    sdpLimitProblem("v=0".padEnd(1_000_000, "x"), DEFAULT_SDP_LIMITS)!,
    /at most 1024 bytes/,
  );
  // Bytes in UTF-8, not characters: 70 Chinese characters are 210 bytes.
  assert.match(
    sdpLimitProblem(`${BROWSER_OFFER}s=${"订".repeat(70)}\r\n`, limits)!,
    /at most 200 bytes/,
  );
});

Deno.test("syntax: what Janus cannot parse is refused with the reason", () => {
  const without = (prefix: string) =>
    BROWSER_OFFER.split("\r\n").filter((l) => !l.startsWith(prefix)).join(
      "\r\n",
    );
  const cases: [string, RegExp][] = [
    [BROWSER_OFFER.replace("s=-", "s=-\0"), /control characters/],
    [without("o="), /one o= line/],
    [without("s="), /one s= line/],
    [without("t="), /t= line/],
    [without("m="), /Not an SDP line|media section/],
    ["v=0\r\no=- 1 2 IN IP4 x\r\ns=-\r\nt=0 0\r\n", /media section/],
    [BROWSER_OFFER.replace("v=0", "v=1"), /starts with v=0/],
    ["hello", /starts with v=0/],
    [BROWSER_OFFER.replace("s=-\r\n", "s=-\rt=0 0\r\n"), /CRLF or LF/],
    [BROWSER_OFFER.replace("o=- 4611731400430051336 2", "o=- x 2"), /o= line/],
    [BROWSER_OFFER.replace("t=0 0", "t=now"), /t= line/],
    [BROWSER_OFFER.replace("a=mid:0", "a=mid:"), /a= line/],
    [BROWSER_OFFER.replace("a=sendonly", "ab"), /Not an SDP line/],
    [BROWSER_OFFER.replace("m=audio", "m=text"), /m= line/],
    [
      BROWSER_OFFER.replace("96 97", `96 ${"97 ".repeat(70)}97`),
      /m= line/,
    ],
    [BROWSER_OFFER.replace("c=IN IP4", "c=IN IPX"), /c= line/],
    [BROWSER_OFFER.replace("s=-", "s=-\r\no=- 1 2 IN IP4 x"), /o= line/],
  ];
  for (const [sdp, reason] of cases) {
    assert.match(sdpSyntaxProblem(sdp) ?? "passed", reason, sdp.slice(0, 80));
  }
});

Deno.test("syntax: what Janus takes is taken: IPv6 addresses ending in a colon, blank lines", () => {
  const ipv6 = BROWSER_OFFER.replace(
    "a=rtcp:9 IN IP4 0.0.0.0",
    "a=rtcp:9 IN IP6 ::",
  ).replace("c=IN IP4 0.0.0.0", "c=IN IP6 ::");
  assert.equal(sdpSyntaxProblem(ipv6), undefined);
  assert.equal(sdpSyntaxProblem(BROWSER_OFFER + "\r\n"), undefined);
  assert.equal(
    sdpSyntaxProblem(BROWSER_OFFER.replace("a=mid:1", "a=mid:1\r\n")),
    undefined,
  );
});

Deno.test("syntax: LF line endings parse (RFC 8866 §5) and are made CRLF for Janus", () => {
  const lf = BROWSER_OFFER.replaceAll("\r\n", "\n");
  assert.equal(sdpSyntaxProblem(lf), undefined);
  assert.equal(withCrlf(lf), BROWSER_OFFER);
  assert.equal(withCrlf(BROWSER_OFFER), BROWSER_OFFER);
});
