import assert from "node:assert/strict";
import { janusConnects } from "../../server/sfu/dtls-role.ts";

const OFFER = [
  "v=0",
  "o=- 1 1 IN IP4 127.0.0.1",
  "s=VideoRoom 1",
  "t=0 0",
  "a=group:BUNDLE 0 1",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111",
  "a=mid:0",
  "a=setup:actpass",
  "a=sendonly",
  "m=video 9 UDP/TLS/RTP/SAVPF 96",
  "a=mid:1",
  "a=setup:actpass",
  "a=sendonly",
  "",
].join("\r\n");

Deno.test("Janus's first offer to a subscriber makes Janus the DTLS client, in every section", () => {
  const sdp = janusConnects(OFFER);
  assert.equal(sdp.match(/a=setup:active\r\n/g)?.length, 2);
  assert.ok(!sdp.includes("actpass"));
  // Nothing else changes.
  assert.equal(sdp.replaceAll("a=setup:active", "a=setup:actpass"), OFFER);
});

Deno.test("an offer that already names a role is left as it is", () => {
  const passive = OFFER.replaceAll("actpass", "passive");
  assert.equal(janusConnects(passive), passive);
});
