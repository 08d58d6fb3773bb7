/**
 * End-to-end encrypted streams on a real Janus (Debian's 1.1.2) on
 * loopback, control only (media: the lab): a room made with
 * `require_e2ee` takes a publisher only with `e2ee` in its jsep; an
 * encrypting broadcaster's stream is published into such a room, and into
 * a room without it once the same broadcaster stops encrypting; a WHEP
 * player of it is refused before Janus is asked anything.
 */
import assert from "node:assert/strict";
import { JanusClient, JanusError } from "../../server/sfu/janus-client.ts";
import { createRoom, publish } from "../../server/sfu/video-room.ts";
import { TestClient } from "../server/support/test-client.ts";
import { janusLinkedTest } from "./support/janus-linked.ts";

/** A browser-shaped offer with one video section (enough for Janus to answer). */
const OFFER = [
  "v=0",
  "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0",
  "a=msid-semantic: WMS",
  "m=video 9 UDP/TLS/RTP/SAVPF 96",
  "c=IN IP4 0.0.0.0",
  "a=rtcp:9 IN IP4 0.0.0.0",
  "a=ice-ufrag:abcd",
  "a=ice-pwd:abcdefghijklmnopqrstuvwx",
  "a=ice-options:trickle",
  "a=fingerprint:sha-256 " +
  "12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0",
  "a=setup:actpass",
  "a=mid:0",
  "a=sendonly",
  "a=rtcp-mux",
  "a=rtpmap:96 VP8/90000",
  "a=ssrc:1 cname:test",
  "",
].join("\r\n");

const VIDEOROOM = "janus.plugin.videoroom";

/** Janus's rooms now: id -> whether each requires E2EE. */
async function rooms(url: string): Promise<Map<number, boolean>> {
  const client = await JanusClient.connect(url);
  try {
    const session = await client.createSession();
    const handle = await session.attach(VIDEOROOM);
    const { data } = await handle.message({ request: "list" });
    await session.destroy();
    return new Map(
      (data.list as { room: number; require_e2ee: boolean }[])
        .map(({ room, require_e2ee }) => [room, require_e2ee]),
    );
  } finally {
    client.close();
  }
}

janusLinkedTest(
  "e2ee sfu: a require_e2ee room refuses a publisher without e2ee (433) and answers one with it (e2ee in Janus's jsep)",
  {},
  async ({ janus }) => {
    const client = await JanusClient.connect(janus.url);
    try {
      const session = await client.createSession();
      const control = await session.attach(VIDEOROOM);
      await createRoom(control, 7001, "e2ee", true);
      assert.equal((await rooms(janus.url)).get(7001), true);
      const clear = await session.attach(VIDEOROOM);
      await assert.rejects(
        publish(clear, 7001, { type: "offer", sdp: OFFER }, "clear"),
        (error: JanusError) =>
          error instanceof JanusError && error.code === 433,
      );
      const sealed = await session.attach(VIDEOROOM);
      const { answer } = await publish(
        sealed,
        7001,
        { type: "offer", sdp: OFFER },
        "sealed",
        true,
      );
      assert.equal(answer.type, "answer");
      assert.equal((answer as { e2ee?: boolean }).e2ee, true);
      await session.destroy();
    } finally {
      client.close();
    }
  },
);

janusLinkedTest(
  "e2ee sfu: an encrypting broadcaster publishes into a room that requires E2EE; the same broadcaster in the clear gets a room that does not; keyless viewers and WHEP players are never subscribed",
  { config: { sfuAfterViewers: 0 } },
  async ({ janus, server: t }) => {
    const broadcaster = await t.connect();
    broadcaster.send({ type: "broadcaster-ready", streamId: "s", e2ee: true });
    await broadcaster.next("broadcaster-accepted");
    await broadcaster.next("sfu-publish");
    const keyless = await t.connect();
    keyless.send({ type: "join-stream", streamId: "s" });
    await keyless.next("join-accepted");
    assert.equal((await keyless.next("error")).code, "stream-encrypted");

    const published = async (client: TestClient) => {
      client.send({
        type: "sfu-offer",
        streamId: "s",
        offer: { type: "offer", sdp: OFFER },
      });
      return await client.next("sfu-answer");
    };
    assert.match((await published(broadcaster)).answer.sdp, /^v=0/);
    const sealed = await rooms(janus.url);
    // The server's own rooms: this stream's, requiring E2EE.
    assert.deepEqual([...sealed.values()], [true]);

    const base = t.url.replace("ws://", "http://").replace(/\/ws$/, "");
    const whep = await fetch(`${base}/whep/s`, {
      method: "POST",
      headers: { "content-type": "application/sdp" },
      body: "",
    });
    assert.equal(whep.status, 409);
    assert.equal((await whep.json()).error, "stream-encrypted");
    // Its place goes with its session (the broadcaster never heard of it).
    await broadcaster.next("viewer-left");
    // Neither the keyless viewer nor the player was counted for the SFU.
    const counted = (await broadcaster.sync()).filter((message) =>
      message.type === "viewer-joined"
    );
    assert.deepEqual(counted, []);
    assert.equal(t.server.sfu!.isSubscribed("s", keyless.id), false);

    // In the clear now: a new room, without require_e2ee; the old one gone.
    broadcaster.send({ type: "broadcaster-ready", streamId: "s" });
    await broadcaster.next("broadcaster-accepted");
    // The keyless viewer is paired now (it waited).
    await keyless.next("broadcaster-joined");
    const asked = await broadcaster.next();
    assert.equal(asked.type, "sfu-publish", JSON.stringify(asked));
    broadcaster.send({
      type: "sfu-offer",
      streamId: "s",
      offer: { type: "offer", sdp: OFFER },
    });
    // Counted as an SFU viewer now, then Janus's answer.
    assert.deepEqual(await broadcaster.next("viewer-joined"), {
      type: "viewer-joined",
      streamId: "s",
      viewerId: keyless.id,
      viewerCount: 1,
      sfu: true,
    });
    await broadcaster.next("sfu-answer");
    // (The old room's destroy may still be on its way: not looked at.)
    const clear = [...await rooms(janus.url)]
      .filter(([room]) => !sealed.has(room));
    assert.deepEqual(clear.map(([, requires]) => requires), [false]);
  },
);
