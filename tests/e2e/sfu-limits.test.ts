/**
 * With JANUS_URL, a stream on the SFU keeps every admission rule: tokens and
 * viewer caps are checked before Janus is involved. Control only (no
 * media): Janus on loopback, real WebSocket clients.
 */
import assert from "node:assert/strict";
import { mintToken } from "../../server/security/tokens.ts";
import { janusLinkedTest } from "./support/janus-linked.ts";

const SECRET = "a-test-secret-of-at-least-32-bytes!!";

janusLinkedTest(
  "sfu: tokens and MAX_VIEWERS_PER_STREAM still hold on a stream through the SFU",
  {
    config: {
      sfuAfterViewers: 0,
      maxViewersPerStream: 1,
      signalSecret: SECRET,
    },
  },
  async ({ server: t }) => {
    const broadcaster = await t.connect();
    broadcaster.send({
      type: "broadcaster-ready",
      streamId: "s",
      token: await mintToken(SECRET, {
        sub: "shop",
        stream: "s",
        role: "broadcaster",
      }),
    });
    await broadcaster.next("broadcaster-accepted");
    assert.deepEqual(await broadcaster.next("sfu-publish"), {
      type: "sfu-publish",
      streamId: "s",
    });
    const token = (sub: string) =>
      mintToken(SECRET, { sub, stream: "s", role: "viewer" });
    const first = await t.connect();
    first.send({ type: "join-stream", streamId: "s", token: await token("a") });
    assert.equal((await first.next()).type, "join-accepted");
    const second = await t.connect();
    second.send({
      type: "join-stream",
      streamId: "s",
      token: await token("b"),
    });
    assert.equal((await second.next("error")).code, "stream-full");
    const intruder = await t.connect();
    intruder.send({ type: "join-stream", streamId: "s" });
    assert.equal((await intruder.next("error")).code, "token-required");
    // Only the admitted viewer was waiting for the SFU; the broadcaster was
    // told of no one (it publishes once).
    await broadcaster.expectQuiet();
  },
);
