/**
 * NODE_LINK_QUEUE_BYTES, the one limit on what a node holds for another:
 * frames within it wait for a slow reader and all arrive, in order; frames
 * past it are dropped, counted and said in the log once per node and
 * window, not once per frame.
 */
import assert from "node:assert/strict";
import { FrameReader } from "../../server/cluster/link-wire.ts";
import { FrameSink } from "../../server/cluster/node-link.ts";
import { NodeLinks } from "../../server/cluster/node-links.ts";
import { createLogger } from "../../server/observe/logger.ts";
import { Metrics } from "../../server/observe/metrics.ts";

/** A connected pair of TCP connections on loopback. */
async function tcpPair(): Promise<[Deno.TcpConn, Deno.TcpConn, () => void]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const near = await Deno.connect({
    hostname: "127.0.0.1",
    port: (listener.addr as Deno.NetAddr).port,
  });
  const far = await accepted;
  return [near, far, () => {
    for (const closable of [near, far, listener]) {
      try {
        closable.close();
      } catch {
        // Closed already.
      }
    }
  }];
}

Deno.test("link queue: a reader that stalls loses nothing within the budget; past it frames are refused until it catches up", async () => {
  const [near, far, close] = await tcpPair();
  try {
    const budget = 1024 * 1024;
    const sink = new FrameSink(near, budget, 4 * 1024 * 1024);
    const body = "x".repeat(64 * 1024);
    // The far side reads nothing: the kernel's buffers fill, the write under
    // way waits, and later frames queue up to the budget.
    let accepted = 0;
    for (; accepted < 4_000; accepted++) {
      if (!sink.push(`${accepted} ${body}`)) break;
      // Lets the write loop run, so only what the kernel will not take queues.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    assert.ok(accepted < 4_000, "the budget was never reached");
    assert.ok(accepted > budget / body.length, `${accepted} accepted`);
    // The far side catches up: every accepted frame arrives, in order.
    const reader = new FrameReader(4 * 1024 * 1024);
    const seen: number[] = [];
    while (seen.length < accepted) {
      const count = await far.read(reader.space());
      assert.notEqual(count, null, `closed after ${seen.length} frames`);
      reader.filled(count!);
      for (const text of reader.frames()) {
        seen.push(Number(text.slice(0, text.indexOf(" "))));
      }
    }
    assert.deepEqual(seen, Array.from({ length: accepted }, (_, i) => i));
    // Drained: it takes frames again.
    assert.ok(sink.push(`${accepted} ${body}`));
    sink.close();
  } finally {
    close();
  }
});

Deno.test("link queue: frames past NODE_LINK_QUEUE_BYTES are dropped, counted, and said once per node and window", async () => {
  // A node that accepts the link and never answers its handshake: the link
  // stays connecting, so every frame for that node queues.
  const hung = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const conn of hung) conns.push(conn);
  })();
  const lines: Record<string, unknown>[] = [];
  let published = 0;
  const metrics = new Metrics();
  const queueBytes = 64 * 1024;
  const links = new NodeLinks({
    self: () => "node_a",
    hostname: "127.0.0.1",
    port: 0,
    limits: {
      queueBytes,
      maxFrameBytes: 1024 * 1024,
      connectTimeoutMs: 60_000,
      maxPending: 64,
    },
    retryMs: 1_000,
    logger: createLogger("warn", (line) => lines.push(JSON.parse(line))),
    metrics,
    address: () =>
      Promise.resolve(`tcp://127.0.0.1:${(hung.addr as Deno.NetAddr).port}`),
    // A link that never opened hands its queue to pub/sub.
    publish: () => published++,
    deliver: () => {},
    placeOf: () => undefined,
  });
  try {
    await links.useSecret("s".repeat(32));
    const text = "y".repeat(1_000);
    const frames = 100;
    for (let i = 0; i < frames; i++) {
      links.send("node_b", { kind: "text", to: "client_1", text });
    }
    const dropped = metrics.clusterLinkDrops.get("queue-full") ?? 0;
    // ~1,000 characters a frame with its header: 64 of them fit.
    assert.ok(dropped > 30 && dropped < frames - 50, `${dropped} dropped`);
    assert.deepEqual(
      lines.map(({ level, event, node, dropped, limitBytes }) => ({
        level,
        event,
        node,
        dropped,
        limitBytes,
      })),
      [{
        level: "warn",
        event: "node-link-queue-full",
        node: "node_b",
        dropped: 1,
        limitBytes: queueBytes,
      }],
    );
    // The frames it kept go the other way once the link is given up.
    links.close();
    assert.equal(published, frames - dropped);
  } finally {
    links.close();
    hung.close();
    for (const conn of conns) conn.close();
  }
});
