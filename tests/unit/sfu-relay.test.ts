/**
 * The router's SFU side (server/sfu/sfu-relay.ts) against a fake gateway and
 * a fake clock: which streams go through the SFU, what each party is sent,
 * and every way back to peer to peer. Janus itself: tests/e2e/sfu.test.ts.
 */
import assert from "node:assert/strict";
import { createLogger } from "../../server/observe/logger.ts";
import { Metrics } from "../../server/observe/metrics.ts";
import type { Peer } from "../../server/signaling/peer.ts";
import type { Gateway, Outbound } from "../../server/sfu/sfu-relay.ts";
import { SfuRelay } from "../../server/sfu/sfu-relay.ts";
import type { Jsep } from "../../server/sfu/video-room.ts";
import type { ServerMessage } from "../../protocol/messages.ts";
import { fakeClock } from "./support/clock.ts";

const OFFER_TIMEOUT_MS = 5_000;
const SWITCH_TIMEOUT_MS = 10_000;
const B = { id: "client_broadcaster", node: "local" };
const V1 = { id: "client_viewer1aa", node: "local" };
const V2 = { id: "client_viewer2aa", node: "local" };
const V3 = { id: "client_viewer3aa", node: "local" };
/** A description Janus could parse (the relay checks what goes to Janus). */
const sdp = (session: string) =>
  `v=0\r\no=- ${session} 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n` +
  "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n";
/** The SDP session of every offer the fake Janus makes. */
const JANUS_SESSION = "777";
const janusOffer = (viewerId: string) =>
  `v=0\r\no=- ${JANUS_SESSION} 1 IN IP4 0.0.0.0\r\ns=${viewerId}\r\n` +
  "a=setup:actpass\r\n";

/** Janus as the relay sees it: calls recorded, answers given at once. */
class FakeGateway implements Gateway {
  readonly events = new EventTarget();
  up = true;
  calls: string[] = [];
  subscribed = new Set<string>();
  failPublish = false;

  publish(
    streamId: string,
    _offer: Jsep,
    _publisherId?: string,
    e2ee = false,
  ): Promise<Jsep> {
    this.calls.push(`publish ${streamId}${e2ee ? " e2ee" : ""}`);
    if (this.failPublish) return Promise.reject(new Error("Janus refused"));
    return Promise.resolve({ type: "answer", sdp: "janus-answer" });
  }
  failRestart = false;
  restartPublisher(streamId: string, _offer: Jsep): Promise<Jsep> {
    this.calls.push(`restart ${streamId}`);
    if (this.failRestart) return Promise.reject(new Error("Janus refused"));
    return Promise.resolve({ type: "answer", sdp: "janus-restart-answer" });
  }
  subscribe(streamId: string, viewerId: string): Promise<Jsep> {
    this.calls.push(`subscribe ${streamId} ${viewerId}`);
    this.subscribed.add(viewerId);
    return Promise.resolve({ type: "offer", sdp: janusOffer(viewerId) });
  }
  answer(streamId: string, viewerId: string): Promise<void> {
    this.calls.push(`answer ${streamId} ${viewerId}`);
    return Promise.resolve();
  }
  trickle(streamId: string, viewerId: string | undefined): Promise<void> {
    this.calls.push(`trickle ${streamId} ${viewerId ?? "publisher"}`);
    return Promise.resolve();
  }
  isSubscribed(_streamId: string, viewerId: string): boolean {
    return this.subscribed.has(viewerId);
  }
  unsubscribe(streamId: string, viewerId: string): Promise<void> {
    this.calls.push(`unsubscribe ${streamId} ${viewerId}`);
    this.subscribed.delete(viewerId);
    return Promise.resolve();
  }
  end(streamId: string): Promise<void> {
    this.calls.push(`end ${streamId}`);
    return Promise.resolve();
  }
  setLayer(streamId: string, viewerId: string, layer: number): Promise<void> {
    this.calls.push(`layer ${streamId} ${viewerId} ${layer}`);
    return Promise.resolve();
  }
  requestKeyframe(streamId: string): Promise<void> {
    this.calls.push(`keyframe ${streamId}`);
    return Promise.resolve();
  }
  describe(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
  adopt(streamId: string): Promise<void> {
    this.calls.push(`adopt ${streamId}`);
    return Promise.resolve();
  }
  release(streamId: string): Promise<void> {
    this.calls.push(`release ${streamId}`);
    return Promise.resolve();
  }
  discard(): Promise<void> {
    return Promise.resolve();
  }
}

function setUp(afterViewers = 0) {
  const gateway = new FakeGateway();
  const sent: { to: string; message: ServerMessage }[] = [];
  const metrics = new Metrics();
  const record = (out: readonly Outbound[]) => {
    for (const { to, message } of out) sent.push({ to: to.id, message });
  };
  const sfu = new SfuRelay({
    gateway,
    logger: createLogger("silent"),
    metrics,
    post: record,
    afterViewers,
    directMax: 50,
    offerTimeoutMs: OFFER_TIMEOUT_MS,
    switchTimeoutMs: SWITCH_TIMEOUT_MS,
  });
  const broadcaster = {
    id: B.id,
    send: (message: ServerMessage) => sent.push({ to: B.id, message }),
  } as unknown as Peer;
  const viewer = (id: string) => ({ id } as unknown as Peer);
  // The router's part: it sends what each step hands back, in order.
  const relay = {
    phaseOf: (streamId: string) => sfu.phaseOf(streamId),
    routeOf: (streamId: string, viewerId: string) =>
      sfu.routeOf(streamId, viewerId),
    blocks: (streamId: string, viewerId: string) =>
      sfu.blocks(streamId, viewerId),
    announced: (...args: Parameters<SfuRelay["announced"]>) => {
      const { direct, out } = sfu.announced(...args);
      record(out);
      return direct;
    },
    joined: (...args: Parameters<SfuRelay["joined"]>) => {
      const { taken, out } = sfu.joined(...args);
      record(out);
      return taken;
    },
    offer: (...args: Parameters<SfuRelay["offer"]>) => {
      const { out, published } = sfu.offer(...args);
      record(out);
      return published;
    },
    playing: (...args: Parameters<SfuRelay["playing"]>) =>
      record(sfu.playing(...args)),
    departed: (...args: Parameters<SfuRelay["departed"]>) =>
      sfu.departed(...args),
    candidate: (...args: Parameters<SfuRelay["candidate"]>) =>
      sfu.candidate(...args),
    fromViewer: (...args: Parameters<SfuRelay["fromViewer"]>) =>
      sfu.fromViewer(...args),
    viewerLoss: (...args: Parameters<SfuRelay["viewerLoss"]>) =>
      sfu.viewerLoss(...args),
    close: () => sfu.close(),
  };
  return { gateway, sent, metrics, relay, broadcaster, viewer };
}

/** The pool's `lost`: an instance gone with `streams`; `up`: another linked. */
const lost = (streams: string[], up: boolean) =>
  new CustomEvent("lost", { detail: { url: "ws://janus-1/", streams, up } });

/** Lets the fake gateway's resolved promises run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("sfu relay: an announce asks the broadcaster to publish; its offer gets Janus's answer and every viewer an offer from Janus", async () => {
  const { gateway, sent, relay, broadcaster } = setUp();
  // No viewer to connect to: the SFU takes them all.
  assert.deepEqual(relay.announced("s", B, [V1]), []);
  assert.deepEqual(sent.splice(0), [{
    to: B.id,
    message: { type: "sfu-publish", streamId: "s" },
  }]);
  assert.equal(relay.phaseOf("s"), "asked");
  // A viewer joining meanwhile waits for the publisher.
  assert.equal(relay.joined("s", V2), true);
  assert.equal(sent.length, 0);

  await relay.offer(broadcaster, {
    type: "sfu-offer",
    streamId: "s",
    offer: { type: "offer", sdp: sdp("1") },
  });
  await settle();
  assert.equal(relay.phaseOf("s"), "published");
  assert.deepEqual(sent.map(({ to, message }) => [to, message.type]), [
    // Once it publishes, the broadcaster counts its viewers (no connecting).
    [B.id, "viewer-joined"],
    [B.id, "viewer-joined"],
    [B.id, "sfu-answer"],
    [V1.id, "webrtc-offer"],
    [V2.id, "webrtc-offer"],
  ]);
  assert.deepEqual(sent[1].message, {
    type: "viewer-joined",
    streamId: "s",
    viewerId: V2.id,
    viewerCount: 2,
    sfu: true,
  });
  // Seed-shaped: the viewer's own id, an ordinary offer.
  assert.deepEqual(sent[3].message, {
    type: "webrtc-offer",
    streamId: "s",
    viewerId: V1.id,
    offer: { type: "offer", sdp: janusOffer(V1.id) },
  });
  assert.deepEqual(gateway.calls, [
    "publish s",
    `subscribe s ${V1.id}`,
    `subscribe s ${V2.id}`,
  ]);

  // The viewer's answer and candidates go to Janus, not to the broadcaster.
  assert.equal(
    relay.fromViewer(V1.id, {
      type: "webrtc-answer",
      streamId: "s",
      answer: { type: "answer", sdp: sdp("2") },
    }, () => {}),
    true,
  );
  assert.equal(
    relay.fromViewer(V1.id, {
      type: "webrtc-ice-candidate",
      streamId: "s",
      candidate: { candidate: "candidate:1" },
    }, () => {}),
    true,
  );
  // The broadcaster's own candidates go to its publisher handle.
  relay.candidate(broadcaster, {
    type: "sfu-ice-candidate",
    streamId: "s",
    candidate: { candidate: "candidate:2" },
  });
  assert.deepEqual(gateway.calls.slice(3), [
    `answer s ${V1.id}`,
    `trickle s ${V1.id}`,
    "trickle s publisher",
  ]);
});

Deno.test("sfu relay: a broadcaster silent after sfu-publish (a seed one) gets every viewer, peer to peer", () => {
  using clock = fakeClock();
  const { gateway, sent, metrics, relay } = setUp();
  relay.announced("s", B, [V1]);
  relay.joined("s", { ...V2, session: "42" });
  sent.splice(0);
  clock.tick(OFFER_TIMEOUT_MS - 1);
  assert.equal(sent.length, 0);
  clock.tick(1);
  assert.equal(relay.phaseOf("s"), "p2p");
  assert.deepEqual(sent.map(({ message }) => message), [
    { type: "viewer-joined", streamId: "s", viewerId: V1.id, viewerCount: 2 },
    {
      type: "viewer-joined",
      streamId: "s",
      viewerId: V2.id,
      viewerCount: 2,
      session: "42",
    },
  ]);
  assert.equal(metrics.sfuFallbacks.get("no-sfu-offer"), 1);
  assert.deepEqual(gateway.calls, ["end s"]);
  // Later joins are peer to peer: the relay does not take them, nor asks
  // that broadcaster again.
  assert.equal(relay.joined("s", V1), false);
  assert.equal(relay.joined("s", V3), false);
  assert.equal(sent.length, 2);
});

Deno.test("sfu relay: a WHEP viewer of a broadcaster that stays peer to peer is told so, never handed to the broadcaster", () => {
  using clock = fakeClock();
  const { sent, relay } = setUp(3);
  relay.announced("s", B, []);
  // SFU-only: the stream is asked to publish for it.
  assert.equal(relay.joined("s", V1, false, false, true), true);
  assert.deepEqual(sent.splice(0).map(({ message }) => message.type), [
    "sfu-publish",
  ]);
  // A seed broadcaster never publishes: the WHEP viewer hears it cannot be
  // served (its POST gets 503); the broadcaster hears nothing of it.
  clock.tick(OFFER_TIMEOUT_MS);
  assert.deepEqual(sent.splice(0).map(({ to, message }) => [to, message]), [[
    V1.id,
    {
      type: "error",
      code: "sfu-unavailable",
      message:
        "The SFU cannot serve stream s now (its broadcaster stays peer to peer)",
      inReplyTo: "join-stream",
    },
  ]]);
  // Another one later: told at once (the stream is not asked again).
  assert.equal(relay.joined("s", V2, false, false, true), true);
  assert.deepEqual(
    sent.splice(0).map(({ to, message }) => [to, message.type]),
    [
      [V2.id, "error"],
    ],
  );
  // A browser viewer is the broadcaster's, as before.
  assert.equal(relay.joined("s", V3), false);
  // The broadcaster reconnects (announces again): asked again (as any
  // broadcaster announcing anew), silent again; the browser viewer is
  // handed to it, the WHEP viewers still in the stream are not.
  sent.splice(0);
  assert.deepEqual(relay.announced("s", B, [V1, V3]), []);
  clock.tick(OFFER_TIMEOUT_MS);
  assert.deepEqual(
    sent.splice(0).map(({ to, message }) => [to, message.type]),
    [
      [B.id, "sfu-publish"],
      [V1.id, "error"],
      [V2.id, "error"],
      [B.id, "viewer-joined"],
    ],
  );
});

Deno.test("sfu relay: Janus down at the announce keeps the stream peer to peer; Janus refusing the publish sends it back", async () => {
  const { gateway, sent, metrics, relay, broadcaster } = setUp();
  gateway.up = false;
  assert.deepEqual(relay.announced("s", B, [V1]), [V1]);
  assert.equal(sent.length, 0);
  assert.equal(metrics.sfuFallbacks.get("janus-down"), 1);

  gateway.up = true;
  gateway.failPublish = true;
  relay.announced("t", B, [V1]);
  sent.splice(0);
  await relay.offer(broadcaster, {
    type: "sfu-offer",
    streamId: "t",
    offer: { type: "offer", sdp: sdp("3") },
  });
  assert.equal(relay.phaseOf("t"), "p2p");
  assert.equal(metrics.sfuFallbacks.get("publish-failed"), 1);
  // Counted while it published, then connected to, peer to peer.
  assert.deepEqual(
    sent.map(({ message }) =>
      message.type === "viewer-joined"
        ? `viewer-joined sfu=${!!message.sfu}`
        : message.type
    ),
    ["viewer-joined sfu=true", "viewer-joined sfu=false"],
  );
});

Deno.test("sfu relay: Janus lost while published: its streams go back to peer to peer", async () => {
  const { gateway, sent, relay, broadcaster } = setUp();
  relay.announced("s", B, [V1]);
  await relay.offer(broadcaster, {
    type: "sfu-offer",
    streamId: "s",
    offer: { type: "offer", sdp: sdp("3") },
  });
  await settle();
  sent.splice(0);
  gateway.events.dispatchEvent(lost(["s"], false));
  assert.equal(relay.phaseOf("s"), "p2p");
  assert.deepEqual(sent.map(({ to, message }) => [to, message.type]), [
    [B.id, "viewer-joined"],
  ]);
});

Deno.test("sfu relay: a resumed broadcaster and a re-joining viewer keep their connections; leaving frees them", async () => {
  const { gateway, sent, relay, broadcaster } = setUp();
  relay.announced("s", B, [V1]);
  await relay.offer(broadcaster, {
    type: "sfu-offer",
    streamId: "s",
    offer: { type: "offer", sdp: sdp("3") },
  });
  await settle();
  sent.splice(0);
  gateway.calls.length = 0;
  // The broadcaster comes back on another node: nothing is asked again.
  assert.deepEqual(relay.announced("s", { ...B, node: "other" }, [V1]), []);
  // The viewer re-joins naming its connection, asking for a restart.
  assert.equal(relay.joined("s", { ...V1, session: "7" }, true), true);
  // A viewer with no connection is subscribed anew.
  relay.joined("s", V2);
  await settle();
  assert.deepEqual(gateway.calls, [`subscribe s ${V2.id}`]);
  // The new viewer: counted by the broadcaster, offered by Janus.
  assert.deepEqual(sent.map(({ to }) => to), [B.id, V2.id]);

  gateway.calls.length = 0;
  const place = (role: "viewer" | "broadcaster") => ({
    streamId: "s",
    role,
    node: "local",
  });
  relay.departed({
    clientId: V1.id,
    place: place("viewer"),
    viewers: [],
    viewerCount: 1,
  });
  relay.departed({
    clientId: B.id,
    place: place("broadcaster"),
    viewers: [V2],
    viewerCount: 1,
  });
  assert.deepEqual(gateway.calls, [`unsubscribe s ${V1.id}`, "end s"]);
  // V2 waits for a broadcaster, peer to peer until one comes.
  assert.equal(relay.phaseOf("s"), "p2p");
  relay.departed({
    clientId: V2.id,
    place: place("viewer"),
    viewers: [],
    viewerCount: 0,
  });
  assert.equal(relay.phaseOf("s"), undefined);
});

Deno.test("sfu relay: an sfu-offer from someone it did not ask is refused", async () => {
  const { sent, relay } = setUp();
  const stranger = {
    id: "client_stranger1",
    send: (message: ServerMessage) =>
      sent.push({ to: "client_stranger1", message }),
  } as unknown as Peer;
  await relay.offer(stranger, {
    type: "sfu-offer",
    streamId: "s",
    offer: { type: "offer", sdp: sdp("3") },
  });
  assert.equal(sent[0].message.type, "error");
});

/** The viewer `id` as the router seats it (overlap: it switches make before break). */
const join = (
  relay: ReturnType<typeof setUp>["relay"],
  seat: { id: string; node: string; session?: string },
  overlap: boolean,
) => relay.joined("s", seat, false, overlap);

/**
 * A stream past SFU_AFTER_VIEWERS=1: two viewers that overlap join, and the
 * broadcaster offers (`simulcast`: its offer's simulcast line).
 */
async function twoOverlapping(
  relay: ReturnType<typeof setUp>["relay"],
  broadcaster: Peer,
  simulcast = "",
) {
  relay.announced("s", B, []);
  join(relay, V1, true);
  join(relay, V2, true);
  await relay.offer(broadcaster, {
    type: "sfu-offer",
    streamId: "s",
    offer: { type: "offer", sdp: sdp("3") + simulcast },
  });
}

Deno.test("sfu relay: past SFU_AFTER_VIEWERS the stream moves; a viewer that overlaps keeps its peer-to-peer video until it plays the SFU's, a seed viewer is moved at its offer", async () => {
  const { gateway, sent, metrics, relay, broadcaster } = setUp(2);
  assert.deepEqual(relay.announced("s", B, []), []);
  // Up to 2 viewers: peer to peer, the broadcaster connects to each.
  assert.equal(join(relay, V1, true), false);
  assert.equal(join(relay, V2, false), false);
  assert.equal(relay.phaseOf("s"), "p2p");
  assert.equal(sent.length, 0);
  // The third: the broadcaster is asked to publish; the newcomer waits.
  assert.equal(join(relay, V3, true), true);
  assert.deepEqual(sent.splice(0).map(({ message }) => message.type), [
    "sfu-publish",
  ]);
  assert.equal(relay.routeOf("s", V1.id), "p2p");
  assert.equal(relay.routeOf("s", V3.id), "held");

  await relay.offer(broadcaster, {
    type: "sfu-offer",
    streamId: "s",
    offer: { type: "offer", sdp: sdp("3") },
  });
  await settle();
  const moved = sent.splice(0);
  const summary = moved.map(({ to, message }) =>
    `${to} ${message.type}${
      message.type === "viewer-joined" ? ` ${message.viewerId}` : ""
    }${message.type === "viewer-moved" ? ` ${message.viewerId}` : ""}`
  );
  // Janus's offer makes Janus the DTLS client for the viewer that overlaps
  // (our element: dtls-role.ts); a seed viewer gets it as Janus made it.
  const offerTo = (id: string) =>
    moved.flatMap(({ to, message }) =>
      to === id && message.type === "webrtc-offer" ? [message.offer.sdp] : []
    );
  assert.deepEqual(offerTo(V1.id), [
    janusOffer(V1.id).replace("actpass", "active"),
  ]);
  assert.deepEqual(offerTo(V2.id), [janusOffer(V2.id)]);
  // It also says the offer is the SFU's (our viewer reports its loss on
  // it: viewer-loss); the seed viewer's offer is the seed's.
  const sfuFlag = (id: string) =>
    moved.flatMap(({ to, message }) =>
      to === id && message.type === "webrtc-offer" ? [message.sfu] : []
    );
  assert.deepEqual(sfuFlag(V1.id), [true]);
  assert.deepEqual(sfuFlag(V2.id), [undefined]);
  assert.deepEqual(summary, [
    // Only the newcomer is new to the broadcaster.
    `${B.id} viewer-joined ${V3.id}`,
    `${B.id} sfu-answer`,
    `${V1.id} webrtc-offer`,
    `${V2.id} webrtc-offer`,
    // A seed viewer drops its connection for the new offer: the
    // broadcaster closes its own now.
    `${B.id} viewer-moved ${V2.id}`,
    `${V3.id} webrtc-offer`,
  ]);
  assert.equal(relay.routeOf("s", V1.id), "switching");
  assert.equal(relay.routeOf("s", V2.id), "sfu");
  assert.equal(relay.routeOf("s", V3.id), "sfu");
  // While V1 switches, the broadcaster's restarts do not reach it.
  assert.equal(relay.blocks("s", V1.id), true);
  // A report of another connection changes nothing...
  relay.playing(V1.id, {
    type: "viewer-playing",
    streamId: "s",
    session: "1234",
  });
  assert.equal(sent.length, 0);
  // ...the SFU's playing moves it.
  relay.playing(V1.id, {
    type: "viewer-playing",
    streamId: "s",
    session: JANUS_SESSION,
  });
  assert.deepEqual(sent.splice(0), [{
    to: B.id,
    message: { type: "viewer-moved", streamId: "s", viewerId: V1.id },
  }]);
  assert.equal(relay.routeOf("s", V1.id), "sfu");
  assert.equal(metrics.sfuSwitches, 2);
  assert.deepEqual(gateway.calls, [
    "publish s",
    `subscribe s ${V1.id}`,
    `subscribe s ${V2.id}`,
    `subscribe s ${V3.id}`,
  ]);
  // Fewer viewers do not send the stream back.
  relay.departed({
    clientId: V3.id,
    place: { streamId: "s", role: "viewer", node: "local" },
    viewers: [],
    viewerCount: 2,
  });
  assert.equal(relay.phaseOf("s"), "published");
});

Deno.test("sfu relay: a viewer whose SFU connection never plays stays peer to peer (its video never stopped)", async () => {
  using clock = fakeClock();
  const { gateway, sent, metrics, relay, broadcaster } = setUp(1);
  await twoOverlapping(relay, broadcaster);
  for (let i = 0; i < 5; i++) await Promise.resolve();
  assert.equal(relay.routeOf("s", V1.id), "switching");
  sent.splice(0);
  clock.tick(SWITCH_TIMEOUT_MS);
  assert.equal(relay.routeOf("s", V1.id), "p2p");
  assert.equal(relay.blocks("s", V1.id), false);
  assert.equal(metrics.sfuFallbacks.get("switch-timeout"), 1);
  assert.ok(gateway.calls.includes(`unsubscribe s ${V1.id}`));
  // Nothing to tell anyone: the broadcaster still sends to it.
  assert.equal(sent.length, 0);
  // Its answers go to the broadcaster again, not to Janus.
  assert.equal(
    relay.fromViewer(V1.id, {
      type: "webrtc-ice-candidate",
      streamId: "s",
      candidate: { candidate: "candidate:1" },
    }, () => {}),
    false,
  );
});

Deno.test("sfu relay: Janus back after a loss: streams past the threshold are asked to publish again, and their viewers switch again", async () => {
  const { gateway, sent, relay, broadcaster } = setUp(1);
  await twoOverlapping(relay, broadcaster);
  await settle();
  sent.splice(0);
  gateway.up = false;
  gateway.events.dispatchEvent(lost(["s"], false));
  assert.equal(relay.phaseOf("s"), "p2p");
  // V2 had no connection but the SFU's: the broadcaster connects to it.
  // V1 was still switching, its peer-to-peer video playing: nothing to do.
  assert.deepEqual(
    sent.splice(0).filter(({ message }) => message.type === "viewer-joined")
      .map(({ message }) =>
        message.type === "viewer-joined" && message.viewerId
      ),
    [V2.id],
  );
  gateway.up = true;
  gateway.events.dispatchEvent(new Event("up"));
  assert.equal(relay.phaseOf("s"), "asked");
  assert.deepEqual(sent.splice(0).map(({ message }) => message.type), [
    "sfu-publish",
  ]);
  gateway.calls.length = 0;
  await relay.offer(broadcaster, {
    type: "sfu-offer",
    streamId: "s",
    offer: { type: "offer", sdp: sdp("4") },
  });
  await settle();
  assert.equal(relay.routeOf("s", V1.id), "switching");
  assert.equal(relay.routeOf("s", V2.id), "switching");
  assert.deepEqual(gateway.calls, [
    "publish s",
    `subscribe s ${V1.id}`,
    `subscribe s ${V2.id}`,
  ]);
});

/** V1 and V2 watch "s", published in two layers (Chromium's at 640x480). */
async function publishTwoLayers(
  { relay, broadcaster }: ReturnType<typeof setUp>,
): Promise<void> {
  relay.announced("s", B, [V1, V2]);
  await relay.offer(broadcaster, {
    type: "sfu-offer",
    streamId: "s",
    offer: { type: "offer", sdp: sdp("3") + "a=simulcast:send h;m\r\n" },
  });
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

Deno.test("sfu relay: simulcast layers: Janus's slowlink moves a viewer down among the rids of the broadcaster's offer; the broadcaster is told to pause those no viewer gets, and to send one again before a viewer moves to it", async () => {
  using clock = fakeClock();
  const setup = setUp();
  const { gateway, metrics, relay, sent } = setup;
  await publishTwoLayers(setup);
  sent.length = 0;
  gateway.calls.length = 0;
  const toBroadcaster = () =>
    sent.splice(0).filter(({ to, message }) =>
      to === B.id && message.type === "sfu-layers"
    ).map(({ message }) =>
      message.type === "sfu-layers" && message.rids.join(",")
    );
  const janus = (type: string, detail: Record<string, unknown>) =>
    gateway.events.dispatchEvent(
      new CustomEvent(type, { detail: { streamId: "s", ...detail } }),
    );
  for (const viewerId of [V1.id, V2.id]) {
    janus("substream", { viewerId, substream: 1 });
  }
  clock.tick(5_000);
  assert.deepEqual(toBroadcaster(), ["h"]);
  janus("slowlink", { viewerId: V1.id });
  janus("slowlink", { viewerId: V1.id });
  // One step per report burst, to m, asked of the broadcaster with it.
  assert.deepEqual(toBroadcaster(), ["m,h"]);
  clock.tick(250);
  assert.deepEqual(gateway.calls, [`layer s ${V1.id} 0`]);
  janus("substream", { viewerId: V1.id, substream: 0 });
  // Lossy still: there is no smaller layer.
  clock.tick(2_000);
  janus("slowlink", { viewerId: V1.id });
  clock.tick(250);
  assert.deepEqual(gateway.calls.slice(1), []);
  // Quiet: back to the full picture within 15 s plus its jitter; Janus
  // not confirming it, keyframes are asked of the broadcaster.
  clock.tick(25_000);
  const layerCalls = () => gateway.calls.filter((c) => c.startsWith("layer"));
  assert.deepEqual(layerCalls().slice(1), [`layer s ${V1.id} 1`]);
  assert.ok(gateway.calls.includes("keyframe s"));
  assert.equal(metrics.sfuLayerChanges, 2);
  // An unknown viewer's report changes nothing.
  janus("slowlink", { viewerId: "client_nobody0000" });
  clock.tick(1_000);
  assert.equal(layerCalls().length, 2, String(gateway.calls));
  relay.close();
});

Deno.test("sfu relay: a broadcaster announcing again on its published stream (its socket came back) is told again which layers to send: a pause sent to its old socket is not lost", async () => {
  using clock = fakeClock();
  const setup = setUp();
  const { gateway, relay, sent } = setup;
  await publishTwoLayers(setup);
  for (const viewerId of [V1.id, V2.id]) {
    gateway.events.dispatchEvent(
      new CustomEvent("substream", {
        detail: { streamId: "s", viewerId, substream: 1 },
      }),
    );
  }
  clock.tick(5_000);
  const layers = () =>
    sent.splice(0).flatMap(({ message }) =>
      message.type === "sfu-layers" ? [message.rids] : []
    );
  assert.deepEqual(layers(), [["h"]]);
  assert.deepEqual(relay.announced("s", B, [V1, V2]), []);
  assert.deepEqual(layers(), [["h"]]);
  relay.close();
});

Deno.test("sfu relay: a broadcaster publishing one rid (no simulcast) announcing again is not told to pause it", async () => {
  const { relay, broadcaster, sent } = setUp();
  relay.announced("s", B, [V1]);
  await relay.offer(broadcaster, {
    type: "sfu-offer",
    streamId: "s",
    offer: { type: "offer", sdp: sdp("3") + "a=simulcast:send h\r\n" },
  });
  for (let i = 0; i < 5; i++) await Promise.resolve();
  sent.length = 0;
  relay.announced("s", B, [V1]);
  assert.deepEqual(
    sent.flatMap(({ message }) =>
      message.type === "sfu-layers" ? [message.rids] : []
    ),
    [["h"]],
  );
  relay.close();
});

Deno.test("sfu relay: a viewer whose switch to the SFU timed out no longer holds its layer: nobody else's layer is paused 5 s later", async () => {
  using clock = fakeClock();
  const { gateway, sent, relay, broadcaster } = setUp(1);
  await twoOverlapping(relay, broadcaster, "a=simulcast:send h;m\r\n");
  for (let i = 0; i < 5; i++) await Promise.resolve();
  assert.equal(relay.routeOf("s", V1.id), "switching");
  for (const [viewerId, substream] of [[V1.id, 0], [V2.id, 1]] as const) {
    gateway.events.dispatchEvent(
      new CustomEvent("substream", {
        detail: { streamId: "s", viewerId, substream },
      }),
    );
  }
  // V2 plays the SFU's connection; V1 never does.
  relay.playing(V2.id, {
    type: "viewer-playing",
    streamId: "s",
    session: JANUS_SESSION,
  });
  assert.equal(relay.routeOf("s", V2.id), "sfu");
  sent.length = 0;
  clock.tick(SWITCH_TIMEOUT_MS);
  assert.equal(relay.routeOf("s", V1.id), "p2p");
  clock.tick(5_000);
  assert.deepEqual(
    sent.filter(({ message }) => message.type === "sfu-layers").map((
      { message },
    ) => message.type === "sfu-layers" && message.rids),
    [["h"]],
  );
  relay.close();
});

Deno.test("sfu relay: a viewer's own loss report (viewer-loss) of 10% or more moves it a layer down as Janus's slowlink does; less, or from a viewer not on the SFU, moves nothing", async () => {
  using clock = fakeClock();
  const setup = setUp();
  const { gateway, metrics, relay } = setup;
  await publishTwoLayers(setup);
  for (const viewerId of [V1.id, V2.id]) {
    gateway.events.dispatchEvent(
      new CustomEvent("substream", {
        detail: { streamId: "s", viewerId, substream: 1 },
      }),
    );
  }
  gateway.calls.length = 0;
  const layerCalls = () => gateway.calls.filter((c) => c.startsWith("layer"));
  const loss = (viewerId: string, lost: number, received: number) =>
    relay.viewerLoss(viewerId, {
      type: "viewer-loss",
      streamId: "s",
      lost,
      received,
    });
  // Nothing received and nothing lost is no loss (no client of ours
  // sends it; another might).
  loss(V1.id, 0, 0);
  // 9 of 100 packets: below the default 10%.
  loss(V1.id, 9, 91);
  clock.tick(1_000);
  assert.deepEqual(layerCalls(), []);
  // A viewer the relay does not hold.
  loss("client_nobody0000", 50, 50);
  clock.tick(1_000);
  assert.deepEqual(layerCalls(), []);
  loss(V1.id, 10, 90);
  clock.tick(250);
  assert.deepEqual(layerCalls(), [`layer s ${V1.id} 0`]);
  assert.equal(metrics.sfuViewerLossReports, 3);
  relay.close();
});

Deno.test("sfu relay: an offer or answer Janus could not parse gets bad-sdp and never reaches Janus", async () => {
  const { gateway, sent, relay, broadcaster } = setUp();
  relay.announced("s", B, [V1]);
  sent.length = 0;
  // No o= line, and a NUL byte: Janus refuses both (or never answers).
  for (const bad of ["v=0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP 96\r\n", "v=0\0"]) {
    await relay.offer(broadcaster, {
      type: "sfu-offer",
      streamId: "s",
      offer: { type: "offer", sdp: bad },
    });
  }
  assert.deepEqual(
    sent.splice(0).map(({ message }) =>
      message.type === "error" && [message.code, message.inReplyTo]
    ),
    [["bad-sdp", "sfu-offer"], ["bad-sdp", "sfu-offer"]],
  );
  assert.equal(relay.phaseOf("s"), "asked");
  assert.deepEqual(gateway.calls, []);
  // A good offer after that is taken.
  await relay.offer(broadcaster, {
    type: "sfu-offer",
    streamId: "s",
    offer: { type: "offer", sdp: sdp("5") },
  });
  await settle();
  assert.equal(relay.phaseOf("s"), "published");
  const reply = (message: ServerMessage) => sent.push({ to: V1.id, message });
  sent.length = 0;
  gateway.calls.length = 0;
  assert.equal(
    relay.fromViewer(V1.id, {
      type: "webrtc-answer",
      streamId: "s",
      answer: { type: "answer", sdp: "v=0\r\nbroken" },
    }, reply),
    true,
  );
  assert.deepEqual(
    sent.map(({ to, message }) =>
      message.type === "error" && [to, message.code]
    ),
    [[V1.id, "bad-sdp"]],
  );
  assert.deepEqual(gateway.calls, []);
});

Deno.test("sfu relay: its Janus instance lost while another is linked: the broadcaster publishes again, every viewer gets a new offer", async () => {
  const { gateway, sent, metrics, relay, broadcaster } = setUp();
  relay.announced("s", B, [V1]);
  await relay.offer(broadcaster, {
    type: "sfu-offer",
    streamId: "s",
    offer: { type: "offer", sdp: sdp("3") },
  });
  await settle();
  sent.splice(0);
  gateway.calls.length = 0;
  gateway.events.dispatchEvent(lost(["s"], true));
  assert.equal(relay.phaseOf("s"), "asked");
  assert.equal(relay.routeOf("s", V1.id), "held");
  assert.equal(metrics.sfuRepublishes, 1);
  assert.deepEqual(sent.splice(0), [{
    to: B.id,
    message: { type: "sfu-publish", streamId: "s" },
  }]);
  await relay.offer(broadcaster, {
    type: "sfu-offer",
    streamId: "s",
    offer: { type: "offer", sdp: sdp("4") },
  });
  await settle();
  assert.equal(relay.phaseOf("s"), "published");
  // Counted once already: no second viewer-joined; a new offer from Janus.
  assert.deepEqual(sent.map(({ to, message }) => [to, message.type]), [
    [B.id, "sfu-answer"],
    [V1.id, "webrtc-offer"],
  ]);
  assert.deepEqual(gateway.calls, [
    "end s",
    "publish s",
    `subscribe s ${V1.id}`,
  ]);
});

Deno.test("sfu relay: an sfu-offer from the stream's broadcaster once published is an ICE restart on the same publisher (viewers kept); refused by Janus, the broadcaster publishes anew", async () => {
  using clock = fakeClock();
  const { gateway, sent, metrics, relay, broadcaster } = setUp();
  relay.announced("s", B, [V1]);
  await relay.offer(broadcaster, {
    type: "sfu-offer",
    streamId: "s",
    offer: { type: "offer", sdp: sdp("5") },
  });
  await clock.tickAsync(0);
  assert.equal(relay.phaseOf("s"), "published");
  sent.splice(0);
  gateway.calls.length = 0;

  // Its address changed: a restart offer. Janus answers on its publisher.
  await relay.offer(broadcaster, {
    type: "sfu-offer",
    streamId: "s",
    offer: { type: "offer", sdp: sdp("6") },
  });
  assert.deepEqual(gateway.calls, ["restart s"]);
  assert.deepEqual(sent.splice(0), [{
    to: B.id,
    message: {
      type: "sfu-answer",
      streamId: "s",
      answer: { type: "answer", sdp: "janus-restart-answer" },
    },
  }]);
  assert.equal(relay.phaseOf("s"), "published");
  assert.equal(relay.routeOf("s", V1.id), "sfu");
  assert.equal(metrics.sfuPublisherRestarts, 1);
  // Key frames asked for as its media comes back on its new path.
  gateway.calls.length = 0;
  await clock.tickAsync(499);
  assert.deepEqual(gateway.calls, []);
  await clock.tickAsync(1);
  assert.deepEqual(gateway.calls, ["keyframe s"]);
  await clock.tickAsync(5_000);
  assert.deepEqual(gateway.calls, [
    "keyframe s",
    "keyframe s",
    "keyframe s",
  ]);
  gateway.calls.length = 0;

  // Someone else's offer is still refused, and restarts nothing.
  await relay.offer({ id: V1.id, send: () => {} } as unknown as Peer, {
    type: "sfu-offer",
    streamId: "s",
    offer: { type: "offer", sdp: sdp("7") },
  });
  assert.equal(gateway.calls.length, 0);

  // One Janus could not parse: bad-sdp, nothing asked of Janus.
  const refusals: ServerMessage[] = [];
  await relay.offer(
    {
      id: B.id,
      send: (m: ServerMessage) => refusals.push(m),
    } as unknown as Peer,
    {
      type: "sfu-offer",
      streamId: "s",
      offer: { type: "offer", sdp: "not an sdp" },
    },
  );
  assert.equal(refusals[0]?.type === "error" && refusals[0].code, "bad-sdp");
  assert.equal(gateway.calls.length, 0);

  // Janus refuses the next one: the broadcaster publishes anew.
  gateway.failRestart = true;
  gateway.calls.length = 0;
  await relay.offer(broadcaster, {
    type: "sfu-offer",
    streamId: "s",
    offer: { type: "offer", sdp: sdp("8") },
  });
  assert.equal(relay.phaseOf("s"), "asked");
  assert.equal(metrics.sfuRepublishes, 1);
  assert.deepEqual(sent.splice(0), [{
    to: B.id,
    message: { type: "sfu-publish", streamId: "s" },
  }]);
  assert.deepEqual(gateway.calls, ["restart s", "end s"]);
});

Deno.test("sfu relay: the publisher's media back at Janus after a silence gets a key frame asked for, and another 350 ms later; its silence, a subscriber's media or an unknown stream's do not", async () => {
  const { gateway, relay, broadcaster } = setUp();
  relay.announced("s", B, [V1]);
  await relay.offer(broadcaster, {
    type: "sfu-offer",
    streamId: "s",
    offer: { type: "offer", sdp: sdp("9") },
  });
  await settle();
  using clock = fakeClock();
  gateway.calls.length = 0;
  const media = (detail: Record<string, unknown>) =>
    gateway.events.dispatchEvent(
      new CustomEvent("media", { detail: { up: true, ...detail } }),
    );
  media({ streamId: "s", viewerId: undefined, flowing: false });
  media({ streamId: "s", viewerId: V1.id, flowing: true });
  media({ streamId: "other", viewerId: undefined, flowing: true });
  media({ streamId: "s", viewerId: undefined });
  assert.deepEqual(gateway.calls, []);
  media({ streamId: "s", viewerId: undefined, flowing: true });
  assert.deepEqual(gateway.calls, ["keyframe s"]);
  await clock.tickAsync(349);
  assert.deepEqual(gateway.calls, ["keyframe s"]);
  await clock.tickAsync(1);
  assert.deepEqual(gateway.calls, ["keyframe s", "keyframe s"]);
  relay.close();
});

Deno.test("sfu relay: an encrypting broadcaster publishes with e2ee, again after its Janus instance is lost; in the clear again, without", async () => {
  const { gateway, relay, broadcaster } = setUp();
  const KEYED = { ...V1, e2ee: true as const };
  relay.announced("s", B, [KEYED], false, true);
  const offer = {
    type: "sfu-offer" as const,
    streamId: "s",
    offer: { type: "offer" as const, sdp: sdp("1") },
  };
  await relay.offer(broadcaster, offer);
  await settle();
  assert.equal(relay.phaseOf("s"), "published");
  // Lost, another instance linked: asked again, published there with e2ee.
  gateway.events.dispatchEvent(lost(["s"], true));
  await settle();
  assert.equal(relay.phaseOf("s"), "asked");
  await relay.offer(broadcaster, offer);
  await settle();
  // The same broadcaster in the clear: a new room, without the flag.
  relay.announced("s", B, [KEYED]);
  await relay.offer(broadcaster, offer);
  await settle();
  assert.deepEqual(
    gateway.calls.filter((call) => /^(publish|end)/.test(call)),
    ["publish s e2ee", "end s", "publish s e2ee", "end s", "publish s"],
  );
});
