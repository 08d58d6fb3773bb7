/**
 * Several Janus instances as one SFU (server/sfu/sfu-pool.ts), with fake
 * gateways: a new stream goes to the least-loaded linked instance and
 * stays; an instance lost names its streams and whether another is up.
 */
import assert from "node:assert/strict";
import { createLogger } from "../../server/observe/logger.ts";
import type { SfuGateway } from "../../server/sfu/sfu-gateway.ts";
import { type LostEvent, SfuPool } from "../../server/sfu/sfu-pool.ts";
import type { Jsep } from "../../server/sfu/video-room.ts";

class FakeInstance {
  readonly events = new EventTarget();
  up = true;
  load = 0;
  calls: string[] = [];
  constructor(readonly url: string) {}
  start() {}
  publish(streamId: string): Promise<Jsep> {
    this.calls.push(`publish ${streamId}`);
    this.load++;
    return Promise.resolve({ type: "answer", sdp: this.url });
  }
  subscribe(streamId: string, viewerId: string): Promise<Jsep> {
    this.calls.push(`subscribe ${streamId} ${viewerId}`);
    return Promise.resolve({ type: "offer", sdp: this.url });
  }
  end(streamId: string): Promise<void> {
    this.calls.push(`end ${streamId}`);
    return Promise.resolve();
  }
  unsubscribe(streamId: string, viewerId: string): Promise<void> {
    this.calls.push(`unsubscribe ${streamId} ${viewerId}`);
    return Promise.resolve();
  }
  isSubscribed(): boolean {
    return true;
  }
  publisherStreams(): Promise<unknown[]> {
    return Promise.resolve([{ type: "video", mindex: 0, mid: "0" }]);
  }
  /** When set, hostRemote waits for it (a slow edge). */
  hosting?: Promise<void>;
  async hostRemote(streamId: string) {
    this.calls.push(`host ${streamId}`);
    this.load++;
    await this.hosting;
    return { host: "127.0.0.1", port: 10000, rtcpPort: 10001 };
  }
  forward(streamId: string, remoteId: string, to: { port: number }) {
    this.calls.push(`forward ${streamId} to ${remoteId} :${to.port}`);
    return Promise.resolve();
  }
  /** When set, unforward waits for it (a slow origin). */
  unforwarding?: Promise<void>;
  async unforward(streamId: string, remoteId: string) {
    this.calls.push(`unforward ${streamId} to ${remoteId}`);
    await this.unforwarding;
  }
  /** Its link closed: the streams it had go in `down`'s detail. */
  lose(streams: string[]) {
    this.up = false;
    this.events.dispatchEvent(new CustomEvent("down", { detail: streams }));
  }
}

function setUp() {
  const instances = ["ws://a/", "ws://b/", "ws://c/"].map((url) =>
    new FakeInstance(url)
  );
  const pool = new SfuPool(
    instances.map(({ url }) => url),
    createLogger("silent"),
    {
      capPerInstance: 2,
      make: (url) =>
        instances.find((instance) =>
          instance.url === url
        ) as unknown as SfuGateway,
    },
  );
  const lost: LostEvent[] = [];
  pool.events.addEventListener(
    "lost",
    (event) => lost.push((event as CustomEvent<LostEvent>).detail),
  );
  return { instances, pool, lost };
}

const OFFER: Jsep = { type: "offer", sdp: "v=0" };

Deno.test("sfu pool: a new stream goes to the least-loaded linked instance and stays there", async () => {
  const { instances: [a, b, c], pool } = setUp();
  a.load = 5;
  b.load = 2;
  c.up = false;
  assert.equal((await pool.publish("s1", OFFER)).sdp, "ws://b/");
  assert.equal(pool.instanceOf("s1"), "ws://b/");
  // b is now at 3, still under a's 5: the next stream goes there too.
  assert.equal((await pool.publish("s2", OFFER)).sdp, "ws://b/");
  b.load = 9;
  // A stream stays on its instance, whatever the others' load.
  assert.equal((await pool.publish("s1", OFFER)).sdp, "ws://b/");
  assert.equal((await pool.subscribe("s1", "v1")).sdp, "ws://b/");
  assert.equal((await pool.publish("s3", OFFER)).sdp, "ws://a/");
  assert.equal(pool.linked, 2);
  await pool.end("s1");
  assert.deepEqual(b.calls.slice(-1), ["end s1"]);
  assert.equal(pool.instanceOf("s1"), undefined);
});

Deno.test("sfu pool: an instance lost names its streams, says whether another is up, and they go elsewhere", async () => {
  const { instances: [a, b, c], pool, lost } = setUp();
  c.up = false;
  await pool.publish("s1", OFFER);
  b.load = 1;
  await pool.publish("s2", OFFER);
  assert.equal(pool.instanceOf("s1"), "ws://a/");
  assert.equal(pool.instanceOf("s2"), "ws://a/");
  // Its `down` names every stream it had; the pool's `lost`, those it put there.
  a.lose(["s1", "s2", "not-ours"]);
  assert.deepEqual(lost, [{ url: "ws://a/", streams: ["s1", "s2"], up: true }]);
  assert.equal(pool.instanceOf("s1"), undefined);
  await assert.rejects(pool.subscribe("s1", "v1"), /no linked Janus/);
  assert.equal((await pool.publish("s1", OFFER)).sdp, "ws://b/");
  b.lose(["s1"]);
  assert.deepEqual(lost[1], { url: "ws://b/", streams: ["s1"], up: false });
  assert.equal(pool.up, false);
  await assert.rejects(
    pool.publish("s1", OFFER),
    /No Janus instance is linked/,
  );
});

Deno.test("sfu pool: past SFU_VIEWERS_PER_INSTANCE a stream cascades to the least-loaded other instance; an edge without viewers is torn down", async () => {
  const { instances: [a, b, c], pool } = setUp();
  b.load = 4;
  c.load = 1;
  await pool.publish("s", OFFER);
  assert.equal(pool.instanceOf("s"), "ws://a/");
  const offers = await Promise.all(
    ["v1", "v2", "v3", "v4", "v5"].map((v) => pool.subscribe("s", v)),
  );
  // Two on the origin (the cap), then c (less loaded than b), then b.
  assert.deepEqual(offers.map(({ sdp }) => sdp), [
    "ws://a/",
    "ws://a/",
    "ws://c/",
    "ws://c/",
    "ws://b/",
  ]);
  assert.deepEqual(
    Object.fromEntries(pool.spread("s")),
    { "ws://a/": 2, "ws://c/": 2, "ws://b/": 1 },
  );
  // One forward per edge, from the origin.
  assert.deepEqual(a.calls.filter((call) => call.startsWith("forward")), [
    "forward s to s@ws://c/ :10000",
    "forward s to s@ws://b/ :10000",
  ]);
  await pool.unsubscribe("s", "v5");
  assert.deepEqual(b.calls.slice(-2), ["unsubscribe s v5", "end s"]);
  assert.ok(a.calls.includes("unforward s to s@ws://b/"));
  // A viewer on an edge still: c stays.
  await pool.unsubscribe("s", "v3");
  assert.ok(!c.calls.includes("end s"));
  await pool.end("s");
  assert.ok(c.calls.includes("end s"));
  assert.ok(a.calls.includes("end s"));
});

Deno.test("sfu pool: an edge lost names its viewers (to subscribe again); the origin lost ends its edges", async () => {
  const { instances: [a, b], pool } = setUp();
  const edgeLost: unknown[] = [];
  pool.events.addEventListener(
    "edge-lost",
    (event) => edgeLost.push((event as CustomEvent).detail),
  );
  await pool.publish("s", OFFER);
  for (const v of ["v1", "v2", "v3"]) await pool.subscribe("s", v);
  assert.equal(pool.spread("s").get("ws://b/"), 1);
  b.lose(["s"]);
  assert.deepEqual(edgeLost, [{
    url: "ws://b/",
    streamId: "s",
    viewers: ["v3"],
  }]);
  assert.ok(a.calls.includes("unforward s to s@ws://b/"));
  // Subscribed again: the origin is full, b is gone, c takes it.
  assert.equal((await pool.subscribe("s", "v3")).sdp, "ws://c/");
  a.lose(["s"]);
  assert.ok(pool.instanceOf("s") === undefined);
  assert.equal(pool.spread("s").size, 0);
});

Deno.test("sfu pool: a stream that ends while its cascade is being set up leaves nothing on the edge", async () => {
  const { instances: [a, b], pool } = setUp();
  await pool.publish("s", OFFER);
  // The edge is slow to make; the second viewer fills the origin's share,
  // so the cascade starts then (made ahead), the third waits for it.
  const slow = Promise.withResolvers<void>();
  b.hosting = slow.promise;
  await pool.subscribe("s", "v1");
  await pool.subscribe("s", "v2");
  const third = pool.subscribe("s", "v3");
  await pool.end("s");
  slow.resolve();
  // Its subscription falls back to the origin, which has ended too.
  await third.catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.ok(!a.calls.some((call) => call.startsWith("forward")));
  assert.equal(b.calls.filter((call) => call === "end s").length >= 1, true);
  assert.equal(b.calls.at(-1), "end s");
});

Deno.test("sfu pool: a viewer that leaves while its edge is being set up is subscribed nowhere", async () => {
  const { instances: [a, b], pool } = setUp();
  await pool.publish("s", OFFER);
  // The edge is slow to make; the second viewer fills the origin's share,
  // so the cascade starts then (made ahead), the third waits for it.
  const slow = Promise.withResolvers<void>();
  b.hosting = slow.promise;
  await pool.subscribe("s", "v1");
  await pool.subscribe("s", "v2");
  const third = pool.subscribe("s", "v3");
  await pool.unsubscribe("s", "v3");
  slow.resolve();
  await assert.rejects(third, /placed anew/);
  // Not carried by the origin instead: it is gone.
  assert.ok(!a.calls.includes("subscribe s v3"));
  assert.ok(!b.calls.includes("subscribe s v3"));
  assert.deepEqual(Object.fromEntries(pool.spread("s")), { "ws://a/": 2 });
});

Deno.test("sfu pool: an edge being torn down is not picked again until it is", async () => {
  const { instances: [a, b, c], pool } = setUp();
  c.up = false;
  await pool.publish("s", OFFER);
  for (const v of ["v1", "v2", "v3"]) await pool.subscribe("s", v);
  assert.equal(pool.spread("s").get("ws://b/"), 1);
  const slow = Promise.withResolvers<void>();
  a.unforwarding = slow.promise;
  // v3 leaves b, which is torn down: the origin is still unforwarding.
  const left = pool.unsubscribe("s", "v3");
  await new Promise((resolve) => setTimeout(resolve, 0));
  // Meanwhile the origin carries a new viewer past its cap.
  assert.equal((await pool.subscribe("s", "v4")).sdp, "ws://a/");
  slow.resolve();
  await left;
  assert.deepEqual(b.calls.filter((call) => call.startsWith("host")), [
    "host s",
  ]);
  assert.equal(b.calls.at(-1), "end s");
  // Torn down: the next viewer past the cap cascades to b anew.
  a.unforwarding = undefined;
  assert.equal((await pool.subscribe("s", "v5")).sdp, "ws://b/");
  assert.deepEqual(b.calls.slice(-3), ["end s", "host s", "subscribe s v5"]);
});

Deno.test("sfu pool: the next edge is made once an instance is 80% full, so no viewer waits for a cascade; it goes when the audience shrinks away", async () => {
  const { instances: [a, b, c], pool } = setUp();
  await pool.publish("s", OFFER);
  await pool.subscribe("s", "v1");
  assert.ok(!b.calls.includes("host s"));
  // The second fills the origin's share (2): an edge is made already.
  await pool.subscribe("s", "v2");
  assert.ok(b.calls.includes("host s"));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.ok(a.calls.includes("forward s to s@ws://b/ :10000"));
  // The origin back at 1 of 2 is still past 80%: the edge made ahead stays.
  await pool.unsubscribe("s", "v2");
  assert.ok(!b.calls.includes("end s"));
  // The third goes to the origin, the fourth to the edge made ahead.
  await pool.subscribe("s", "v3");
  assert.equal((await pool.subscribe("s", "v4")).sdp, "ws://b/");
  assert.equal(a.calls.filter((call) => call.startsWith("forward")).length, 1);
  // The edge's viewer leaves while the origin is full: the edge goes (the
  // origin full, another is made ahead on the next join).
  await pool.unsubscribe("s", "v4");
  assert.equal(b.calls.at(-1), "end s");
  // Made ahead again when the origin fills (on c, b being less loaded no
  // more), kept while it stays past 80%, gone once it falls below.
  await pool.unsubscribe("s", "v3");
  await pool.subscribe("s", "v3");
  assert.ok(c.calls.includes("host s"));
  await pool.unsubscribe("s", "v3");
  assert.ok(!c.calls.includes("end s"));
  await pool.unsubscribe("s", "v1");
  assert.equal(c.calls.at(-1), "end s");
});

Deno.test("sfu pool: other nodes' load counts: a new stream goes where the cluster as a whole is least loaded", async () => {
  const { instances: [a, b, c], pool } = setUp();
  c.up = false;
  a.load = 1;
  b.load = 0;
  // This node alone would pick b; the others drive 5 on b, 1 on a.
  pool.setShared(new Map([["ws://b/", 5], ["ws://a/", 1]]));
  assert.equal((await pool.publish("s1", OFFER)).sdp, "ws://a/");
  assert.deepEqual(
    pool.localLoads(),
    new Map([["ws://a/", 2], ["ws://b/", 0], ["ws://c/", 0]]),
  );
  pool.setShared(new Map());
  assert.equal((await pool.publish("s2", OFFER)).sdp, "ws://b/");
});
