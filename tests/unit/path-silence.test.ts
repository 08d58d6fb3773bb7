/** When the broadcaster calls a path silent: sending, and nothing back. */
import assert from "node:assert/strict";
import {
  fellSilent,
  type PathCount,
  SILENT_MS,
  SILENT_PACKETS,
} from "../../components/session/path-silence.ts";

Deno.test("sending with nothing back for SILENT_MS: silent, said once", () => {
  const peer: { path?: PathCount } = {};
  assert.equal(fellSilent(peer, 10, 100, 0), false);
  assert.equal(fellSilent(peer, 10, 150, SILENT_MS - 1), false);
  assert.equal(fellSilent(peer, 10, 160, SILENT_MS), true);
  // Still silent: not said again.
  assert.equal(fellSilent(peer, 10, 200, SILENT_MS + 200), false);
  // Back, then silent again: said again.
  assert.equal(fellSilent(peer, 11, 210, 1_000), false);
  assert.equal(fellSilent(peer, 11, 260, 1_000 + SILENT_MS), true);
});

Deno.test("a slow sender (camera off) is not silent: too few packets sent", () => {
  const peer: { path?: PathCount } = {};
  fellSilent(peer, 10, 100, 0);
  assert.equal(fellSilent(peer, 10, 100 + SILENT_PACKETS - 1, 2_000), false);
  assert.equal(fellSilent(peer, 10, 100 + SILENT_PACKETS, 2_200), true);
});

Deno.test("a path that answers is never silent, whatever the gaps between samples", () => {
  const peer: { path?: PathCount } = {};
  for (let i = 0; i < 20; i++) {
    assert.equal(fellSilent(peer, i, i * 100, i * 1_000), false);
  }
});

Deno.test("each connection on its own; counters that start over start over", () => {
  const a: { path?: PathCount } = {};
  const b: { path?: PathCount } = {};
  fellSilent(a, 10, 100, 0);
  fellSilent(b, 5, 100, 0);
  assert.equal(fellSilent(b, 6, 200, SILENT_MS), false);
  assert.equal(fellSilent(a, 10, 200, SILENT_MS), true);
  // Sent went down (not the same counters): counted from there.
  fellSilent(b, 6, 0, SILENT_MS * 3);
  assert.equal(fellSilent(b, 6, 20, SILENT_MS * 4 - 1), false);
  assert.equal(fellSilent(b, 6, 20, SILENT_MS * 4), true);
});
