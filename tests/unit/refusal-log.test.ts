/**
 * One warning per address and minute for refusals (server/observe/refusal-log.ts):
 * the first refusal is said at once, the rest of that minute counted into
 * the next line; a flood from more addresses than it remembers is summed.
 */
import assert from "node:assert/strict";
import { createLogger } from "../../server/observe/logger.ts";
import { RefusalLog } from "../../server/observe/refusal-log.ts";

function setUp(maxAddresses = 100) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger("warn", (line) => lines.push(JSON.parse(line)));
  return { lines, log: new RefusalLog(logger, 60_000, maxAddresses) };
}

Deno.test("refusal log: once per address and minute, the minute's refusals in the next line", () => {
  const { lines, log } = setUp();
  log.refused("203.0.113.7", "too-many-connections", 0);
  for (let i = 1; i <= 40; i++) {
    log.refused("203.0.113.7", "too-many-connections", i * 1000);
  }
  log.refused("203.0.113.7", "connect-rate-limited", 50_000);
  // Another address is said on its own.
  log.refused("198.51.100.1", "join-rate-limited", 10_000);
  assert.deepEqual(
    lines.map((
      { event, remoteAddress, reason },
    ) => [event, remoteAddress, reason]),
    [
      ["refused-address", "203.0.113.7", "too-many-connections"],
      ["refused-address", "198.51.100.1", "join-rate-limited"],
    ],
  );
  assert.equal(lines[0].level, "warn");
  log.refused("203.0.113.7", "too-many-connections", 60_000);
  assert.equal(lines.length, 3);
  assert.equal(lines[2].remoteAddress, "203.0.113.7");
  // The 40 and the 1 refused since its first line (the 41st too early at 40 s).
  assert.deepEqual(lines[2].since, {
    "too-many-connections": 40,
    "connect-rate-limited": 1,
  });
  // Quiet again: nothing refused since, nothing said.
  log.refused("203.0.113.7", "too-many-connections", 200_000);
  assert.equal(lines.length, 4);
  assert.equal(lines[3].since, undefined);
});

Deno.test("refusal log: past the addresses it remembers, one summed line a minute", () => {
  const { lines, log } = setUp(2);
  log.refused("192.0.2.1", "too-many-connections", 0);
  log.refused("192.0.2.2", "too-many-connections", 0);
  for (let i = 3; i < 103; i++) {
    log.refused(`192.0.2.${i}`, "connect-rate-limited", 1_000);
  }
  assert.deepEqual(lines.map(({ event }) => event), [
    "refused-address",
    "refused-address",
    "refused-addresses",
  ]);
  assert.equal(lines[2].refusedUnlogged, 1);
  // A minute on, the remembered ones are forgotten and new ones said again.
  log.refused("192.0.2.200", "connect-rate-limited", 61_000);
  assert.equal(lines.at(-1)!.event, "refused-address");
  assert.equal(lines.at(-1)!.remoteAddress, "192.0.2.200");
});
