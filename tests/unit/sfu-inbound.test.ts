/**
 * A viewer's frames for its stream's SFU from another node
 * (server/signaling/sfu-inbound.ts): taken by the node that drives it.
 */
import assert from "node:assert/strict";
import { createLogger } from "../../server/observe/logger.ts";
import type { Inbound } from "../../server/signaling/sfu-inbound.ts";
import { takeInbound } from "../../server/signaling/sfu-inbound.ts";
import type { ViewerLoss, ViewerPlaying } from "../../protocol/messages.ts";

function setUp() {
  const calls: string[] = [];
  const sfu = {
    whenReady: () => undefined,
    viewerLoss: (viewerId: string, message: ViewerLoss) =>
      calls.push(`loss ${viewerId} ${message.lost}/${message.received}`),
    playing: (viewerId: string, message: ViewerPlaying) => {
      calls.push(`playing ${viewerId} ${message.session}`);
      return [];
    },
  };
  const inbound = {
    sfu,
    postman: { post: () => {} },
    logger: createLogger("silent"),
    broadcaster: undefined,
    broadcasterId: "client_b",
    streamId: "s",
  } as unknown as Inbound;
  return {
    calls,
    take: (frame: object) => takeInbound(inbound, JSON.stringify(frame)),
  };
}

Deno.test("sfu inbound: a viewer's viewer-loss from another node reaches the SFU relay under the viewer's id; bad counts are dropped", () => {
  const { calls, take } = setUp();
  const loss = {
    type: "viewer-loss",
    streamId: "s",
    lost: 9,
    received: 41,
    viewerId: "client_v",
  };
  assert.equal(take(loss), true);
  assert.equal(take({ ...loss, lost: -1 }), true);
  assert.equal(take({ ...loss, received: "41" }), true);
  // Another stream's frame is not this one's.
  assert.equal(take({ ...loss, streamId: "t" }), false);
  assert.equal(
    take({
      type: "viewer-playing",
      streamId: "s",
      session: "42",
      viewerId: "client_v",
    }),
    true,
  );
  assert.deepEqual(calls, ["loss client_v 9/41", "playing client_v 42"]);
});
