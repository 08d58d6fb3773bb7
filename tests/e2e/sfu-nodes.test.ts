/**
 * The SFU with several signaling nodes (issue 22): Redis, two nodes behind
 * nginx, two Janus instances, in the fault lab (Janus gathers no candidates
 * on loopback; needs root). The broadcaster is on node 0, its viewers on
 * node 1: the stream goes through Janus all the same. Node 0 is killed: the
 * broadcaster resumes on node 1, which claims the stream's Janus session
 * and drives the same handles: nothing is published again and the viewers'
 * video goes on. When the stream ends nothing is left in Redis or Janus.
 */
import assert from "node:assert/strict";
import { broadcasterPage, crowdPage } from "./support/lab-pages.ts";
import { labTest } from "./support/lab-test.ts";
import { recovery } from "./support/recovery-metrics.ts";

labTest(
  "sfu nodes: viewers on another node than the broadcaster watch through Janus; the broadcaster's node killed, the other takes the stream over without a new publish or a frame gap",
  {
    browsers: ["chromium", "chromium", "firefox"],
    janus: true,
    janusInstances: 2,
    nodes: 2,
    viewersOnNode: 1,
    env: {
      SFU_AFTER_VIEWERS: "0",
      LOG_LEVEL: "debug",
      // The broadcaster's end is announced at once when its browser dies.
      RECONNECT_GRACE_MS: "0",
    },
  },
  async (lab) => {
    await lab.openPages();
    await lab.untilPlaying(["v1", "v2"]);
    const [node0, node1] = lab.nodeLogs;
    const has = (log: string[], event: string) =>
      log.filter((line) => line.includes(`"${event}"`)).length;
    // Driven on the broadcaster's node: it published and subscribed both.
    assert.equal(has(node0, "sfu-published"), 1, node0.join("\n"));
    assert.equal(has(node0, "sfu-subscribing"), 2);
    assert.equal(has(node1, "sfu-published"), 0);
    const sessionsBefore = (await Promise.all(
      lab.januses.map((janus) => janus.sessions()),
    )).flat();
    // The broadcaster's one connection is its uplink to Janus.
    assert.equal(lab.events("b").filter((e) => e.kind === "pc").length, 1);

    const killedAt = Date.now();
    await lab.stopSignaling("SIGKILL", 0);
    await lab.until(
      () => `node 1 to take the stream over: ${node1.slice(-10).join("\n")}`,
      () => has(node1, "sfu-taken-over") > 0 || undefined,
    );
    const tookMs = Date.now() - killedAt;
    // Steady video after the takeover: every gap since the kill is known.
    const settled = Date.now();
    const after = await lab.until(
      () => `steady video after the takeover`,
      () => {
        const each = ["v1", "v2"].map((name) =>
          recovery(lab.events(name), killedAt, settled)
        );
        return each.every((r) => r !== undefined) ? each : undefined;
      },
    );
    for (const [i, { longestGapMs, connectionsBuilt }] of after.entries()) {
      console.log(
        `v${
          i + 1
        }: longest frame gap ${longestGapMs} ms across the kill (taken over in ${tookMs} ms)`,
      );
      // The bench measures it precisely (target 1 s); here, loosely.
      assert.ok(longestGapMs < 1_500, `v${i + 1}: ${longestGapMs} ms`);
      assert.equal(connectionsBuilt, 0, `v${i + 1} built no connection`);
    }
    assert.equal(has(node1, "sfu-published"), 0, "nothing published again");
    assert.equal(has(node1, "sfu-not-adopted"), 0);
    assert.equal(lab.events("b").filter((e) => e.kind === "pc").length, 1);
    // The same Janus sessions: claimed, not made anew (node 1's own
    // control sessions aside).
    const sessionsAfter = (await Promise.all(
      lab.januses.map((janus) => janus.sessions()),
    )).flat();
    const stream = sessionsBefore.filter((id) => sessionsAfter.includes(id));
    assert.ok(stream.length >= 1, `${sessionsBefore} / ${sessionsAfter}`);

    // The broadcaster goes: the stream ends on node 1, nothing is left.
    await lab.closeBrowser(0);
    await lab.until(
      () => `the stream to end: ${node1.slice(-10).join("\n")}`,
      () => has(node1, "sfu-ended") > 0 || undefined,
      30_000,
    );
    for (const janus of lab.januses) {
      assert.deepEqual(await janus.rooms(), []);
    }
    await lab.until(
      () => `the stream's SFU state to go from Redis`,
      () => has(node1, "sfu-state-removed") > 0 || undefined,
    );
    // No snapshot; the driving node's name stays until its TTL runs out
    // (a node that missed losing the stream is refused all the same).
    const left = await lab.redis!.hgetall(`lw:f:${lab.streamId}`);
    assert.equal(left.snap, undefined, JSON.stringify(left));
  },
);

labTest(
  "sfu nodes: the broadcaster's node dies and the broadcaster never comes back: the node that reaps it takes the stream over to end it, nothing left in Janus or Redis",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    nodes: 2,
    viewersOnNode: 1,
    env: {
      SFU_AFTER_VIEWERS: "0",
      RECONNECT_GRACE_MS: "0",
      // A dead node's members are freed soon after it goes silent.
      NODE_TTL_MS: "1000",
      // sfu-state-removed is a debug line.
      LOG_LEVEL: "debug",
    },
  },
  async (lab) => {
    await lab.openPages();
    await lab.untilPlaying(["v1"]);
    const janus = lab.janus!;
    assert.equal((await janus.rooms()).length, 1);
    // Cut off first, so it cannot come back on node 1; then its node dies.
    await lab.network.linkDown(lab.host(0));
    await lab.stopSignaling("SIGKILL", 0);
    const node1 = lab.nodeLogs[1];
    await lab.until(
      () => `node 1 to end the stream: ${node1.slice(-10).join("\n")}`,
      () => node1.some((line) => line.includes('"sfu-ended"')) || undefined,
    );
    assert.ok(node1.some((line) => line.includes('"sfu-taken-over"')));
    assert.deepEqual(await janus.rooms(), []);
    // Left in Janus: each node's own session with its control handle (the
    // dead node's until reclaim_session_timeout), none of the stream's.
    for (const session of await janus.sessions()) {
      assert.equal((await janus.handles(session)).length, 1);
    }
    await lab.until(
      () => `the stream's SFU state to go from Redis`,
      () => node1.some((l) => l.includes('"sfu-state-removed"')) || undefined,
    );
    // No snapshot; the driving node's name stays until its TTL runs out
    // (a node that missed losing the stream is refused all the same).
    const left = await lab.redis!.hgetall(`lw:f:${lab.streamId}`);
    assert.equal(left.snap, undefined, JSON.stringify(left));
  },
);

labTest(
  "sfu nodes: the publisher's Janus instance dies: the node driving the stream publishes it again on the other and the viewers on the other node play again",
  {
    browsers: ["chromium", "chromium", "chromium"],
    janus: true,
    janusInstances: 2,
    nodes: 2,
    viewersOnNode: 1,
    env: { SFU_AFTER_VIEWERS: "0" },
  },
  async (lab) => {
    await lab.openPages();
    await lab.untilPlaying(["v1", "v2"]);
    const rooms = await Promise.all(lab.januses.map((janus) => janus.rooms()));
    const origin = rooms.findIndex((list) => list.length === 1);
    assert.notEqual(origin, -1, `one instance holds the room: ${rooms}`);
    await lab.januses[origin].kill();
    const killedAt = Date.now();
    await lab.untilPlaying(["v1", "v2"], killedAt);
    const backIn = Date.now() - killedAt;
    console.log(`both viewers playing again ${backIn} ms after the kill`);
    // The failover bench measures it (target 3 s); here, loosely.
    assert.ok(backIn < 10_000, `playing again after ${backIn} ms`);
    const [node0] = lab.nodeLogs;
    assert.ok(node0.some((line) => line.includes('"sfu-republish"')));
    assert.equal((await lab.januses[1 - origin].rooms()).length, 1);
  },
);

labTest(
  "sfu nodes: a cascade driven across nodes (cap 3, six viewers on the other node: three on each instance, one upload); its edge instance dies, its viewers subscribe again elsewhere",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    janusInstances: 2,
    nodes: 2,
    viewersOnNode: 1,
    env: { SFU_AFTER_VIEWERS: "0", SFU_VIEWERS_PER_INSTANCE: "3" },
    pages: [broadcasterPage, crowdPage(6)],
  },
  async (lab) => {
    await lab.openPages();
    const who = ["v1", "v2", "v3", "v4", "v5", "v6"];
    const framesOf = (name: string, since = 0) =>
      lab.events("v1").filter((e) =>
        e.kind === "frame" && e.who === name && e.t > since
      ).length;
    const everyonePlaying = (since = 0) =>
      lab.until(
        () =>
          `every viewer playing: ${
            who.map((name) => `${name} ${framesOf(name, since)}`).join(", ")
          }`,
        () => who.every((name) => framesOf(name, since) >= 10) || undefined,
        60_000,
      );
    await everyonePlaying();
    const [node0] = lab.nodeLogs;
    const cascade = node0.map((line) => JSON.parse(line))
      .find((entry) => entry.event === "sfu-cascade");
    assert.ok(cascade, "the broadcaster's node cascaded the stream");
    const handles = await Promise.all(
      lab.januses.map(async (janus) => (await janus.allHandles()).length),
    );
    // Each: its node sessions' control handles (two nodes) and three
    // subscribers; the origin the publisher too.
    assert.deepEqual(handles.toSorted(), [5, 6]);
    assert.equal(lab.events("b").filter((e) => e.kind === "pc").length, 1);

    const edge = lab.januses.find((janus) => janus.url === cascade.edge)!;
    await edge.kill();
    const killedAt = Date.now();
    await everyonePlaying(killedAt);
    const backIn = Date.now() - killedAt;
    console.log(`every viewer playing again ${backIn} ms after the edge died`);
    // Measured in bench:failover (target 3 s); here, loosely.
    assert.ok(backIn < 10_000, `playing again after ${backIn} ms`);
    assert.equal(lab.events("b").filter((e) => e.kind === "pc").length, 1);
  },
);

labTest(
  "sfu nodes: the broadcaster's node stopped with SIGTERM (a deploy) hands its stream's Janus session over: no publish again, no connection rebuilt",
  {
    browsers: ["chromium", "chromium"],
    janus: true,
    nodes: 2,
    viewersOnNode: 1,
    env: { SFU_AFTER_VIEWERS: "0" },
  },
  async (lab) => {
    await lab.openPages();
    await lab.untilPlaying(["v1"]);
    const [node0, node1] = lab.nodeLogs;
    const stoppedAt = Date.now();
    await lab.stopSignaling("SIGTERM", 0);
    assert.ok(!node0.some((line) => line.includes('"sfu-ended"')));
    await lab.until(
      () => `node 1 to take the stream over: ${node1.slice(-10).join("\n")}`,
      () => node1.some((l) => l.includes('"sfu-taken-over"')) || undefined,
    );
    const settled = Date.now();
    const after = await lab.until(
      "steady video after the takeover",
      () => recovery(lab.events("v1"), stoppedAt, settled),
    );
    console.log(
      `v1: longest frame gap ${after.longestGapMs} ms across SIGTERM`,
    );
    assert.ok(after.longestGapMs < 1_500, `${after.longestGapMs} ms`);
    assert.equal(after.connectionsBuilt, 0);
    assert.ok(!node1.some((line) => line.includes('"sfu-published"')));
    assert.ok(!node1.some((line) => line.includes('"sfu-not-adopted"')));
    assert.equal(lab.events("b").filter((e) => e.kind === "pc").length, 1);
  },
);
