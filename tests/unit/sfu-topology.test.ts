/**
 * The SFU topology's transition table (server/sfu/topology.ts), without a
 * relay: every event in every phase and every viewer route, which ones are
 * refused, where the accepted ones lead; then random walks that keep the
 * invariants and keep the state plain JSON (a store will hold it).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  emptyTopology,
  PHASE_MOVES,
  type SfuPhase,
  type StreamTopology,
  type TopologyEvent,
  transition,
  type ViewerEntry,
  type ViewerRoute,
} from "../../server/sfu/topology.ts";

const B = { id: "client_b", node: "n1" };
const B2 = { id: "client_b2", node: "n1" };
const V1 = { id: "client_v1", node: "n1" };
const V2 = { id: "client_v2", node: "n1" };
const config = { afterViewers: 0, directMax: 50 };
const OFFER = "v=0\r\no=- 777 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";

function viewer(route: ViewerRoute, extra: Partial<ViewerEntry> = {}) {
  return { seat: V1, overlap: false, sfuOnly: false, route, ...extra };
}

/** A stream in `phase` with one viewer, as the relay would have it. */
function inPhase(phase: SfuPhase): StreamTopology {
  const route: ViewerRoute = phase === "p2p"
    ? "p2p"
    : phase === "published"
    ? "sfu"
    : "held";
  return {
    ...emptyTopology("s"),
    phase,
    broadcaster: B,
    // Peer to peer after a seed broadcaster declined (else it is asked).
    declined: phase === "p2p",
    viewers: {
      [V1.id]: viewer(
        route,
        route === "sfu" ? { attempt: 1, janusSession: "777" } : {},
      ),
    },
    attempts: phase === "published" ? 2 : phase === "publishing" ? 1 : 0,
    ...(phase === "publishing" || phase === "published"
      ? { publication: 1 }
      : {}),
  };
}

const EVENTS: Record<string, TopologyEvent> = {
  "announce again": {
    kind: "announce",
    broadcaster: B,
    viewers: [V1],
    sfuOnly: false,
    sfuUp: true,
  },
  "announce, another broadcaster": {
    kind: "announce",
    broadcaster: B2,
    viewers: [V1],
    sfuOnly: false,
    sfuUp: true,
  },
  "join": {
    kind: "join",
    viewer: V2,
    restart: false,
    overlap: false,
    sfuOnly: false,
    sfuUp: true,
    subscribed: false,
  },
  "viewer departs": { kind: "depart", clientId: V1.id, role: "viewer" },
  "broadcaster departs": {
    kind: "depart",
    clientId: B.id,
    role: "broadcaster",
  },
  "offer": { kind: "offer", from: B.id, sdp: OFFER },
  "offer from a stranger": { kind: "offer", from: V1.id, sdp: OFFER },
  "published": {
    kind: "published",
    from: B.id,
    publication: 1,
    sdp: "answer",
  },
  "published, stale": {
    kind: "published",
    from: B2.id,
    publication: 1,
    sdp: "answer",
  },
  "published, an older publish": {
    kind: "published",
    from: B.id,
    publication: 0,
    sdp: "answer",
  },
  "publish failed": { kind: "publish-failed", from: B.id, publication: 1 },
  "offer timeout": { kind: "offer-timeout" },
  "sfu lost, none left": { kind: "sfu-lost", sfuUp: false },
  "sfu lost, another up": { kind: "sfu-lost", sfuUp: true },
  "sfu up": { kind: "sfu-up" },
};

/** Where each event takes each phase ("refused": not applied). */
const PHASES: Record<string, Record<SfuPhase, SfuPhase | "refused">> = {
  "announce again": {
    p2p: "asked",
    asked: "asked",
    publishing: "asked",
    // It resumed its place: its publisher carries on.
    published: "published",
  },
  "announce, another broadcaster": {
    p2p: "asked",
    asked: "asked",
    publishing: "asked",
    published: "asked",
  },
  "join": {
    p2p: "p2p",
    asked: "asked",
    publishing: "publishing",
    published: "published",
  },
  "viewer departs": {
    p2p: "p2p",
    asked: "asked",
    publishing: "publishing",
    published: "published",
  },
  "broadcaster departs": {
    p2p: "p2p",
    asked: "p2p",
    publishing: "p2p",
    published: "p2p",
  },
  "offer": {
    p2p: "refused",
    asked: "publishing",
    publishing: "refused",
    published: "refused",
  },
  "offer from a stranger": {
    p2p: "refused",
    asked: "refused",
    publishing: "refused",
    published: "refused",
  },
  "published": {
    p2p: "refused",
    asked: "refused",
    publishing: "published",
    published: "refused",
  },
  "published, stale": {
    p2p: "refused",
    asked: "refused",
    publishing: "refused",
    published: "refused",
  },
  "published, an older publish": {
    p2p: "refused",
    asked: "refused",
    publishing: "refused",
    published: "refused",
  },
  "publish failed": {
    p2p: "refused",
    asked: "refused",
    publishing: "p2p",
    published: "refused",
  },
  "offer timeout": {
    p2p: "refused",
    asked: "p2p",
    publishing: "refused",
    published: "refused",
  },
  "sfu lost, none left": {
    p2p: "refused",
    asked: "p2p",
    publishing: "p2p",
    published: "p2p",
  },
  // Published again on the instance still linked.
  "sfu lost, another up": {
    p2p: "refused",
    asked: "asked",
    publishing: "asked",
    published: "asked",
  },
  "sfu up": {
    p2p: "p2p",
    asked: "refused",
    publishing: "refused",
    published: "refused",
  },
};

for (const [name, event] of Object.entries(EVENTS)) {
  Deno.test(`sfu topology: ${name} in every phase`, () => {
    for (const phase of Object.keys(PHASE_MOVES) as SfuPhase[]) {
      const before = inPhase(phase);
      const frozen = structuredClone(before);
      const step = transition(before, event, config);
      const expected = PHASES[name][phase];
      assert.equal(step.ok ? step.state.phase : "refused", expected, phase);
      // Pure: the state it was given is untouched.
      assert.deepEqual(before, frozen);
      if (!step.ok) assert.match(step.why, /\w/);
    }
  });
}

Deno.test("sfu topology: a declined stream goes to the SFU again on a new announce, not on Janus's return", () => {
  const declined = inPhase("p2p");
  const up = transition(declined, EVENTS["sfu up"], config);
  assert.ok(up.ok);
  assert.equal(up.state.phase, "p2p");
  assert.deepEqual(up.effects, []);
});

/** Where each event takes a published stream's viewer, by its route. */
const ROUTES: Record<
  string,
  { event: TopologyEvent; to: Record<ViewerRoute, ViewerRoute | "refused"> }
> = {
  "playing the SFU's connection": {
    event: { kind: "playing", viewerId: V1.id, session: "777" },
    to: { p2p: "refused", held: "refused", switching: "sfu", sfu: "refused" },
  },
  "playing another connection": {
    event: { kind: "playing", viewerId: V1.id, session: "1" },
    to: {
      p2p: "refused",
      held: "refused",
      switching: "refused",
      sfu: "refused",
    },
  },
  // Its edge instance was lost: a new subscription, a switching one still
  // switching (its own connection plays on).
  "resubscribe": {
    event: { kind: "resubscribe", viewerId: V1.id },
    to: {
      p2p: "refused",
      held: "refused",
      switching: "switching",
      sfu: "sfu",
    },
  },
  "switch timeout": {
    event: { kind: "switch-timeout", viewerId: V1.id },
    to: { p2p: "refused", held: "refused", switching: "p2p", sfu: "refused" },
  },
  "Janus's offer": {
    event: { kind: "subscribed", viewerId: V1.id, attempt: 1, sdp: OFFER },
    to: {
      p2p: "refused",
      held: "refused",
      switching: "switching",
      sfu: "sfu",
    },
  },
  "Janus's offer, stale": {
    event: { kind: "subscribed", viewerId: V1.id, attempt: 0, sdp: OFFER },
    to: {
      p2p: "refused",
      held: "refused",
      switching: "refused",
      sfu: "refused",
    },
  },
};

for (const [name, { event, to }] of Object.entries(ROUTES)) {
  Deno.test(`sfu topology: ${name}, from every route`, () => {
    for (const route of Object.keys(to) as ViewerRoute[]) {
      const state = {
        ...inPhase("published"),
        viewers: {
          [V1.id]: viewer(route, {
            attempt: 1,
            // Only a viewer that keeps its connection switches.
            overlap: route === "switching",
            ...(route === "switching" || route === "sfu"
              ? { janusSession: "777" }
              : {}),
          }),
        },
      };
      const step = transition(state, event, config);
      assert.equal(
        step.ok ? step.state.viewers[V1.id].route : "refused",
        to[route],
        route,
      );
    }
  });
}

Deno.test("sfu topology: a switch ends in viewer-moved to the broadcaster; a timeout unsubscribes", () => {
  const switching = {
    ...inPhase("published"),
    viewers: {
      [V1.id]: viewer("switching", { attempt: 1, janusSession: "777" }),
    },
  };
  const played = transition(
    switching,
    ROUTES["playing the SFU's connection"].event,
    config,
  );
  assert.ok(played.ok);
  assert.deepEqual(played.effects, [
    { kind: "stop-timer", timer: "switch", viewerId: V1.id },
    { kind: "moved", viewerId: V1.id, overlap: false },
    {
      kind: "send",
      to: B,
      message: { type: "viewer-moved", streamId: "s", viewerId: V1.id },
    },
  ]);
  const timedOut = transition(
    switching,
    ROUTES["switch timeout"].event,
    config,
  );
  assert.ok(timedOut.ok);
  assert.deepEqual(timedOut.effects, [
    { kind: "fallback", why: "switch-timeout", viewerId: V1.id },
    { kind: "unsubscribe", viewerId: V1.id },
  ]);
});

Deno.test("sfu topology: asking with Janus down is a fallback, not a phase", () => {
  const step = transition(emptyTopology("s"), {
    ...EVENTS["announce again"],
    sfuUp: false,
  } as TopologyEvent, config);
  assert.ok(step.ok);
  assert.equal(step.state.phase, "p2p");
  assert.deepEqual(step.direct, [V1]);
  assert.deepEqual(
    step.effects.filter(({ kind }) => kind === "fallback"),
    [{ kind: "fallback", why: "janus-down" }],
  );
});

const seats = [V1, V2, { ...V2, id: "client_v3", session: "42" }];
const anEvent: fc.Arbitrary<TopologyEvent> = fc.oneof(
  fc.record({
    kind: fc.constant("announce" as const),
    broadcaster: fc.constantFrom(B, B2),
    viewers: fc.subarray(seats),
    sfuOnly: fc.boolean(),
    sfuUp: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("join" as const),
    viewer: fc.constantFrom(...seats),
    restart: fc.boolean(),
    overlap: fc.boolean(),
    sfuOnly: fc.boolean(),
    sfuUp: fc.boolean(),
    subscribed: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("depart" as const),
    clientId: fc.constantFrom(B.id, B2.id, ...seats.map(({ id }) => id)),
    role: fc.constantFrom("broadcaster" as const, "viewer" as const),
  }),
  fc.record({
    kind: fc.constant("offer" as const),
    from: fc.constantFrom(B.id, B2.id),
    sdp: fc.constant(OFFER),
  }),
  fc.record({
    kind: fc.constantFrom("published" as const),
    from: fc.constantFrom(B.id, B2.id),
    publication: fc.integer({ min: 0, max: 8 }),
    sdp: fc.constant("answer"),
  }),
  fc.record({
    kind: fc.constant("publish-failed" as const),
    from: fc.constantFrom(B.id, B2.id),
    publication: fc.integer({ min: 0, max: 8 }),
  }),
  fc.constantFrom(
    { kind: "offer-timeout" as const },
    { kind: "sfu-lost" as const, sfuUp: false },
    { kind: "sfu-lost" as const, sfuUp: true },
    { kind: "sfu-up" as const },
  ),
  fc.record({
    kind: fc.constantFrom(
      "subscribe-failed" as const,
      "resubscribe" as const,
    ),
    viewerId: fc.constantFrom(...seats.map(({ id }) => id)),
    attempt: fc.integer({ min: 0, max: 8 }),
  }).map((event) =>
    event.kind === "resubscribe"
      ? { kind: event.kind, viewerId: event.viewerId }
      : event
  ) as fc.Arbitrary<TopologyEvent>,
  fc.record({
    kind: fc.constant("subscribed" as const),
    viewerId: fc.constantFrom(...seats.map(({ id }) => id)),
    attempt: fc.integer({ min: 0, max: 8 }),
    sdp: fc.constant(OFFER),
  }),
  fc.record({
    kind: fc.constantFrom("playing" as const, "switch-timeout" as const),
    viewerId: fc.constantFrom(...seats.map(({ id }) => id)),
    session: fc.constantFrom("777", "1"),
  }).map((event) =>
    event.kind === "playing"
      ? event
      : { kind: event.kind, viewerId: event.viewerId }
  ) as fc.Arbitrary<TopologyEvent>,
);

Deno.test("sfu topology: any sequence keeps the invariants and stays plain JSON", () => {
  fc.assert(
    fc.property(
      fc.array(anEvent, { maxLength: 40 }),
      fc.integer({ min: 0, max: 2 }),
      (events, afterViewers) => {
        let state = emptyTopology("s");
        for (const event of events) {
          const step = transition(state, event, { afterViewers, directMax: 2 });
          if (!step.ok) continue;
          assert.ok(
            step.state.phase === state.phase ||
              PHASE_MOVES[state.phase].includes(step.state.phase) ||
              // A new announce restarts: back to p2p, asked at once.
              (event.kind === "announce" && step.state.phase === "asked"),
          );
          state = step.state;
          assert.deepEqual(JSON.parse(JSON.stringify(state)), state);
          for (const entry of Object.values(state.viewers)) {
            // Peer to peer, past directMax a viewer waits (held).
            if (state.phase === "p2p") {
              assert.ok(entry.route === "p2p" || entry.route === "held");
            }
            if (entry.route === "switching" || entry.route === "sfu") {
              assert.equal(state.phase, "published");
            }
          }
        }
      },
    ),
    { numRuns: 2_000 },
  );
});

Deno.test("sfu topology: peer to peer after all, the broadcaster connects to directMax viewers; the rest wait and take a leaver's place or the SFU's", () => {
  const cap = { afterViewers: 1, directMax: 2 };
  const seats = [V1, V2, { id: "client_v3", node: "n1" }];
  // Janus down at the announce: three viewers, two connected, one held.
  const announced = transition(emptyTopology("s"), {
    kind: "announce",
    broadcaster: B,
    viewers: seats,
    sfuOnly: false,
    sfuUp: false,
  }, cap);
  assert.ok(announced.ok);
  assert.deepEqual(announced.direct, [V1, V2]);
  assert.equal(announced.state.viewers.client_v3.route, "held");
  // A fourth joins while Janus is still down: held too, the broadcaster not told.
  const joined = transition(announced.state, {
    kind: "join",
    viewer: { id: "client_v4", node: "n1" },
    restart: false,
    overlap: false,
    sfuOnly: false,
    sfuUp: false,
    subscribed: false,
  }, cap);
  assert.ok(joined.ok);
  assert.equal(joined.taken, true);
  assert.equal(joined.state.viewers.client_v4.route, "held");
  assert.deepEqual(joined.effects.filter(({ kind }) => kind === "send"), []);
  // A direct viewer leaves: the first held one takes its place.
  const left = transition(joined.state, {
    kind: "depart",
    clientId: V1.id,
    role: "viewer",
  }, cap);
  assert.ok(left.ok);
  assert.equal(left.state.viewers.client_v3.route, "p2p");
  assert.deepEqual(left.effects, [
    { kind: "stop-timer", timer: "switch", viewerId: V1.id },
    { kind: "forget-layers", viewerId: V1.id },
    {
      kind: "send",
      to: B,
      message: {
        type: "viewer-joined",
        streamId: "s",
        viewerId: "client_v3",
        viewerCount: 3,
      },
    },
  ]);
  // Janus back: the stream is asked to publish; once it has, the held
  // viewer is subscribed like every other.
  const up = transition(left.state, { kind: "sfu-up" }, cap);
  assert.ok(up.ok);
  assert.equal(up.state.phase, "asked");
  const offered = transition(up.state, {
    kind: "offer",
    from: B.id,
    sdp: OFFER,
  }, cap);
  assert.ok(offered.ok);
  const published = transition(
    offered.state,
    {
      kind: "published",
      from: B.id,
      publication: offered.state.publication!,
      sdp: "answer",
    },
    cap,
  );
  assert.ok(published.ok);
  assert.deepEqual(
    published.effects.filter(({ kind }) => kind === "subscribe").map((
      effect,
    ) => (effect as { viewerId: string }).viewerId),
    [V2.id, "client_v3", "client_v4"],
  );
});

Deno.test("sfu topology: an SFU-only viewer that leaves a peer-to-peer stream frees no direct place", () => {
  const cap = { afterViewers: 1, directMax: 2 };
  const v3 = { id: "client_v3", node: "n1" };
  const W = { id: "client_whep", node: "n1" };
  const announced = transition(emptyTopology("s"), {
    kind: "announce",
    broadcaster: B,
    viewers: [V1, V2, v3],
    sfuOnly: false,
    sfuUp: false,
  }, cap);
  assert.ok(announced.ok);
  assert.equal(announced.state.viewers[v3.id].route, "held");
  // A WHEP player while Janus is down: told the SFU cannot serve it.
  const whep = transition(announced.state, {
    kind: "join",
    viewer: W,
    restart: false,
    overlap: false,
    sfuOnly: true,
    sfuUp: false,
    subscribed: false,
  }, cap);
  assert.ok(whep.ok);
  // It goes: the broadcaster still connects to two, the third waits.
  const left = transition(whep.state, {
    kind: "depart",
    clientId: W.id,
    role: "viewer",
  }, cap);
  assert.ok(left.ok);
  assert.equal(left.state.viewers[v3.id].route, "held");
  assert.deepEqual(left.effects.filter(({ kind }) => kind === "send"), []);
});

Deno.test("sfu topology: an SFU stream that falls back reconnects directMax of its viewers", () => {
  const cap = { afterViewers: 0, directMax: 1 };
  const state: StreamTopology = {
    ...inPhase("published"),
    viewers: {
      [V1.id]: viewer("sfu", { attempt: 1 }),
      [V2.id]: { ...viewer("sfu", { attempt: 2 }), seat: V2 },
    },
    attempts: 2,
  };
  const down = transition(state, EVENTS["sfu lost, none left"], cap);
  assert.ok(down.ok);
  assert.deepEqual(
    down.effects.filter(({ kind }) => kind === "send").map((effect) =>
      (effect as { message: { viewerId: string } }).message.viewerId
    ),
    [V1.id],
  );
  assert.equal(down.state.viewers[V2.id].route, "held");
});

Deno.test("sfu topology: its Janus instance lost, another linked: published again there, every SFU viewer subscribed anew, the broadcaster not told twice", () => {
  const state: StreamTopology = {
    ...inPhase("published"),
    viewers: {
      [V1.id]: viewer("sfu", { attempt: 2, janusSession: "777", told: true }),
      [V2.id]: {
        ...viewer("switching", { attempt: 3, janusSession: "777" }),
        seat: V2,
        overlap: true,
      },
    },
    attempts: 3,
  };
  const lost = transition(state, EVENTS["sfu lost, another up"], config);
  assert.ok(lost.ok);
  assert.equal(lost.state.phase, "asked");
  assert.equal(lost.state.viewers[V1.id].route, "held");
  // Still switching: its own connection plays on.
  assert.equal(lost.state.viewers[V2.id].route, "p2p");
  assert.deepEqual(lost.effects, [
    { kind: "republish" },
    { kind: "end" },
    { kind: "stop-timer", timer: "switch", viewerId: V1.id },
    { kind: "forget-layers", viewerId: V1.id },
    { kind: "stop-timer", timer: "switch", viewerId: V2.id },
    { kind: "forget-layers", viewerId: V2.id },
    { kind: "start-timer", timer: "offer" },
    { kind: "send", to: B, message: { type: "sfu-publish", streamId: "s" } },
  ]);
  // Janus's late answer for the old subscription is stale now.
  const late = transition(lost.state, {
    kind: "subscribed",
    viewerId: V1.id,
    attempt: 2,
    sdp: OFFER,
  }, config);
  assert.equal(late.ok, false);
  const offered = transition(
    lost.state,
    { kind: "offer", from: B.id, sdp: OFFER },
    config,
  );
  assert.ok(offered.ok);
  // V1 was counted before: no second viewer-joined.
  assert.deepEqual(offered.effects.filter(({ kind }) => kind === "send"), []);
  // The first publish's answer (from the lost instance) is stale.
  const stale = transition(offered.state, EVENTS["published"], config);
  assert.equal(stale.ok, false);
  const published = transition(offered.state, {
    kind: "published",
    from: B.id,
    publication: offered.state.publication!,
    sdp: "answer",
  }, config);
  assert.ok(published.ok);
  assert.equal(published.state.viewers[V1.id].route, "sfu");
  assert.equal(published.state.viewers[V2.id].route, "switching");
});

Deno.test("sfu topology: a failed subscription is asked once more; a second failure falls back for that viewer alone", () => {
  const state: StreamTopology = {
    ...inPhase("published"),
    viewers: { [V1.id]: viewer("sfu", { attempt: 1, told: true }) },
  };
  const failed = { kind: "subscribe-failed", viewerId: V1.id } as const;
  assert.equal(transition(state, { ...failed, attempt: 0 }, config).ok, false);
  const again = transition(state, { ...failed, attempt: 1 }, config);
  assert.ok(again.ok);
  const retry = again.state.viewers[V1.id];
  assert.equal(retry.route, "sfu");
  assert.equal(retry.retried, true);
  assert.deepEqual(again.effects.filter(({ kind }) => kind === "subscribe"), [
    { kind: "subscribe", viewerId: V1.id, attempt: retry.attempt },
  ]);
  const twice = transition(
    again.state,
    { ...failed, attempt: retry.attempt! },
    config,
  );
  assert.ok(twice.ok);
  assert.equal(twice.state.viewers[V1.id].route, "p2p");
  // Its broadcaster connects to it itself; the stream stays on the SFU.
  assert.equal(twice.state.phase, "published");
  assert.deepEqual(twice.effects, [
    { kind: "fallback", why: "subscribe-failed", viewerId: V1.id },
    { kind: "unsubscribe", viewerId: V1.id },
    {
      kind: "send",
      to: B,
      message: {
        type: "viewer-joined",
        streamId: "s",
        viewerId: V1.id,
        viewerCount: 1,
      },
    },
  ]);
  // A success in between makes the next failure a first one again.
  const offered = transition(again.state, {
    kind: "subscribed",
    viewerId: V1.id,
    attempt: retry.attempt!,
    sdp: OFFER,
  }, config);
  assert.ok(offered.ok);
  assert.equal(offered.state.viewers[V1.id].retried, undefined);
});

Deno.test("sfu topology: past directMax a stream goes to the SFU whatever SFU_AFTER_VIEWERS says", () => {
  const seats = [V1, V2, { id: "client_v3", node: "n1" }];
  const step = transition(emptyTopology("s"), {
    kind: "announce",
    broadcaster: B,
    viewers: seats,
    sfuOnly: false,
    sfuUp: true,
  }, { afterViewers: 60, directMax: 2 });
  assert.ok(step.ok);
  assert.equal(step.state.phase, "asked");
});

Deno.test("sfu topology: a new viewer of a published stream is subscribed even if Janus still lists a subscription under its id", () => {
  const step = transition(inPhase("published"), {
    kind: "join",
    viewer: { ...V2, session: "42" },
    restart: false,
    overlap: false,
    sfuOnly: false,
    sfuUp: true,
    subscribed: true,
  }, config);
  assert.ok(step.ok);
  assert.equal(step.state.viewers[V2.id].route, "sfu");
  assert.ok(step.effects.some(({ kind }) => kind === "subscribe"));
});

Deno.test("sfu topology: an encrypting broadcaster's publish asks for E2EE; announcing again with the flag changed publishes anew and drops the viewers that cannot decrypt", () => {
  const KEYED = { ...V2, e2ee: true as const };
  // Published in the clear, with a keyless viewer (V1) on the SFU.
  const clear = inPhase("published");
  assert.equal(clear.e2ee, undefined);
  const again = transition(clear, EVENTS["announce again"], config);
  assert.ok(again.ok);
  assert.deepEqual(again.effects, []);
  assert.deepEqual(again.direct, []);

  // The same broadcaster now encrypts: Janus's side ends, it is asked to
  // publish anew, and V1 (no e2ee) leaves the topology.
  const encrypted = transition(clear, {
    kind: "announce",
    broadcaster: B,
    viewers: [KEYED],
    sfuOnly: false,
    sfuUp: true,
    e2ee: true,
  }, config);
  assert.ok(encrypted.ok);
  assert.equal(encrypted.state.e2ee, true);
  assert.equal(encrypted.state.phase, "asked");
  assert.deepEqual(Object.keys(encrypted.state.viewers), [KEYED.id]);
  const kinds = encrypted.effects.map((effect) => effect.kind);
  assert.ok(kinds.includes("end"), kinds.join());
  assert.ok(
    encrypted.effects.some((effect) =>
      effect.kind === "forget-layers" && effect.viewerId === V1.id
    ),
  );
  assert.ok(
    encrypted.effects.some((effect) =>
      effect.kind === "send" && effect.message.type === "sfu-publish"
    ),
  );

  // Its offer: the publish carries the flag (the room is made for it).
  const offered = transition(
    encrypted.state,
    { kind: "offer", from: B.id, sdp: OFFER },
    config,
  );
  assert.ok(offered.ok);
  const publish = offered.effects.find((effect) => effect.kind === "publish");
  assert.deepEqual(publish, {
    kind: "publish",
    from: B.id,
    sdp: OFFER,
    publication: offered.state.publication,
    e2ee: true,
  });
  // Published and announced again, still encrypting: it carries on.
  const published = transition(offered.state, {
    kind: "published",
    from: B.id,
    publication: offered.state.publication!,
    sdp: OFFER,
  }, config);
  assert.ok(published.ok);
  const resumed = transition(published.state, {
    kind: "announce",
    broadcaster: B,
    viewers: [KEYED],
    sfuOnly: false,
    sfuUp: true,
    e2ee: true,
  }, config);
  assert.ok(resumed.ok);
  assert.deepEqual(resumed.effects, []);
  assert.equal(resumed.state.phase, "published");

  // In the clear again: published anew, without the flag.
  const cleared = transition(published.state, EVENTS["announce again"], config);
  assert.ok(cleared.ok);
  assert.equal(cleared.state.e2ee, undefined);
  assert.equal(cleared.state.phase, "asked");
  const republished = transition(
    cleared.state,
    { kind: "offer", from: B.id, sdp: OFFER },
    config,
  );
  assert.ok(republished.ok);
  assert.equal(
    republished.effects.some((effect) =>
      effect.kind === "publish" && "e2ee" in effect
    ),
    false,
  );
});
