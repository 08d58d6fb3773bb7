/**
 * RFC 8840 fragments as WHIP/WHEP carry them (protocol/sdp-fragment.ts) and
 * RFC 9725 ICE-server `Link` headers (components/session/http-media-session.ts).
 */
import assert from "node:assert/strict";
import {
  fragmentOf,
  iceCredentials,
  parseFragment,
  withIce,
} from "../../protocol/sdp-fragment.ts";
import { linkedIceServers } from "../../components/session/http-media-session.ts";

const OFFER = [
  "v=0",
  "o=- 1 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0 1",
  "m=video 9 UDP/TLS/RTP/SAVPF 96",
  "a=ice-ufrag:old1",
  "a=ice-pwd:oldpasswordoldpassword12",
  "a=mid:0",
  "a=candidate:1 1 udp 2113937151 10.0.0.1 5000 typ host",
  "a=end-of-candidates",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111",
  "a=ice-ufrag:old1",
  "a=ice-pwd:oldpasswordoldpassword12",
  "a=mid:1",
  "",
].join("\r\n");

Deno.test("parseFragment reads credentials, candidates under their mid, and the end", () => {
  const fragment = parseFragment(
    "a=ice-ufrag:new1\na=ice-pwd:pw\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=candidate:2 1 udp 1 10.0.0.2 6000 typ host\r\na=end-of-candidates\r\n",
  );
  assert.deepEqual(fragment, {
    ufrag: "new1",
    pwd: "pw",
    candidates: [{
      candidate: "candidate:2 1 udp 1 10.0.0.2 6000 typ host",
      mid: "0",
    }],
    end: true,
  });
  assert.deepEqual(parseFragment("garbage\r\n"), {
    ufrag: undefined,
    pwd: undefined,
    candidates: [],
    end: false,
  });
});

Deno.test("fragmentOf gives the bundled transport: credentials, the first section's mid and candidates", () => {
  assert.equal(
    fragmentOf(OFFER),
    [
      "a=ice-ufrag:old1",
      "a=ice-pwd:oldpasswordoldpassword12",
      "m=video 9 UDP/TLS/RTP/SAVPF 96",
      "a=mid:0",
      "a=candidate:1 1 udp 2113937151 10.0.0.1 5000 typ host",
      "a=end-of-candidates",
      "",
    ].join("\r\n"),
  );
  // It reads back as what it came from.
  assert.deepEqual(iceCredentials(fragmentOf(OFFER)), iceCredentials(OFFER));
});

Deno.test("fragmentOf with candidates: a trickle of those only, inside the first section (RFC 8840's shape: credentials, m= line, mid)", () => {
  const late = ["a=candidate:9 1 udp 1 192.0.2.9 9000 typ srflx"];
  const trickle = fragmentOf(OFFER, late);
  assert.equal(
    trickle,
    [
      "a=ice-ufrag:old1",
      "a=ice-pwd:oldpasswordoldpassword12",
      "m=video 9 UDP/TLS/RTP/SAVPF 96",
      "a=mid:0",
      ...late,
      "",
    ].join("\r\n"),
  );
  // Read back: the same credentials (no restart), the candidate under mid 0.
  assert.deepEqual(parseFragment(trickle), {
    ufrag: "old1",
    pwd: "oldpasswordoldpassword12",
    candidates: [{ candidate: late[0].slice(2), mid: "0" }],
    end: false,
  });
});

Deno.test("fragmentOf: the BUNDLE group's first section, not a first one an answer rejected", () => {
  const answer = [
    "v=0",
    "o=- 1 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 1",
    "m=audio 0 UDP/TLS/RTP/SAVPF 0",
    "a=mid:0",
    "m=video 9 UDP/TLS/RTP/SAVPF 96",
    "a=ice-ufrag:ans1",
    "a=ice-pwd:answerpasswordanswerpw12",
    "a=mid:1",
    "a=candidate:1 1 udp 2113937151 10.0.0.1 5000 typ host",
    "",
  ].join("\r\n");
  const late = ["a=candidate:9 1 udp 1 192.0.2.9 9000 typ srflx"];
  assert.equal(
    fragmentOf(answer, late),
    [
      "a=ice-ufrag:ans1",
      "a=ice-pwd:answerpasswordanswerpw12",
      "m=video 9 UDP/TLS/RTP/SAVPF 96",
      "a=mid:1",
      ...late,
      "",
    ].join("\r\n"),
  );
  // A mid that only begins like the group's is not it.
  assert.match(
    fragmentOf(answer.replace("BUNDLE 1", "BUNDLE 10")),
    /^m=audio 0 .*\r\na=mid:0\r\n/m,
  );
});

Deno.test("withIce puts new credentials in every section and the candidates where they belong", () => {
  const sdp = withIce(
    OFFER,
    parseFragment(
      "a=ice-ufrag:new1\r\na=ice-pwd:newpw\r\na=mid:1\r\na=candidate:3 1 udp 1 10.0.0.3 7000 typ host\r\n",
    ),
  );
  assert.equal(sdp.match(/a=ice-ufrag:new1/g)?.length, 2);
  assert.equal(sdp.match(/a=ice-pwd:newpw/g)?.length, 2);
  assert.doesNotMatch(sdp, /old1|10\.0\.0\.1|end-of-candidates/);
  // Under mid 1 (the audio section), after its other lines.
  assert.match(sdp, /a=mid:1\r\na=candidate:3 1 udp 1 10\.0\.0\.3 7000/);
  // No mid: the first section.
  const first = withIce(OFFER, {
    ufrag: undefined,
    pwd: undefined,
    candidates: [{
      candidate: "candidate:4 1 udp 1 10.0.0.4 8000 typ host",
      mid: undefined,
    }],
    end: false,
  });
  assert.match(first, /a=mid:0\r\na=candidate:4 [^\r]+\r\nm=audio/);
  assert.match(first, /a=ice-ufrag:old1/);
});

Deno.test("linkedIceServers reads RFC 9725 Link headers (TURN with credentials, STUN without, other rels ignored)", () => {
  assert.deepEqual(
    linkedIceServers(
      '<stun:stun.example.net>; rel="ice-server", <turn:turn.example.net?transport=udp>; rel="ice-server"; username="user"; credential="pass"; credential-type="password", <https://example.net/doc>; rel="help"',
    ),
    [
      { urls: "stun:stun.example.net" },
      {
        urls: "turn:turn.example.net?transport=udp",
        username: "user",
        credential: "pass",
      },
    ],
  );
  assert.deepEqual(linkedIceServers(null), []);
});
