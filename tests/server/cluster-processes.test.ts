/**
 * Real server processes: `deno task start --processes 2` serves one port
 * from two nodes (a viewer on one reaches a broadcaster on the other, and
 * SIGTERM to the parent stops both), and a node restarted as a new
 * process (a new id, a new link address) is reached over a new link.
 */
import assert from "node:assert/strict";
import { splitLines } from "../e2e/support/lines.ts";
import { ANSWER, candidate, OFFER } from "./support/fixtures.ts";
import { RedisProcess } from "./support/redis-process.ts";
import { TestClient } from "./support/test-client.ts";

const ROOT = new URL("../../", import.meta.url);
const MAIN = new URL("server/main.ts", ROOT).pathname;

/** `deno task start`'s own flags, from deno.json (its permissions tested too). */
async function startFlags(): Promise<string[]> {
  const tasks = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  ).tasks;
  const words = (tasks.start as string).split(/\s+/);
  return words.slice(words.indexOf("run") + 1, words.indexOf("server/main.ts"));
}

interface Started {
  child: Deno.ChildProcess;
  /** Each JSON log line, as it comes. */
  lines: Record<string, unknown>[];
  /** Resolves with the first line `match` accepts from now on (or before). */
  line(match: (line: Record<string, unknown>) => boolean): Promise<void>;
}

async function start(args: string[], env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...(await startFlags()), MAIN, ...args],
    cwd: ROOT,
    env: { HOSTNAME: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines: Record<string, unknown>[] = [];
  const waiters: {
    match: (l: Record<string, unknown>) => boolean;
    done(): void;
  }[] = [];
  (async () => {
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .pipeThrough(splitLines());
    for await (const text of reader) {
      if (!text.startsWith("{")) continue;
      const line = JSON.parse(text);
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (!waiter.match(line)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.done();
      }
    }
  })().catch(() => {});
  const started: Started = {
    child,
    lines,
    line(match) {
      if (lines.some(match)) return Promise.resolve();
      return new Promise((done) => waiters.push({ match, done }));
    },
  };
  return started;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** /healthz's node, over a connection of its own (so either process answers). */
async function nodeAnswering(port: number): Promise<string> {
  using client = Deno.createHttpClient({});
  const response = await fetch(`http://127.0.0.1:${port}/healthz`, { client });
  return (await response.json()).node;
}

async function handshake(b: TestClient, v: TestClient, streamId: string) {
  b.send({ type: "webrtc-offer", streamId, viewerId: v.id, offer: OFFER });
  b.send({
    type: "webrtc-ice-candidate",
    streamId,
    viewerId: v.id,
    candidate: candidate(5000),
  });
  assert.deepEqual((await v.next("webrtc-offer")).offer, OFFER);
  assert.equal((await v.next("webrtc-ice-candidate")).viewerId, v.id);
  v.send({ type: "webrtc-answer", streamId, answer: ANSWER });
  assert.deepEqual((await b.next("webrtc-answer")).answer, ANSWER);
}

Deno.test({
  name:
    "processes: --processes 2 serves one port from two nodes; a viewer on one reaches a broadcaster on the other; SIGTERM stops both",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using redis = await RedisProcess.start();
    const port = freePort();
    const parent = await start(["--processes", "2"], {
      PORT: String(port),
      REDIS_URL: redis.url,
    });
    const ready = (line: Record<string, unknown>) =>
      line.event === "cluster-store" && line.to === "ready";
    try {
      await parent.line(() =>
        parent.lines.filter(ready).length === 2 &&
        parent.lines.filter((l) => l.event === "listening").length === 2
      );
      const nodes = new Set(parent.lines.filter(ready).map((l) => l.node));
      assert.equal(nodes.size, 2);
      // Both accept connections on the one port.
      const answered = new Set<string>();
      for (let i = 0; i < 40 && answered.size < 2; i++) {
        answered.add(await nodeAnswering(port));
      }
      assert.deepEqual(answered, nodes);

      const url = `ws://127.0.0.1:${port}/ws`;
      const broadcaster = await TestClient.connect(url);
      broadcaster.send({ type: "broadcaster-ready", streamId: "s" });
      await broadcaster.next("broadcaster-accepted");
      const nodeOf = async (client: TestClient) =>
        await redis.inspector.hget(`lw:c:${client.id}`, "n");
      const home = await nodeOf(broadcaster);
      // Viewers until one is on the other process.
      let viewer: TestClient | undefined;
      for (let i = 0; i < 40 && !viewer; i++) {
        const candidateViewer = await TestClient.connect(url);
        candidateViewer.send({ type: "join-stream", streamId: "s" });
        await candidateViewer.next("join-accepted");
        await broadcaster.next("viewer-joined");
        if (await nodeOf(candidateViewer) !== home) viewer = candidateViewer;
      }
      assert.ok(viewer, "no viewer landed on the other process");
      await handshake(broadcaster, viewer, "s");

      const children = parent.lines.filter((l) => l.event === "process-started")
        .map((l) => l.pid as number);
      assert.equal(children.length, 2);
      parent.child.kill("SIGTERM");
      assert.equal((await broadcaster.closed).code, 1012);
      assert.equal((await viewer.closed).code, 1012);
      assert.equal((await parent.child.status).code, 0);
      for (const pid of children) {
        assert.equal(
          await Deno.stat(`/proc/${pid}`).then(() => true, () => false),
          false,
          `child ${pid} still running`,
        );
      }
    } finally {
      try {
        parent.child.kill("SIGKILL");
      } catch { /* stopped */ }
      await parent.child.status;
    }
  },
});

Deno.test("processes: without REDIS_URL, --processes 2 stops the start with a sentence", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...(await startFlags()), MAIN, "--processes=2"],
    cwd: ROOT,
    env: { PORT: String(freePort()) },
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 2);
  assert.match(
    new TextDecoder().decode(stderr),
    /PROCESSES above 1 needs REDIS_URL: the processes share their streams through Redis/,
  );
});

Deno.test("processes: a node restarted as a new process (new id, new link address) is reached over a new link", async () => {
  await using redis = await RedisProcess.start();
  const env = { PORT: "0", REDIS_URL: redis.url, NODE_TTL_MS: "1000" };
  const node = async () => {
    const started = await start([], env);
    await started.line((l) => l.event === "cluster-store" && l.to === "ready");
    const port = started.lines.find((l) => l.event === "listening")!
      .port as number;
    return { ...started, port, url: `ws://127.0.0.1:${port}/ws` };
  };
  const a = await node();
  let b = await node();
  const all = [a, b];
  try {
    const broadcaster = await TestClient.connect(a.url);
    broadcaster.send({ type: "broadcaster-ready", streamId: "s" });
    await broadcaster.next("broadcaster-accepted");
    const viewer = await TestClient.connect(b.url);
    viewer.send({ type: "join-stream", streamId: "s" });
    const { resume } = await viewer.next("join-accepted");
    await broadcaster.next("viewer-joined");
    await handshake(broadcaster, viewer, "s");
    const linkOf = async (id: string) =>
      await redis.inspector.get(`lw:n:${id}`);
    const first = await linkOf(
      b.lines.find((l) => l.event === "cluster-registered")!.node as string,
    );

    // B restarts: its clients are told 1012 and come back to the new B.
    b.child.kill("SIGTERM");
    assert.equal((await viewer.closed).code, 1012);
    await b.child.status;
    b = await node();
    all.push(b);
    const id = b.lines.find((l) => l.event === "cluster-registered")!
      .node as string;
    const second = await linkOf(id);
    assert.match(second!, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(second, first);
    const back = await TestClient.connect(
      `${b.url}?resume=${encodeURIComponent(resume!)}`,
    );
    assert.equal(back.id, viewer.id);
    back.send({ type: "join-stream", streamId: "s" });
    await back.next("join-accepted");
    await broadcaster.next("viewer-joined");
    await handshake(broadcaster, back, "s");
    // A reached the new B over a new link, never through Redis.
    const metrics = await (await fetch(
      `http://127.0.0.1:${a.port}/metrics`,
    )).text();
    const value = (name: string) =>
      Number(
        metrics.split("\n").find((l) => l.startsWith(name))?.split(" ")[1],
      );
    assert.equal(value('live_cluster_links_total{event="opened"}'), 2);
    assert.equal(value('live_cluster_frames_total{via="pubsub"}'), 0);
    assert.ok(value('live_cluster_frames_total{via="link"}') >= 4);
  } finally {
    for (const started of all) {
      try {
        started.child.kill("SIGKILL");
      } catch { /* stopped */ }
      await started.child.status;
    }
  }
});
