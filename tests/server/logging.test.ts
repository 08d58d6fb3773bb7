/** Logs are JSON lines, one per event, and never carry SDP or candidates. */
import assert from "node:assert/strict";
import { candidate } from "./support/fixtures.ts";
import { startTestServer } from "./support/test-server.ts";

const MARKER = "SECRET-SDP-BODY-7f3a";

for (const level of ["info", "debug"] as const) {
  Deno.test(`at ${level} level no SDP or candidate reaches the log`, async () => {
    await using t = await startTestServer({}, level);
    const { broadcaster, viewers: [viewer] } = await t.liveStream("s", 1);
    const sdp = `v=0\r\na=${MARKER}\r\n`;
    broadcaster.send({
      type: "webrtc-offer",
      streamId: "s",
      viewerId: viewer.id,
      offer: { type: "offer", sdp },
    });
    viewer.send({
      type: "webrtc-answer",
      streamId: "s",
      answer: { type: "answer", sdp },
    });
    viewer.send({
      type: "webrtc-ice-candidate",
      streamId: "s",
      candidate: { ...candidate(1), candidate: MARKER },
    });
    // A malformed offer too: error paths must not echo the body either.
    broadcaster.send({
      type: "webrtc-offer",
      streamId: "s",
      viewerId: viewer.id,
      offer: { type: MARKER, sdp },
    });
    await viewer.next("webrtc-offer");
    await broadcaster.sync();
    await viewer.close();
    await t.closedOnServer(viewer.id);

    assert.ok(t.logs.length > 0);
    for (const line of t.logs) {
      const entry = JSON.parse(line);
      assert.equal(typeof entry.time, "string");
      assert.equal(typeof entry.event, "string");
      assert.ok(!line.includes(MARKER), `leaked: ${line}`);
    }
    const events = t.logs.map((line) => JSON.parse(line));
    assert.ok(events.some((e) => e.event === "listening"), "no listening line");
    const audit = events.filter((e) => e.event === "audit");
    assert.deepEqual(
      audit.map((e) => [e.kind, e.role, e.streamId]),
      [
        ["joined", "broadcaster", "s"],
        ["joined", "viewer", "s"],
        ["left", "viewer", "s"],
      ],
    );
    assert.equal(audit.at(-1).clientId, viewer.id);
  });
}
