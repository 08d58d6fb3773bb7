/** `GET /metrics`'s text: labelled counters whose labels are known up front. */
import assert from "node:assert/strict";
import { DROP_REASONS, Metrics } from "../../server/observe/metrics.ts";

const gauges = { connections: 0, streams: 0, liveStreams: 0, viewers: 0 };

Deno.test("metrics: every drop reason is a series from the start, 0 until it happens", () => {
  // A missing series reads as no data, not 0: a scraper's rate() or a
  // test's read of one reason (upgrade-hardening) would see nothing.
  const metrics = new Metrics();
  const text = metrics.render(gauges);
  for (const reason of DROP_REASONS) {
    assert.ok(
      text.includes(`live_connections_dropped_total{reason="${reason}"} 0\n`),
      reason,
    );
  }
  metrics.countDrop("handshake-timeout");
  metrics.countDrop("handshake-timeout");
  assert.match(
    metrics.render(gauges),
    /^live_connections_dropped_total\{reason="handshake-timeout"\} 2$/m,
  );
});
