/**
 * The broadcaster's SFU connection (sfu-uplink.ts) against a fake
 * connection whose `setParameters` the test settles: one change of the
 * layers at a time, the server's latest wish applied last, a refused one
 * tried again, a wish from before the answer applied once it is there. And
 * its repair: an ICE restart when it fails, stays disconnected, or its path
 * falls silent; a restart's offer the socket lost sent again.
 */
import assert from "node:assert/strict";
import { SfuUplink } from "../../components/session/sfu-uplink.ts";
import { fellSilent } from "../../components/session/path-silence.ts";
import type { ClientMessage, SfuOffer } from "../../protocol/messages.ts";
import type { PeerLink } from "../../components/session/stream-session.ts";
import type { BitrateBudget } from "../../components/media/bitrate-budget.ts";
import { fakeClock } from "./support/clock.ts";

interface Encoding {
  rid?: string;
  active?: boolean;
}

/** Chromium's ICE transport: its selected pair's local ufrag is `ufrag`. */
class FakeIceTransport extends EventTarget {
  ufrag = "u1";
  getSelectedCandidatePair() {
    return { local: { usernameFragment: this.ufrag } };
  }
  /** Selects a pair of the credentials `ufrag`. */
  select(ufrag: string) {
    this.ufrag = ufrag;
    this.dispatchEvent(new Event("selectedcandidatepairchange"));
  }
}

/** A sender whose `setParameters` calls wait for the test. */
class FakeSender {
  readonly track: { kind: string };
  /** Its ICE transport (Chromium's; the test fires its events). */
  readonly transport = { iceTransport: new FakeIceTransport() };
  encodings: Encoding[] = [];
  /** Whether the connection has its answer (no encodings before: Firefox). */
  negotiated = false;
  /** Each call's active rids, and how to settle it. */
  calls: { active: string[]; settle: (ok: boolean) => void }[] = [];

  constructor(kind = "video") {
    this.track = { kind };
  }

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
  onconnectionstatechange: (() => void) | undefined;
  localDescription: { type: string; sdp: string } | undefined;
  readonly sender = new FakeSender();
  /** The microphone's, when the test has one. */
  audio: FakeSender | undefined;
  /** Each offer made: whether it restarts ICE. */
  offers: boolean[] = [];
  /** The transport's packet counts, as getStats gives them. */
  packets = { received: 0, sent: 0 };

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
  /** Each sender's layers as the last offer saw them (its `a=simulcast`). */
  #offered = new Map<FakeSender, boolean[]>();
  createOffer(options?: { iceRestart?: boolean }) {
    this.offers.push(options?.iceRestart === true);
    for (const sender of this.getSenders()) {
      this.#offered.set(sender, sender.encodings.map((e) => e.active!));
    }
    return Promise.resolve({
      type: "offer",
      sdp: `v=0\r\na=ice-ufrag:u${this.offers.length}\r\n`,
    });
  }
  setLocalDescription(description: { type: string; sdp: string }) {
    this.localDescription = description;
    this.signalingState = "have-local-offer";
    this.#applyOffered();
    return Promise.resolve();
  }
  /** Chromium sets each layer's `active` from a description it applies. */
  #applyOffered() {
    for (const [sender, active] of this.#offered) {
      sender.encodings = sender.encodings.map((e, i) => ({
        ...e,
        active: active[i] ?? e.active,
      }));
    }
  }
  getStats() {
    const { received, sent } = this.packets;
    return Promise.resolve(
      new Map([["t", {
        type: "transport",
        packetsReceived: received,
        packetsSent: sent,
      }]]),
    );
  }
  /** The browser's ICE says `state`. */
  become(state: string) {
    this.connectionState = state;
    this.onconnectionstatechange?.();
  }
  setRemoteDescription() {
    this.signalingState = "stable";
    this.sender.negotiated = true;
    this.#applyOffered();
    return Promise.resolve();
  }
  getSenders() {
    return this.audio ? [this.sender, this.audio] : [this.sender];
  }
  close() {}
}

/** Uplinks made by the test running, closed after it (their timers). */
const made: SfuUplink[] = [];

function test(name: string, fn: () => Promise<void>) {
  Deno.test(name, async () => {
    try {
      await fn();
    } finally {
      made.splice(0).forEach((sfu) => sfu.close());
    }
  });
}

/** An uplink published and (unless `answered` is false) answered. */
async function uplink(answered = true, audio = false) {
  const pc = new FakeConnection();
  if (audio) {
    pc.audio = new FakeSender("audio");
    pc.audio.encodings = [{ active: true }];
    pc.audio.negotiated = true;
  }
  const sent: ClientMessage[] = [];
  let pathsLost = 0;
  const link = {
    streamId: "order-1",
    clientId: "b",
    signalingState: "open",
    send: (message: ClientMessage) => sent.push(message) > 0,
    newConnection: () => pc as unknown as RTCPeerConnection,
    turnRefused() {},
  } satisfies PeerLink;
  const track = {
    kind: "video",
    getSettings: () => ({ width: 1280, height: 720 }),
  };
  const sfu = new SfuUplink(link, {
    stream: () => ({ getTracks: () => [track] }) as unknown as MediaStream,
    budget: () => ({ totalKbps: 1500, maxPerViewerKbps: 800 }) as BitrateBudget,
    onChange() {},
    fellSilent,
    onPathLost: () => pathsLost++,
  });
  made.push(sfu);
  await sfu.publish();
  if (answered) await sfu.answer({ type: "answer", sdp: "v=0\r\n" });
  return { sfu, sender: pc.sender, pc, sent, pathsLost: () => pathsLost };
}

/** The SDPs of the `sfu-offer`s sent. */
const offersSent = (sent: ClientMessage[]) =>
  sent.filter((m): m is SfuOffer => m.type === "sfu-offer")
    .map((m) => m.offer.sdp);

/** Lets the uplink's pending promise callbacks run. */
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

test("layers asked for while a change is under way are applied after it, the latest wish last; a wish in effect already sets nothing", async () => {
  const { sfu, sender } = await uplink();
  // Every layer is sent already: nothing to set.
  sfu.layers(["h", "m", "l"]);
  assert.equal(sender.calls.length, 0);
  sfu.layers(["h"]);
  sfu.layers(["h", "m", "l"]);
  sfu.layers(["h", "m"]);
  // One at a time: Firefox refuses a second while the first is under way.
  assert.deepEqual(sender.calls.map((c) => c.active), [["h"]]);
  sender.calls[0].settle(true);
  await turn();
  assert.deepEqual(sender.calls.map((c) => c.active), [["h"], ["h", "m"]]);
  sender.calls[1].settle(true);
  await turn();
  assert.equal(sender.calls.length, 2);
  assert.deepEqual(
    sender.encodings.map((e) => [e.rid, e.active]),
    [["h", true], ["m", true], ["l", false]],
  );
});

test("a refused change of the layers is tried again (three refusals in a row: again at the next wish, or 1 s later)", async () => {
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

test("layers asked for before the SFU's answer are applied once it is there", async () => {
  const { sfu, sender } = await uplink(false);
  sfu.layers(["h"]);
  assert.equal(sender.calls.length, 0);
  await sfu.answer({ type: "answer", sdp: "v=0\r\n" });
  assert.deepEqual(sender.calls.map((c) => c.active), [["h"]]);
  sender.calls[0].settle(true);
  await turn();
  assert.equal(sender.calls.length, 1);
});

test("a new connection to the SFU sends every layer until the server says otherwise", async () => {
  const { sfu, sender } = await uplink();
  sfu.layers(["h"]);
  sender.calls[0].settle(true);
  await turn();
  // Published again (another instance): no wish of the last connection.
  await sfu.publish();
  await sfu.answer({ type: "answer", sdp: "v=0\r\n" });
  assert.equal(sender.calls.length, 1);
});

test("a failed connection restarts its ICE on the same connection; failing again before the answer, the same offer goes again", async () => {
  using clock = fakeClock();
  const { sfu, pc, sent } = await uplink();
  pc.become("connected");
  pc.become("failed");
  await clock.tickAsync(0);
  assert.deepEqual(pc.offers, [false, true]);
  assert.deepEqual(offersSent(sent), [
    "v=0\r\na=ice-ufrag:u1\r\n",
    "v=0\r\na=ice-ufrag:u2\r\n",
  ]);
  // Its answer lost with the socket: the same offer again, no new one.
  pc.become("failed");
  await clock.tickAsync(0);
  assert.deepEqual(pc.offers, [false, true]);
  assert.equal(offersSent(sent).at(-1), "v=0\r\na=ice-ufrag:u2\r\n");
  await sfu.answer({ type: "answer", sdp: "v=0\r\n" });
  assert.equal(pc.signalingState, "stable");
});

test("disconnected: restarted after 2 s unless connected again meanwhile", async () => {
  using clock = fakeClock();
  const { pc } = await uplink();
  pc.become("connected");
  pc.become("disconnected");
  await clock.tickAsync(1_900);
  pc.become("connected");
  await clock.tickAsync(1_000);
  assert.deepEqual(pc.offers, [false]);
  pc.become("disconnected");
  await clock.tickAsync(2_000);
  assert.deepEqual(pc.offers, [false, true]);
});

test("a connected path that hears nothing back while sending for 0.5 s: the socket is checked and ICE restarts at once", async () => {
  using clock = fakeClock();
  const { pc, sent, pathsLost } = await uplink();
  pc.become("connected");
  // Janus answers every 250 ms at the longest: nothing happens.
  for (let i = 0; i < 16; i++) {
    pc.packets.sent += 10;
    if (i % 2) pc.packets.received += 2;
    await clock.tickAsync(125);
  }
  assert.equal(pathsLost(), 0);
  assert.deepEqual(pc.offers, [false]);
  // Our address changed: ours go out, nothing comes back.
  for (let i = 0; i < 3; i++) {
    pc.packets.sent += 10;
    await clock.tickAsync(125);
  }
  assert.equal(pathsLost(), 0);
  pc.packets.sent += 10;
  await clock.tickAsync(125);
  assert.equal(pathsLost(), 1);
  assert.deepEqual(pc.offers, [false, true]);
  assert.equal(offersSent(sent).length, 2);
});

test("back in the stream after the socket came back: a lost restart offer goes again; after a silence a connection not known to work restarts, one that works is left", async () => {
  using clock = fakeClock();
  const { sfu, pc, sent } = await uplink();
  pc.become("connected");
  sfu.rejoined(true);
  await clock.tickAsync(0);
  assert.deepEqual(pc.offers, [false]);
  pc.connectionState = "disconnected";
  sfu.rejoined(false);
  await clock.tickAsync(0);
  assert.deepEqual(pc.offers, [false]);
  sfu.rejoined(true);
  await clock.tickAsync(0);
  assert.deepEqual(pc.offers, [false, true]);
  // That offer went down with the socket: sent again once the stream has us.
  sfu.rejoined(false);
  await clock.tickAsync(0);
  assert.deepEqual(pc.offers, [false, true]);
  assert.deepEqual(offersSent(sent).slice(1), [
    "v=0\r\na=ice-ufrag:u2\r\n",
    "v=0\r\na=ice-ufrag:u2\r\n",
  ]);
});

test("a restart on a connection closed meanwhile is let go (no rejection)", async () => {
  const { sfu, pc, sent } = await uplink();
  pc.createOffer = () => {
    // The element goes while the offer is made: the connection closes.
    sfu.close();
    return Promise.reject(new DOMException("closed", "InvalidStateError"));
  };
  await sfu.restart();
  assert.equal(offersSent(sent).length, 1);
});

test("before the first answer nothing restarts, nor is the first offer sent again when the stream has us back (the server's publish decides)", async () => {
  using clock = fakeClock();
  const { sfu, pc, sent } = await uplink(false);
  pc.become("failed");
  sfu.rejoined(true);
  await clock.tickAsync(0);
  assert.deepEqual(pc.offers, [false]);
  assert.equal(offersSent(sent).length, 1);
});

test("a restart holds the video until a path works (no packets sent into the void for Janus to ask again): in Chromium a selected pair of the restart's credentials; then the layers the server wants are sent again", async () => {
  using clock = fakeClock();
  const { sfu, pc, sender } = await uplink();
  const ice = sender.transport.iceTransport;
  sfu.layers(["h", "m"]);
  sender.calls[0].settle(true);
  await clock.tickAsync(0);
  pc.become("connected");
  pc.become("failed");
  await clock.tickAsync(0);
  assert.deepEqual(sender.calls.map((c) => c.active), [["h", "m"], []]);
  sender.calls[1].settle(true);
  // The old credentials' pairs, selected in turn as they die: held still,
  // before the answer and after it.
  ice.select("u1");
  await clock.tickAsync(0);
  await sfu.answer({ type: "answer", sdp: "v=0\r\n" });
  await clock.tickAsync(0);
  ice.select("u1");
  await clock.tickAsync(0);
  assert.ok(sender.calls.every((c, i) => i === 0 || c.active.length === 0));
  for (const call of sender.calls.slice(2)) call.settle(true);
  await clock.tickAsync(0);
  // Chromium: connected all along, the new path a pair of the restart's.
  ice.select("u2");
  await clock.tickAsync(0);
  assert.deepEqual(sender.calls.at(-1)!.active, ["h", "m"]);
  sender.calls.at(-1)!.settle(true);
  await clock.tickAsync(0);
  assert.deepEqual(sender.encodings.map((e) => e.active), [true, true, false]);
});

test("Chromium sets the layers from each description it applies: a restart's offer made while the hold was under way, and its answer, would send the camera into the void (and a paused layer after it); the wish is applied again over each", async () => {
  using clock = fakeClock();
  const { sfu, pc, sender } = await uplink();
  const ice = sender.transport.iceTransport;
  const active = () => sender.calls.map((c) => c.active);
  sfu.layers(["h"]);
  sender.calls[0].settle(true);
  await clock.tickAsync(0);
  pc.become("connected");
  pc.become("failed");
  // The hold is set before the offer is applied, which was made before it.
  assert.deepEqual(active(), [["h"], []]);
  sender.calls[1].settle(true);
  await clock.tickAsync(0);
  assert.deepEqual(pc.offers, [false, true]);
  assert.deepEqual(active(), [["h"], [], []]);
  sender.calls[2].settle(true);
  await clock.tickAsync(0);
  assert.deepEqual(sender.encodings.map((e) => e.active), [
    false,
    false,
    false,
  ]);
  // The answer, to an offer made with "h" sent: held again over it.
  await sfu.answer({ type: "answer", sdp: "v=0\r\n" });
  assert.deepEqual(active(), [["h"], [], [], []]);
  sender.calls[3].settle(true);
  await clock.tickAsync(0);
  assert.deepEqual(sender.encodings.map((e) => e.active), [
    false,
    false,
    false,
  ]);
  ice.select("u2");
  await clock.tickAsync(0);
  assert.deepEqual(active(), [["h"], [], [], [], ["h"]]);
  sender.calls[4].settle(true);
  await clock.tickAsync(0);
  assert.equal(sender.calls.length, 5);
  assert.deepEqual(sender.encodings.map((e) => e.active), [true, false, false]);
});

test("the microphone is held with the camera, and sent again with it", async () => {
  using clock = fakeClock();
  const { pc, sender } = await uplink(true, true);
  const audio = pc.audio!;
  pc.become("connected");
  pc.become("failed");
  await clock.tickAsync(0);
  sender.calls[0].settle(true);
  await clock.tickAsync(0);
  assert.deepEqual(audio.calls.map((c) => c.active.length), [0]);
  audio.calls[0].settle(true);
  pc.become("connected");
  await clock.tickAsync(0);
  sender.calls[1].settle(true);
  await clock.tickAsync(0);
  assert.deepEqual(audio.calls.map((c) => c.active.length), [0, 1]);
  audio.calls[1].settle(true);
  await clock.tickAsync(0);
  assert.deepEqual(audio.encodings.map((e) => e.active), [true]);
});

test("a held connection is sent again when connected again (Firefox), or after 5 s whatever the path; sending again refused three times is tried again 1 s later", async () => {
  using clock = fakeClock();
  const { pc, sender } = await uplink();
  pc.become("connected");
  pc.become("failed");
  await clock.tickAsync(0);
  assert.deepEqual(sender.calls.map((c) => c.active), [[]]);
  sender.calls[0].settle(true);
  pc.become("connected");
  await clock.tickAsync(0);
  assert.deepEqual(sender.calls[1].active, ["h", "m", "l"]);
  sender.calls[1].settle(true);
  pc.become("failed");
  await clock.tickAsync(0);
  assert.deepEqual(sender.calls[2].active, []);
  sender.calls[2].settle(true);
  await clock.tickAsync(4_900);
  assert.equal(sender.calls.length, 3);
  await clock.tickAsync(100);
  assert.deepEqual(sender.calls[3].active, ["h", "m", "l"]);
  for (let i = 3; i < 6; i++) {
    sender.calls[i].settle(false);
    await clock.tickAsync(0);
  }
  assert.equal(sender.calls.length, 6);
  await clock.tickAsync(1_000);
  assert.deepEqual(sender.calls[6].active, ["h", "m", "l"]);
});
