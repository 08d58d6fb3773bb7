/** The WHIP/WHEP endpoint's memory of sessions taken over (server/http/replaced-sessions.ts). */
import assert from "node:assert/strict";
import {
  REPLACED_MEMORY_MS,
  ReplacedSessions,
} from "../../server/http/replaced-sessions.ts";

Deno.test("replaced sessions: remembered for REPLACED_MEMORY_MS, then forgotten", () => {
  const replaced = new ReplacedSessions(() => 10);
  replaced.remember("a", 0);
  assert.ok(replaced.has("a", REPLACED_MEMORY_MS - 1));
  assert.ok(!replaced.has("a", REPLACED_MEMORY_MS));
  assert.ok(!replaced.has("b", 0));
  // Expired ones go at the next remember.
  replaced.remember("b", REPLACED_MEMORY_MS);
  assert.equal(replaced.size, 1);
});

Deno.test("replaced sessions: never more than there may be sessions, the oldest forgotten first", () => {
  let max = 3;
  const replaced = new ReplacedSessions(() => max);
  for (let i = 0; i < 5; i++) replaced.remember(`s${i}`, i);
  assert.equal(replaced.size, 3);
  assert.ok(!replaced.has("s1", 5) && replaced.has("s2", 5));
  // The limit is read each time (configuration reloaded).
  max = 1;
  replaced.remember("s5", 6);
  assert.equal(replaced.size, 1);
  assert.ok(replaced.has("s5", 6));
});
