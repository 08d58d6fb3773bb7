/**
 * The broadcaster's SFU connection pausing layers (sfu-uplink.ts) against a
 * fake connection whose `setParameters` the test settles: one change of the
 * layers at a time, the server's latest wish applied last, a refused one
 * tried again, a wish from before the answer applied once it is there.
 */
import assert from "node:assert/strict";
import { SfuUplink } from "../../components/session/sfu-uplink.ts";
import type { PeerLink } from "../../components/session/stream-session.ts";
import type { BitrateBudget } from "../../components/media/bitrate-budget.ts";

interface Encoding {
  rid?: string;
  active?: boolean;
}

/** A video sender whose `setParameters` calls wait for the test. */
class FakeSender {
  readonly track = { kind: "video" };
  encodings: Encoding[] = [];
  /** Whether the connection has its answer (no encodings before: Firefox). */
  negotiated = false;
  /** Each call's active rids, and how to settle it. */
  calls: { active: string[]; settle: (ok: boolean) => void }[] = [];

  getParameters() {
    return {
      encodings: this.negotiated
        ? this.encodings.map((encoding) => ({ ...encoding }))
        : [],
    };
  }

  setParameters(parameters: { encodings: Encoding[] }): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.calls.push({
      active: parameters.encodings.filter((e) => e.active).map((e) => e.rid!),
      settle: (ok) => {
        if (ok) this.encodings = parameters.encodings;
        (ok ? resolve : () => reject(new Error("InvalidStateError")))();
      },
    });
    return promise;
  }
}

/** Just enough of RTCPeerConnection for SfuUplink. */
class FakeConnection {
  signalingState = "stable";
  connectionState = "new";
  onicecandidate: unknown;
  onconnectionstatechange: unknown;
  readonly sender = new FakeSender();

  addTransceiver(
    track: { kind: string },
    init: { sendEncodings?: Encoding[] },
  ) {
    if (track.kind === "video") {
      this.sender.encodings = (init.sendEncodings ?? []).map((e) => ({
        rid: e.rid,
        active: true,
      }));
    }
  }
  createOffer() {
    return Promise.resolve({ type: "offer", sdp: "v=0\r\n" });
  }
  setLocalDescription() {
    this.signalingState = "have-local-offer";
    return Promise.resolve();
  }
  setRemoteDescription() {
    this.signalingState = "stable";
    this.sender.negotiated = true;
    return Promise.resolve();
  }
  getSenders() {
    return [this.sender];
  }
  close() {}
}

/** An uplink published and (unless `answered` is false) answered. */
async function uplink(answered = true) {
  const pc = new FakeConnection();
  const link = {
    streamId: "order-1",
    clientId: "b",
    signalingState: "open",
    send: () => true,
    newConnection: () => pc as unknown as RTCPeerConnection,
    turnRefused() {},
    refused() {},
  } satisfies PeerLink;
  const track = {
    kind: "video",
    getSettings: () => ({ width: 1280, height: 720 }),
  };
  const sfu = new SfuUplink(link, {
    stream: () => ({ getTracks: () => [track] }) as unknown as MediaStream,
    budget: () => ({ totalKbps: 1500, maxPerViewerKbps: 800 }) as BitrateBudget,
    onChange() {},
  });
  await sfu.publish();
  if (answered) await sfu.answer({ type: "answer", sdp: "v=0\r\n" });
  return { sfu, sender: pc.sender };
}

/** Lets the uplink's pending promise callbacks run. */
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("layers asked for while a change is under way are applied after it, the latest wish last", async () => {
  const { sfu, sender } = await uplink();
  sfu.layers(["h", "m", "l"]);
  sfu.layers(["h"]);
  sfu.layers(["h", "m"]);
  // One at a time: Firefox refuses a second while the first is under way.
  assert.deepEqual(sender.calls.map((c) => c.active), [["h", "m", "l"]]);
  sender.calls[0].settle(true);
  await turn();
  assert.deepEqual(sender.calls.map((c) => c.active), [
    ["h", "m", "l"],
    ["h", "m"],
  ]);
  sender.calls[1].settle(true);
  await turn();
  assert.equal(sender.calls.length, 2);
  assert.deepEqual(
    sender.encodings.map((e) => [e.rid, e.active]),
    [["h", true], ["m", true], ["l", false]],
  );
});

Deno.test("a refused change of the layers is tried again (three refusals in a row: left until the next wish)", async () => {
  const { sfu, sender } = await uplink();
  sfu.layers(["h"]);
  sender.calls[0].settle(false);
  await turn();
  assert.equal(sender.calls.length, 2);
  sender.calls[1].settle(true);
  await turn();
  assert.deepEqual(
    sender.encodings.map((e) => e.active),
    [true, false, false],
  );
  sfu.layers(["h", "m", "l"]);
  for (let i = 2; i < 5; i++) {
    sender.calls[i].settle(false);
    await turn();
  }
  assert.equal(sender.calls.length, 5);
  sfu.layers(["h", "m", "l"]);
  assert.equal(sender.calls.length, 6);
});

Deno.test("layers asked for before the SFU's answer are applied once it is there", async () => {
  const { sfu, sender } = await uplink(false);
  sfu.layers(["h"]);
  assert.equal(sender.calls.length, 0);
  await sfu.answer({ type: "answer", sdp: "v=0\r\n" });
  assert.deepEqual(sender.calls.map((c) => c.active), [["h"]]);
  sender.calls[0].settle(true);
  await turn();
  assert.equal(sender.calls.length, 1);
});

Deno.test("a new connection to the SFU sends every layer until the server says otherwise", async () => {
  const { sfu, sender } = await uplink();
  sfu.layers(["h"]);
  sender.calls[0].settle(true);
  await turn();
  // Published again (another instance): no wish of the last connection.
  await sfu.publish();
  await sfu.answer({ type: "answer", sdp: "v=0\r\n" });
  assert.equal(sender.calls.length, 1);
});
