/** WHEP over a VideoRoom that only offers (server/sfu/sdp-bridge.ts). */
import assert from "node:assert/strict";
import {
  bridge,
  janusMid,
  SdpBridgeError,
} from "../../server/sfu/sdp-bridge.ts";

const PLAYER = [
  "v=0",
  "o=- 111 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0 1",
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97",
  "c=IN IP4 0.0.0.0",
  "a=ice-ufrag:PLAY",
  "a=ice-pwd:playerpasswordplayerpass",
  "a=fingerprint:sha-256 AA:AA",
  "a=setup:actpass",
  "a=mid:0",
  "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
  "a=recvonly",
  "a=rtcp-mux",
  "a=rtpmap:96 VP8/90000",
  "a=rtcp-fb:96 nack pli",
  "a=rtpmap:97 rtx/90000",
  "a=fmtp:97 apt=96",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111",
  "c=IN IP4 0.0.0.0",
  "a=ice-ufrag:PLAY",
  "a=ice-pwd:playerpasswordplayerpass",
  "a=fingerprint:sha-256 AA:AA",
  "a=setup:actpass",
  "a=mid:1",
  "a=recvonly",
  "a=rtcp-mux",
  "a=rtpmap:111 opus/48000/2",
  "a=candidate:1 1 udp 2113937151 10.0.0.2 50000 typ host",
  "",
].join("\r\n");

const JANUS = [
  "v=0",
  "o=- 999 1 IN IP4 10.0.0.1",
  "s=VideoRoom 1",
  "t=0 0",
  "a=group:BUNDLE a v",
  "a=ice-options:trickle",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111",
  "c=IN IP4 10.0.0.1",
  "a=sendonly",
  "a=mid:a",
  "a=rtcp-mux",
  "a=ice-ufrag:JANU",
  "a=ice-pwd:januspasswordjanuspassw",
  "a=fingerprint:sha-256 BB:BB",
  "a=setup:actpass",
  "a=rtpmap:111 opus/48000/2",
  "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
  "a=msid:janus janusa",
  "a=ssrc:1001 cname:janus",
  "a=candidate:1 1 udp 2015363327 10.0.0.1 20001 typ host",
  "a=end-of-candidates",
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97",
  "c=IN IP4 10.0.0.1",
  "a=sendonly",
  "a=mid:v",
  "a=rtcp-mux",
  "a=ice-ufrag:JANU",
  "a=ice-pwd:januspasswordjanuspassw",
  "a=fingerprint:sha-256 BB:BB",
  "a=setup:actpass",
  "a=rtpmap:96 VP8/90000",
  "a=rtcp-fb:96 nack pli",
  "a=rtpmap:97 rtx/90000",
  "a=fmtp:97 apt=96",
  "a=msid:janus janusv",
  "a=ssrc-group:FID 2001 2002",
  "a=ssrc:2001 cname:janus",
  "a=ssrc:2002 cname:janus",
  "a=candidate:1 1 udp 2015363327 10.0.0.1 20001 typ host",
  "a=end-of-candidates",
  "",
].join("\r\n");

const lines = (sdp: string) => sdp.split("\r\n");

Deno.test("sdp bridge: the player gets Janus's transport, codecs and SSRCs under its own mids; Janus the player's under its own", () => {
  const { toPlayer, toJanus } = bridge(PLAYER, JANUS);
  const p = lines(toPlayer);
  // The player's order and mids; Janus's credentials, fingerprint, candidates.
  assert.ok(p.includes("a=group:BUNDLE 0 1"));
  assert.deepEqual(p.filter((l) => l.startsWith("m=")), [
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111",
  ]);
  assert.equal(p.filter((l) => l === "a=ice-ufrag:JANU").length, 2);
  assert.equal(p.filter((l) => l === "a=fingerprint:sha-256 BB:BB").length, 2);
  assert.equal(p.filter((l) => l === "a=setup:passive").length, 2);
  assert.equal(p.filter((l) => l === "a=sendonly").length, 2);
  assert.ok(p.includes("a=ssrc-group:FID 2001 2002"));
  assert.ok(
    p.includes("a=candidate:1 1 udp 2015363327 10.0.0.1 20001 typ host"),
  );
  // No header extensions either way (their ids differ).
  assert.ok(!toPlayer.includes("extmap"));
  assert.ok(!toJanus.includes("extmap"));
  const j = lines(toJanus);
  assert.ok(j.includes("a=group:BUNDLE a v"));
  assert.deepEqual(j.filter((l) => l.startsWith("a=mid:")), [
    "a=mid:a",
    "a=mid:v",
  ]);
  assert.equal(j.filter((l) => l === "a=ice-ufrag:PLAY").length, 2);
  assert.equal(j.filter((l) => l === "a=setup:active").length, 2);
  assert.equal(j.filter((l) => l === "a=recvonly").length, 2);
  assert.ok(
    j.includes("a=candidate:1 1 udp 2113937151 10.0.0.2 50000 typ host"),
  );
  // Trickled candidates of the player's mid 0 (video) go to Janus's "v".
  assert.equal(janusMid(PLAYER, JANUS, "0"), "v");
  assert.equal(janusMid(PLAYER, JANUS, "1"), "a");
});

Deno.test("sdp bridge: a section whose codec the player numbers otherwise is refused; none at all is an error", () => {
  const otherOpus = PLAYER.replaceAll("111", "109");
  const { toPlayer, toJanus } = bridge(otherOpus, JANUS);
  assert.ok(lines(toPlayer).includes("m=audio 0 UDP/TLS/RTP/SAVPF 109"));
  assert.ok(lines(toPlayer).includes("a=group:BUNDLE 0"));
  assert.ok(lines(toJanus).includes("m=audio 0 UDP/TLS/RTP/SAVPF 111"));
  assert.throws(
    () => bridge(otherOpus.replaceAll("96", "120"), JANUS),
    SdpBridgeError,
  );
  assert.throws(
    () => bridge(PLAYER.replaceAll("a=ice-ufrag:PLAY\r\n", ""), JANUS),
    SdpBridgeError,
  );
});
