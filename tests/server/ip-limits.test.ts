/** Per-address bookkeeping holds nothing for addresses that are gone. */
import assert from "node:assert/strict";
import { IpLimits } from "../../server/security/ip-limits.ts";

const limits = () =>
  new IpLimits({
    maxConnections: 2,
    connectsPerMinute: 60, // one a second
    connectBurst: 3,
    joinsPerMinute: 60,
    joinBurst: 2,
  });

Deno.test("an address is forgotten once it has left and its buckets refilled", () => {
  const ip = limits();
  assert.equal(ip.connect("198.51.100.1", 0), true);
  assert.equal(ip.allowJoin("198.51.100.1", 0), true);
  ip.disconnect("198.51.100.1", 10);
  // Gone, but its buckets are not full yet: kept, so leaving cannot reset limits.
  assert.equal(ip.size, 1);
  ip.sweep(500);
  assert.equal(ip.size, 1);
  ip.sweep(1_001);
  assert.equal(ip.size, 0);
});

Deno.test("an address with an open connection is kept, whatever its buckets", () => {
  const ip = limits();
  ip.connect("198.51.100.2", 0);
  ip.sweep(3_600_000);
  assert.equal(ip.size, 1);
});

Deno.test("caps and rates per address, and disconnect gives back a slot but no tokens", () => {
  const ip = limits();
  assert.equal(ip.connect("a", 0), true);
  assert.equal(ip.connect("a", 0), true);
  assert.equal(ip.connect("a", 0), "too-many-connections");
  ip.disconnect("a", 0);
  assert.equal(ip.connect("a", 0), true); // third token of the burst
  ip.disconnect("a", 0);
  assert.equal(ip.connect("a", 0), "connect-rate-limited");
  assert.equal(ip.connect("a", 1_000), true); // one more a second later
  assert.equal(ip.connect("b", 0), true); // other addresses are separate
  assert.equal(ip.allowJoin("a", 0), true);
  assert.equal(ip.allowJoin("a", 0), true);
  assert.equal(ip.allowJoin("a", 0), false);
});
