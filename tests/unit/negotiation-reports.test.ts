/**
 * The server's side of `negotiation-failed` against a fake clock: a burst of
 * lines per connection, then one a minute's share; the next line says how
 * many were left out.
 */
import assert from "node:assert/strict";
import { Metrics } from "../../server/observe/metrics.ts";
import { createLogger } from "../../server/observe/logger.ts";
import { LocalClients } from "../../server/signaling/local-clients.ts";
import {
  NEGOTIATION_LOG_BURST,
  NEGOTIATION_LOG_PER_MINUTE,
  NegotiationReports,
} from "../../server/signaling/negotiation-reports.ts";
import type { Peer } from "../../server/signaling/peer.ts";

Deno.test("past the burst, reports are counted and not logged until the allowance refills; that line says how many were left out", () => {
  const lines: Record<string, unknown>[] = [];
  const clients = new LocalClients();
  const peer = { id: "client_v", isOpen: true } as unknown as Peer;
  clients.apply(peer.id, { kind: "connect", peer });
  clients.apply(peer.id, {
    kind: "hold",
    peer,
    place: { streamId: "s", role: "viewer" },
  });
  const metrics = new Metrics();
  let now = 0;
  const reports = new NegotiationReports({
    clients,
    metrics,
    logger: createLogger("warn", (line) => lines.push(JSON.parse(line))),
    refuse: () => assert.fail("not refused"),
  }, () => now);
  const report = () =>
    reports.failed(peer, {
      type: "negotiation-failed",
      streamId: "s",
      stage: "set-remote-offer",
      reason: "InvalidAccessError",
    });

  for (let i = 0; i < NEGOTIATION_LOG_BURST + 3; i++) report();
  assert.equal(lines.length, NEGOTIATION_LOG_BURST);
  assert.ok(lines.every((line) => !("suppressed" in line)));
  // Half a line's worth of refill: not yet.
  const refill = 60_000 / NEGOTIATION_LOG_PER_MINUTE;
  now += refill / 2;
  report();
  assert.equal(lines.length, NEGOTIATION_LOG_BURST);
  now += refill / 2;
  report();
  assert.equal(lines.length, NEGOTIATION_LOG_BURST + 1);
  assert.equal(lines.at(-1)!.suppressed, 4);
  assert.equal(
    metrics.negotiationFailures.get("set-remote-offer"),
    NEGOTIATION_LOG_BURST + 5,
  );
});
