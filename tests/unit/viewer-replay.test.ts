/** Which connections a reconnected broadcaster keeps: the replay names the viewers the server has. */
import assert from "node:assert/strict";
import { ViewerReplay } from "../../components/session/viewer-replay.ts";

Deno.test("no viewers: complete at once, every old connection is stale", () => {
  const replay = new ViewerReplay(0);
  assert.equal(replay.complete, true);
  assert.deepEqual(replay.stale(["old_1", "old_2"]), ["old_1", "old_2"]);
});

Deno.test("complete once each expected viewer was named; the unnamed are stale", () => {
  const replay = new ViewerReplay(2);
  replay.name("kept");
  assert.equal(replay.complete, false);
  replay.name("new");
  assert.equal(replay.complete, true);
  assert.deepEqual(replay.stale(["kept", "gone", "new"]), ["gone"]);
});

Deno.test("a viewer named twice counts once", () => {
  const replay = new ViewerReplay(2);
  replay.name("a");
  replay.name("a");
  assert.equal(replay.complete, false);
  replay.name("b");
  assert.equal(replay.complete, true);
});
