/**
 * Property: the SFU state in a real Redis equals a simple model after every
 * step of broadcasts, joins, leaves, broadcasters moving to another node,
 * node deaths, Janus instances lost and back, and streams ending. Three
 * nodes, each an SfuRelay with the Redis snapshot store, over fake Janus
 * instances that keep sessions the way Janus does (a claim succeeds while
 * the session exists; an instance lost takes its sessions with it).
 * The model: which node drives each stream, its phase, its viewers, that
 * its Janus session is owned by that node, and how often it was published
 * (never again for a move or a node's death); no snapshot once a stream has
 * nothing in Janus. Two interleavings the real system has are made on
 * purpose: a viewer's frame reaching the new node before the broadcaster's
 * announce (it waits for the takeover the resume began), and the node a
 * broadcaster left still saving when it is told to let go.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { RedisSfuStore } from "../../server/cluster/redis-sfu-store.ts";
import { createLogger } from "../../server/observe/logger.ts";
import { Metrics } from "../../server/observe/metrics.ts";
import type { Peer } from "../../server/signaling/peer.ts";
import type { SfuSnapshot } from "../../server/sfu/handover.ts";
import type { Gateway } from "../../server/sfu/relay-options.ts";
import type { Outbound } from "../../server/signaling/postman.ts";
import type { PoolRecord } from "../../server/sfu/sfu-pool.ts";
import { SfuRelay } from "../../server/sfu/sfu-relay.ts";
import type { Jsep } from "../../server/sfu/video-room.ts";
import { RedisProcess } from "./support/redis-process.ts";

const PREFIX = "lwm:";
const NODES = ["n0", "n1", "n2"];
const INSTANCES = ["ws://a/", "ws://b/"];
const STREAMS = ["s1", "s2"];
const VIEWERS = ["v1", "v2", "v3"];
const SDP = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
  "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n";

/** Janus instances as every node sees them: sessions and who drives each. */
class FakeJanus {
  up = new Set(INSTANCES);
  /** Publishes by stream, over the whole run (none may be needless). */
  publishes = new Map<string, number>();
  /** Session id -> the instance it is on and the node whose link owns it. */
  sessions = new Map<number, { url: string; owner: string }>();
  #next = 1;

  open(url: string, owner: string): number {
    const id = this.#next++;
    this.sessions.set(id, { url, owner });
    return id;
  }

  lose(url: string): void {
    this.up.delete(url);
    for (const [id, session] of this.sessions) {
      if (session.url === url) this.sessions.delete(id);
    }
  }
}

/** One node's view of the instances: what the relay needs of SfuPool. */
class FakeGateway implements Gateway {
  readonly events = new EventTarget();
  #janus: FakeJanus;
  #node: string;
  #streams = new Map<string, { url: string; session: number }>();

  constructor(janus: FakeJanus, node: string) {
    this.#janus = janus;
    this.#node = node;
  }

  get up(): boolean {
    return this.#janus.up.size > 0;
  }

  publish(streamId: string): Promise<Jsep> {
    const url = INSTANCES.find((u) => this.#janus.up.has(u));
    if (!url) return Promise.reject(new Error("no instance"));
    const publishes = this.#janus.publishes;
    publishes.set(streamId, (publishes.get(streamId) ?? 0) + 1);
    const old = this.#streams.get(streamId);
    if (old) this.#janus.sessions.delete(old.session);
    this.#streams.set(streamId, {
      url,
      session: this.#janus.open(url, this.#node),
    });
    this.#changed(streamId);
    return Promise.resolve({ type: "answer", sdp: SDP });
  }
  restartPublisher(streamId: string): Promise<Jsep> {
    return this.#streams.has(streamId)
      ? Promise.resolve({ type: "answer", sdp: SDP })
      : Promise.reject(new Error("no publisher"));
  }
  subscribe(): Promise<Jsep> {
    return Promise.resolve({ type: "offer", sdp: SDP });
  }
  answer(): Promise<void> {
    return Promise.resolve();
  }
  trickle(): Promise<void> {
    return Promise.resolve();
  }
  isSubscribed(): boolean {
    return true;
  }
  unsubscribe(): Promise<void> {
    return Promise.resolve();
  }
  setLayer(): Promise<void> {
    return Promise.resolve();
  }
  requestKeyframe(): Promise<void> {
    return Promise.resolve();
  }
  end(streamId: string): Promise<void> {
    const stream = this.#streams.get(streamId);
    this.#streams.delete(streamId);
    if (stream) this.#janus.sessions.delete(stream.session);
    this.#changed(streamId);
    return Promise.resolve();
  }
  describe(streamId: string): Promise<PoolRecord | undefined> {
    const stream = this.#streams.get(streamId);
    return Promise.resolve(
      stream && {
        origin: stream.url,
        edges: [],
        viewers: {},
        parts: {
          [stream.url]: { session: stream.session, room: 1, subscribers: {} },
        },
      },
    );
  }
  adopt(streamId: string, record: PoolRecord): Promise<void> {
    const { session } = record.parts[record.origin];
    const held = this.#janus.sessions.get(session);
    if (!held) return Promise.reject(new Error("458 no such session"));
    held.owner = this.#node;
    this.#streams.set(streamId, { url: record.origin, session });
    return Promise.resolve();
  }
  release(streamId: string): Promise<void> {
    this.#streams.delete(streamId);
    return Promise.resolve();
  }
  discard(): Promise<void> {
    return Promise.resolve();
  }
  /** Its state of `streamId` changed (a handle came or went). */
  poke(streamId: string): void {
    this.#changed(streamId);
  }
  /** Its link to `url` closed: the streams published there are named. */
  lose(url: string): void {
    const streams = [...this.#streams].filter(([, s]) => s.url === url)
      .map(([id]) => id);
    for (const id of streams) this.#streams.delete(id);
    this.events.dispatchEvent(
      new CustomEvent("lost", { detail: { url, streams, up: this.up } }),
    );
  }
  #changed(streamId: string): void {
    this.events.dispatchEvent(new CustomEvent("changed", { detail: streamId }));
  }
}

type Op =
  | { kind: "broadcast"; stream: string; node: number }
  | { kind: "join"; viewer: string; stream: string; node: number }
  | { kind: "leave"; viewer: string }
  | { kind: "end"; stream: string }
  | { kind: "kill"; node: number }
  | { kind: "lose-instance"; instance: number }
  | { kind: "instance-back"; instance: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("broadcast" as const),
      stream: fc.constantFrom(...STREAMS),
      node: fc.nat(NODES.length - 1),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("join" as const),
      viewer: fc.constantFrom(...VIEWERS),
      stream: fc.constantFrom(...STREAMS),
      node: fc.nat(NODES.length - 1),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("leave" as const),
      viewer: fc.constantFrom(...VIEWERS),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("end" as const),
      stream: fc.constantFrom(...STREAMS),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("kill" as const),
      node: fc.nat(NODES.length - 1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constantFrom("lose-instance" as const, "instance-back" as const),
      instance: fc.nat(INSTANCES.length - 1),
    }),
  },
);

interface Node {
  id: string;
  relay: SfuRelay;
  gateway: FakeGateway;
}

interface ModelStream {
  /** Index of the node its broadcaster is on (and that drives it). */
  driver: number;
  /** Published on an instance (false: peer to peer, no Janus left). */
  published: boolean;
  /** The instance it is published on. */
  instance?: string;
}

interface World {
  janus: FakeJanus;
  nodes: (Node | undefined)[];
  /** Every node made (dead ones too), to close them all at the end. */
  made: Node[];
  model: Map<string, ModelStream>;
  /** Viewer -> its stream. */
  viewers: Map<string, string>;
  /** The publishes each stream needed (the model's). */
  publishes: Map<string, number>;
  redis: RedisProcess;
}

function makeNode(world: World, index: number): Node {
  const id = NODES[index];
  const gateway = new FakeGateway(world.janus, id);
  const relay = new SfuRelay({
    gateway,
    logger: createLogger("silent"),
    metrics: new Metrics(),
    post: () => {},
    afterViewers: 0,
    directMax: 50,
    offerTimeoutMs: 600_000,
    switchTimeoutMs: 600_000,
    store: new RedisSfuStore(world.redis.inspector, PREFIX, id),
  });
  const node = { id, relay, gateway };
  world.made.push(node);
  return node;
}

const broadcasterOf = (stream: string) => `b-${stream}`;
const peer = (id: string) => ({ id, send: () => {} } as unknown as Peer);

/** Lets the fakes' resolved promises run, then every save finish. */
async function settle(world: World): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  for (const node of world.made) await node.relay.settled();
  await new Promise((resolve) => setTimeout(resolve, 0));
  for (const node of world.made) await node.relay.settled();
}

/**
 * The broadcaster of `stream` (re)announces on node `index` and publishes.
 * `racing`: its resume there begins the takeover, and a viewer's frame
 * arrives before its announce (it waits for the takeover, as
 * sfu-inbound.ts has it).
 */
async function announce(
  world: World,
  stream: string,
  index: number,
  racing = false,
) {
  const node = world.nodes[index]!;
  const id = broadcasterOf(stream);
  const viewers = [...world.viewers].filter(([, s]) => s === stream)
    .map(([viewer]) => ({ id: viewer, node: node.id }));
  const adopting = node.relay.adopt(stream, id);
  const racers = (racing ? viewers.slice(0, 1) : []).map(async (seat) => {
    await node.relay.whenReady(stream, id);
    node.relay.joined(stream, seat);
  });
  await adopting;
  await Promise.all(racers);
  node.relay.announced(stream, { id, node: node.id }, viewers);
  await settle(world);
  if (node.relay.phaseOf(stream) === "asked") {
    await node.relay.offer(peer(id), {
      type: "sfu-offer",
      streamId: stream,
      offer: { type: "offer", sdp: SDP },
    }).published;
  }
}

/** Where a stream is published now (the fake's rule: the first up). */
function firstUp(world: World): string | undefined {
  return INSTANCES.find((url) => world.janus.up.has(url));
}

/** The model's count of the publishes `streamId` needed. */
function count(world: World, streamId: string): void {
  world.publishes.set(streamId, (world.publishes.get(streamId) ?? 0) + 1);
}

async function apply(world: World, op: Op): Promise<void> {
  const { model } = world;
  const alive = (index: number) => {
    for (let i = 0; i < NODES.length; i++) {
      const at = (index + i) % NODES.length;
      if (world.nodes[at]) return at;
    }
    throw new Error("no node alive");
  };
  switch (op.kind) {
    case "broadcast": {
      const at = alive(op.node);
      const before = model.get(op.stream);
      // Moved: the node it left is told (an eviction) and lets go, with
      // saves of its own still running and due.
      if (before && before.driver !== at) {
        const left = world.nodes[before.driver]!;
        left.gateway.poke(op.stream);
        left.gateway.poke(op.stream);
        left.relay.release(op.stream);
        // Its saves run out before the broadcaster's announce there.
        await settle(world);
      }
      await announce(world, op.stream, at, before !== undefined);
      const published = world.janus.up.size > 0;
      const fresh = published && !before?.published;
      if (fresh) count(world, op.stream);
      model.set(op.stream, {
        driver: at,
        published,
        instance: fresh ? firstUp(world) : before?.instance,
      });
      return;
    }
    case "join": {
      if (world.viewers.has(op.viewer)) return;
      world.viewers.set(op.viewer, op.stream);
      const stream = model.get(op.stream);
      if (!stream) return;
      world.nodes[stream.driver]!.relay.joined(op.stream, {
        id: op.viewer,
        node: NODES[alive(op.node)],
      });
      return;
    }
    case "leave": {
      const streamId = world.viewers.get(op.viewer);
      if (!streamId) return;
      world.viewers.delete(op.viewer);
      const stream = model.get(streamId);
      if (stream) {
        world.nodes[stream.driver]!.relay.viewerLeft(streamId, op.viewer);
      }
      return;
    }
    case "end": {
      const stream = model.get(op.stream);
      if (!stream) return;
      model.delete(op.stream);
      const node = world.nodes[stream.driver]!;
      node.relay.departed({
        clientId: broadcasterOf(op.stream),
        place: { streamId: op.stream, role: "broadcaster", node: node.id },
        viewers: [],
        viewerCount: 0,
      });
      return;
    }
    case "kill": {
      const dead = world.nodes[op.node];
      if (!dead || world.nodes.filter(Boolean).length === 1) return;
      world.nodes[op.node] = undefined;
      dead.relay.close();
      // Its broadcasters resume on another node, which takes them over.
      for (const [streamId, stream] of model) {
        if (stream.driver !== op.node) continue;
        const at = alive(op.node + 1);
        await announce(world, streamId, at, true);
        model.set(streamId, { ...stream, driver: at });
      }
      // It comes back empty, as a restarted process does.
      world.nodes[op.node] = makeNode(world, op.node);
      return;
    }
    case "lose-instance": {
      const url = INSTANCES[op.instance];
      if (!world.janus.up.has(url)) return;
      world.janus.lose(url);
      for (const node of world.nodes) node?.gateway.lose(url);
      await settle(world);
      // Published again elsewhere (the broadcaster answers the new ask), or
      // peer to peer when no instance is left.
      for (const [streamId, stream] of model) {
        const relay = world.nodes[stream.driver]!.relay;
        if (relay.phaseOf(streamId) === "asked") {
          await relay.offer(peer(broadcasterOf(streamId)), {
            type: "sfu-offer",
            streamId,
            offer: { type: "offer", sdp: SDP },
          }).published;
        }
        if (stream.instance !== url) continue;
        const again = stream.published && world.janus.up.size > 0;
        if (again) count(world, streamId);
        stream.published = again;
        stream.instance = again ? firstUp(world) : undefined;
      }
      return;
    }
    case "instance-back":
      world.janus.up.add(INSTANCES[op.instance]);
      return;
  }
}

async function check(world: World, ops: Op[]): Promise<void> {
  await settle(world);
  const where = () => JSON.stringify(ops);
  for (const streamId of STREAMS) {
    // Published exactly as often as needed: a move or a node's death never
    // publishes again.
    assert.equal(
      world.janus.publishes.get(streamId) ?? 0,
      world.publishes.get(streamId) ?? 0,
      `publishes of ${streamId} after ${where()}`,
    );
    const raw = await world.redis.inspector.hgetall(`${PREFIX}f:${streamId}`);
    const stream = world.model.get(streamId);
    if (!stream?.published) {
      assert.equal(
        raw.snap,
        undefined,
        `no snapshot of ${streamId} after ${where()}`,
      );
      continue;
    }
    assert.equal(raw.node, NODES[stream.driver], `driver after ${where()}`);
    const snap = JSON.parse(raw.snap) as SfuSnapshot;
    assert.equal(snap.topology.phase, "published", where());
    assert.equal(
      snap.topology.broadcaster?.node,
      NODES[stream.driver],
      where(),
    );
    const viewers = [...world.viewers].filter(([, s]) => s === streamId)
      .map(([id]) => id).sort();
    assert.deepEqual(
      Object.keys(snap.topology.viewers).sort(),
      viewers,
      where(),
    );
    // Its Janus session exists and the driving node owns it.
    const part = snap.pool!.parts[snap.pool!.origin];
    assert.equal(
      world.janus.sessions.get(part.session)?.owner,
      NODES[stream.driver],
      `session owner after ${where()}`,
    );
  }
}

/** A world with no node yet and nothing in it. */
function emptyWorld(redis: RedisProcess): World {
  return {
    janus: new FakeJanus(),
    nodes: [],
    made: [],
    model: new Map(),
    viewers: new Map(),
    publishes: new Map(),
    redis,
  };
}

Deno.test("sfu state in Redis equals the model after every step (nodes, moves, deaths, instances)", async () => {
  await using redis = await RedisProcess.start();
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
      await redis.inspector.flushall();
      const world = emptyWorld(redis);
      world.nodes = NODES.map((_, i) => makeNode(world, i));
      try {
        for (let i = 0; i < ops.length; i++) {
          await apply(world, ops[i]);
          await check(world, ops.slice(0, i + 1));
        }
      } finally {
        for (const node of world.made) node.relay.close();
      }
    }),
    { numRuns: 150, seed: 22_2026 },
  );
});

Deno.test("sfu takeover: the node a broadcaster resumes on chooses the layers from then on, every layer asked for again (the node that went may have paused some)", async () => {
  await using redis = await RedisProcess.start();
  const world = emptyWorld(redis);
  world.nodes = NODES.slice(0, 2).map((_, i) => makeNode(world, i));
  // What the router sends of a step's messages: the layers asked for.
  const told = (out: readonly Outbound[]) =>
    out.flatMap(({ to, message }) =>
      message.type === "sfu-layers"
        ? [{ node: to.node, rids: message.rids }]
        : []
    );
  const [n0, n1] = world.nodes as Node[];
  const id = broadcasterOf("s1");
  try {
    n0.relay.announced("s1", { id, node: "n0" }, []);
    await settle(world);
    await n0.relay.offer(peer(id), {
      type: "sfu-offer",
      streamId: "s1",
      offer: { type: "offer", sdp: SDP + "a=simulcast:send h;m;l\r\n" },
    }).published;
    await settle(world);
    assert.equal(n0.relay.phaseOf("s1"), "published");
    // Announced again on n0 (a reconnection): its choice stays, told again
    // (a pause sent to its old socket may have been lost).
    assert.deepEqual(
      told(n0.relay.announced("s1", { id, node: "n0" }, []).out),
      [{ node: "n0", rids: ["l", "m", "h"] }],
    );
    // Resumed on n1: it takes the stream over and asks for every layer.
    await n1.relay.adopt("s1", id);
    const { out } = n1.relay.announced("s1", { id, node: "n1" }, []);
    assert.equal(n1.relay.phaseOf("s1"), "published");
    assert.deepEqual(told(out), [{ node: "n1", rids: ["l", "m", "h"] }]);
    // Announced again there: n1's choice, unchanged.
    assert.deepEqual(
      told(n1.relay.announced("s1", { id, node: "n1" }, []).out),
      [{ node: "n1", rids: ["l", "m", "h"] }],
    );
  } finally {
    for (const node of world.made) node.relay.close();
  }
});
