/**
 * Property: whatever several clients throw at the server at once, it answers
 * with well-formed messages, keeps every connection open, still runs a normal
 * exchange afterwards, and holds nothing once everyone has gone.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { ERROR_CODES } from "../../protocol/error-codes.ts";
import type { ServerMessage } from "../../protocol/messages.ts";
import { ANSWER, OFFER } from "./support/fixtures.ts";
import { frame } from "./support/fuzz-frames.ts";
import { startTestServer } from "./support/test-server.ts";

function isWellFormed(message: ServerMessage): boolean {
  if (typeof message.type !== "string") return false;
  if (message.type === "error") {
    return (ERROR_CODES as readonly string[]).includes(message.code) &&
      message.message.length > 0;
  }
  return true;
}

Deno.test("random frames from concurrent clients break nothing and leave nothing", async () => {
  await using t = await startTestServer({ maxViewersPerStream: 2 }, "error");
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(frame(), { maxLength: 30 }), {
        minLength: 2,
        maxLength: 4,
      }),
      async (scripts) => {
        const clients = await Promise.all(scripts.map(() => t.connect()));
        const withIds = (text: string) =>
          text.replace(
            /"\$(\d)"/g,
            (_, n) => `"${clients[n]?.id ?? "client_gone"}"`,
          );
        clients.forEach((client, i) => {
          for (const text of scripts[i]) client.send(withIds(text));
        });
        const replies = await Promise.all(clients.map((c) => c.sync()));
        for (const message of replies.flat()) {
          assert.ok(isWellFormed(message), JSON.stringify(message));
        }
        for (const client of clients) {
          assert.equal(client.socket.readyState, WebSocket.OPEN);
        }

        // A normal exchange still works beside whatever the fuzz left.
        const broadcaster = await t.connect();
        const viewer = await t.connect();
        broadcaster.send({ type: "broadcaster-ready", streamId: "clean" });
        await broadcaster.next("broadcaster-accepted");
        viewer.send({ type: "join-stream", streamId: "clean" });
        await viewer.next("join-accepted");
        await broadcaster.next("viewer-joined");
        broadcaster.send({
          type: "webrtc-offer",
          streamId: "clean",
          viewerId: viewer.id,
          offer: OFFER,
        });
        assert.deepEqual((await viewer.next("webrtc-offer")).offer, OFFER);
        viewer.send({
          type: "webrtc-answer",
          streamId: "clean",
          answer: ANSWER,
        });
        const answer = (await broadcaster.sync()).find((m) =>
          m.type === "webrtc-answer"
        );
        assert.equal(
          answer?.type === "webrtc-answer" && answer.viewerId,
          viewer.id,
        );

        const all = [...clients, broadcaster, viewer];
        await Promise.all(all.map((c) => c.close()));
        await Promise.all(all.map((c) => t.closedOnServer(c.id)));
        assert.equal(t.server.connections.size, 0);
        assert.equal(t.server.registry.roomCount, 0);
        assert.equal(t.server.registry.memberCount, 0);
      },
    ),
    { numRuns: 40 },
  );
});
