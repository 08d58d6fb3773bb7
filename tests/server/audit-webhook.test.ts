/** The audit trail reaches WEBHOOK_URL as signed POSTs, retried, and never in signaling's way. */
import assert from "node:assert/strict";
import { createLogger } from "../../server/observe/logger.ts";
import { signWebhook, WebhookSender } from "../../server/observe/webhook.ts";
import { startTestServer } from "./support/test-server.ts";

const SECRET = "webhook-secret";

/** A real HTTP receiver on 127.0.0.1 that records what it is sent. */
function receiver(status: () => number | "hang" = () => 200) {
  const posts: { body: string; timestamp: string; signature: string }[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let events = 0;
  const hung: (() => void)[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const body = await request.text();
      const answer = status();
      if (answer === "hang") {
        await new Promise<void>((resolve) => hung.push(resolve));
        return new Response("late", { status: 200 });
      }
      if (answer === 200) {
        posts.push({
          body,
          timestamp: request.headers.get("x-live-timestamp")!,
          signature: request.headers.get("x-live-signature")!,
        });
        events += JSON.parse(body).length;
        for (const waiter of waiters.filter((w) => events >= w.count)) {
          waiter
            .resolve();
        }
      }
      return new Response(null, { status: answer });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    posts,
    /** Resolves once `count` events have arrived in total. */
    received(count: number): Promise<void> {
      if (events >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async [Symbol.asyncDispose]() {
      for (const release of hung) release();
      await server.shutdown();
    },
  };
}

Deno.test("joins and leaves arrive at the webhook, signed with HMAC-SHA256 over timestamp.body", async () => {
  await using hook = receiver();
  await using t = await startTestServer({
    webhookUrl: hook.url,
    webhookSecret: SECRET,
  });
  const { viewers: [viewer] } = await t.liveStream("order-7", 1);
  await viewer.close();
  await hook.received(3);
  const events = hook.posts.flatMap((post) => JSON.parse(post.body));
  assert.deepEqual(
    events.map((
      e: { kind: string; role: string; streamId: string },
    ) => [e.kind, e.role, e.streamId]),
    [["joined", "broadcaster", "order-7"], ["joined", "viewer", "order-7"], [
      "left",
      "viewer",
      "order-7",
    ]],
  );
  assert.equal(events[2].clientId, viewer.id);
  assert.match(events[2].time, /^\d{4}-\d\d-\d\dT/);
  for (const post of hook.posts) {
    assert.equal(
      post.signature,
      await signWebhook(SECRET, post.timestamp, post.body),
    );
    assert.ok(Math.abs(Number(post.timestamp) - Date.now() / 1000) < 60);
  }
});

Deno.test("a failing receiver gets the batch again with backoff until it answers 2xx", async () => {
  let calls = 0;
  await using hook = receiver(() => (++calls <= 2 ? 500 : 200));
  const sender = new WebhookSender({
    url: hook.url,
    secret: SECRET,
    logger: createLogger("silent"),
    retryMs: 10,
  });
  sender.send({
    kind: "joined",
    time: new Date().toISOString(),
    clientId: "client_x",
    streamId: "s",
  });
  await hook.received(1);
  // close() waits for the POST in flight, so its answer has been counted.
  await sender.close();
  assert.equal(calls, 3);
  assert.deepEqual(sender.stats, { sent: 1, failed: 0, dropped: 0 });
});

Deno.test("a receiver that never answers does not hold up signaling, and the queue stays bounded", async () => {
  await using hook = receiver(() => "hang");
  await using t = await startTestServer({
    webhookUrl: hook.url,
    webhookSecret: SECRET,
  });
  // A full handshake and many joins complete while the first POST hangs.
  const { broadcaster, viewers: [viewer] } = await t.liveStream("s", 1);
  broadcaster.send({
    type: "webrtc-offer",
    streamId: "s",
    viewerId: viewer.id,
    offer: { type: "offer", sdp: "v=0" },
  });
  await viewer.next("webrtc-offer");
  const sender = new WebhookSender({
    url: hook.url,
    secret: SECRET,
    logger: createLogger("silent"),
    maxQueue: 5,
  });
  for (let i = 0; i < 20; i++) {
    sender.send({
      kind: "joined",
      time: new Date().toISOString(),
      clientId: `c${i}`,
    });
  }
  // One batch is in flight (hung); of the 19 queued behind it, 5 are kept.
  assert.equal(sender.stats.dropped, 14);
  const closing = sender.close();
  await hook[Symbol.asyncDispose]();
  await closing;
});
