/**
 * When the broadcaster calls a path silent: sending, and nothing back; when
 * a player does: media stopped arriving.
 */
import assert from "node:assert/strict";
import {
  fellSilent,
  type PathCount,
  SILENT_MS,
  SILENT_PACKETS,
} from "../../components/session/path-silence.ts";
import {
  type MediaCount,
  stoppedReceiving,
} from "../../components/session/receive-silence.ts";

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

/** A player's samples every 250 ms, as http-media-session.ts takes them. */
const SILENT_PLAYER_MS = 1_000;

Deno.test("a player whose media stops for silentMs: silent, said once per silence", () => {
  const player: { media?: MediaCount } = {};
  assert.equal(stoppedReceiving(player, 0, 0, SILENT_PLAYER_MS), false);
  assert.equal(stoppedReceiving(player, 40, 250, SILENT_PLAYER_MS), false);
  assert.equal(stoppedReceiving(player, 80, 500, SILENT_PLAYER_MS), false);
  // Nothing from 500 on.
  assert.equal(stoppedReceiving(player, 80, 1_250, SILENT_PLAYER_MS), false);
  assert.equal(stoppedReceiving(player, 80, 1_499, SILENT_PLAYER_MS), false);
  assert.equal(stoppedReceiving(player, 80, 1_500, SILENT_PLAYER_MS), true);
  // Still nothing (the restart did not bring it back): ICE watches, not us.
  for (let t = 1_750; t < 30_000; t += 250) {
    assert.equal(stoppedReceiving(player, 80, t, SILENT_PLAYER_MS), false);
  }
  // Back, then gone again: said again.
  assert.equal(stoppedReceiving(player, 81, 30_000, SILENT_PLAYER_MS), false);
  assert.equal(stoppedReceiving(player, 81, 31_000, SILENT_PLAYER_MS), true);
});

Deno.test("a stream that has not started, or an endpoint that sends nothing, is never silent", () => {
  const player: { media?: MediaCount } = {};
  for (let t = 0; t < 60_000; t += 250) {
    assert.equal(stoppedReceiving(player, 0, t, SILENT_PLAYER_MS), false);
  }
});

Deno.test("a player that receives is never silent, whatever the gaps between samples", () => {
  const player: { media?: MediaCount } = {};
  for (let i = 0; i < 20; i++) {
    assert.equal(
      stoppedReceiving(player, i, i * 5_000, SILENT_PLAYER_MS),
      false,
    );
  }
});

Deno.test("a player's counters that start over (a new connection) start over", () => {
  const player: { media?: MediaCount } = {};
  stoppedReceiving(player, 500, 0, SILENT_PLAYER_MS);
  assert.equal(stoppedReceiving(player, 500, 1_000, SILENT_PLAYER_MS), true);
  // A new connection's counts: nothing yet is not a silence.
  assert.equal(stoppedReceiving(player, 0, 1_250, SILENT_PLAYER_MS), false);
  assert.equal(stoppedReceiving(player, 0, 5_000, SILENT_PLAYER_MS), false);
  assert.equal(stoppedReceiving(player, 3, 5_250, SILENT_PLAYER_MS), false);
  assert.equal(stoppedReceiving(player, 3, 6_250, SILENT_PLAYER_MS), true);
});
