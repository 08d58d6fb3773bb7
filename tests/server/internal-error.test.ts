/**
 * A bug in a handler costs one message, never the connection or the process.
 * No valid input reaches this path, so a router that throws stands in for the
 * bug; the socket, connection and server loop around it are the real ones.
 */
import assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "../../server/config.ts";
import { Connection } from "../../server/signaling/connection.ts";
import { createLogger } from "../../server/observe/logger.ts";
import { buildServices } from "../../server/services.ts";
import type { Peer } from "../../server/signaling/peer.ts";
import { SignalingRouter } from "../../server/signaling/signaling-router.ts";
import type { ClientMessage } from "../../protocol/messages.ts";
import { TestClient } from "./support/test-client.ts";
import { FakeJanus } from "./support/fake-janus.ts";
import { OFFER } from "../unit/support/fake-session-host.ts";
import { FakePeer } from "../unit/support/fake-peer.ts";
import type { SfuRelay } from "../../server/sfu/sfu-relay.ts";

class BrokenOnJoin extends SignalingRouter {
  override handle(peer: Peer, message: ClientMessage): void | Promise<void> {
    if (message.type === "join-stream") throw new TypeError("boom");
    return super.handle(peer, message);
  }
}

Deno.test("a handler that throws gets internal-error and the connection stays", async () => {
  const logs: string[] = [];
  const logger = createLogger("info", (line) => logs.push(line));
  // The server's own wiring, with a router that breaks on joins.
  const { router, metrics, sweep } = buildServices(
    { ...DEFAULT_CONFIG, reconnectGraceMs: 0 },
    logger,
    { router: (options) => new BrokenOnJoin(options) },
  );
  clearInterval(sweep);
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      new Connection(socket, "client_test", "127.0.0.1", {
        config: DEFAULT_CONFIG,
        router,
        metrics,
        logger,
        onClosed() {},
      });
      return response;
    },
  );
  const client = await TestClient.connect(
    `ws://127.0.0.1:${server.addr.port}/ws`,
  );
  client.send({ type: "join-stream", streamId: "s" });
  assert.deepEqual(await client.next("error"), {
    type: "error",
    code: "internal-error",
    message: "The server failed on this message",
    inReplyTo: "join-stream",
    // Named: a client that moved to another stream meanwhile ignores it.
    streamId: "s",
  });
  client.send({ type: "ping", nonce: 1 });
  assert.equal((await client.next("pong")).nonce, 1);
  assert.equal(metrics.errors.get("internal-error"), 1);
  assert.ok(logs.some((line) => JSON.parse(line).event === "handler-failed"));
  await client.close();
  await server.shutdown();
});

/** Rejects an announce as a store would on a reply it cannot use (Redis's `OOM`, `READONLY`). */
class RejectsOnAnnounce extends SignalingRouter {
  override handle(peer: Peer, message: ClientMessage): void | Promise<void> {
    if (message.type === "broadcaster-ready") {
      return Promise.reject(new Error("OOM command not allowed"));
    }
    return super.handle(peer, message);
  }
}

Deno.test("a WHIP publisher whose announce fails gets 503 internal-error, and the process lives (no unhandled rejection)", async () => {
  await using janus = FakeJanus.start();
  const logs: string[] = [];
  const logger = createLogger("info", (line) => logs.push(line));
  const config = { ...DEFAULT_CONFIG, janusUrl: janus.url };
  const services = buildServices(config, logger, {
    router: (options) => new RejectsOnAnnounce(options),
  });
  clearInterval(services.sweep);
  try {
    const gateway = services.gateway!;
    if (!gateway.up) {
      await new Promise((up) =>
        gateway.events.addEventListener("up", up, { once: true })
      );
    }
    const response = await services.whip!.handle(
      new Request("http://127.0.0.1/whip/s", {
        method: "POST",
        headers: { "content-type": "application/sdp" },
        body: OFFER,
      }),
      "127.0.0.1",
    );
    assert.equal(response.status, 503);
    assert.equal((await response.json()).error, "internal-error");
    const failed = logs.map((line) => JSON.parse(line)).find((line) =>
      line.event === "handler-failed"
    );
    assert.equal(failed?.type, "broadcaster-ready");
    assert.match(failed?.error, /OOM/);
  } finally {
    await services.gateway!.close();
  }
});

/**
 * Stands in for the SFU relay: a takeover under way at the first look (then
 * none), and `broken` throwing, as a bug in it would.
 */
function relayBreakingIn(broken: "viewerLoss" | "fromViewer" | "joined") {
  let takeover: Promise<void> | undefined = Promise.resolve();
  const relay = {
    pendingTakeover: () => {
      const pending = takeover;
      takeover = undefined;
      return pending;
    },
    whenReady: () => Promise.resolve(),
    phaseOf: () => "p2p",
    announced: (_: string, __: unknown, viewers: unknown[]) => ({
      direct: viewers,
      out: [],
    }),
    joined: () => ({ taken: false, out: [] }),
    fromViewer: () => false,
    blocks: () => false,
    viewerLoss: () => {},
    playing: () => [],
    departed: () => {},
    [broken]: () => {
      throw new TypeError(`${broken} broke`);
    },
  };
  return relay as unknown as SfuRelay;
}

/** A router on the server's own wiring, with `relay` as its SFU's side. */
function routerWith(relay: SfuRelay) {
  const logs: string[] = [];
  const logger = createLogger("info", (line) => logs.push(line));
  const { router, sweep } = buildServices(
    { ...DEFAULT_CONFIG, resumeSecret: "a-test-secret-of-at-least-32-bytes!!" },
    logger,
    { router: (options) => new SignalingRouter({ ...options, sfu: relay }) },
  );
  clearInterval(sweep);
  /** A client connected, and its message handled. */
  const enter = async (id: string, message: ClientMessage) => {
    const peer = new FakePeer(id);
    router.connected(peer);
    await router.handle(peer, message);
    return peer;
  };
  return { router, logs, enter };
}

/**
 * What `peer` hears after a step left to run later failed: its refusal, or
 * the rejection nobody handled (which would end the process).
 */
async function outcome(peer: FakePeer) {
  let stop = () => {};
  const unhandled = new Promise<{ unhandled: string }>((resolve) => {
    const listener = (event: PromiseRejectionEvent) => {
      event.preventDefault();
      resolve({ unhandled: String(event.reason) });
    };
    globalThis.addEventListener("unhandledrejection", listener);
    stop = () => globalThis.removeEventListener("unhandledrejection", listener);
  });
  try {
    return await Promise.race([peer.first("error"), unhandled]);
  } finally {
    stop();
  }
}

/** The `handler-failed` line's type and error. */
function failed(logs: string[]) {
  const line = logs.map((line) => JSON.parse(line)).find((line) =>
    line.event === "handler-failed"
  );
  return line && { type: line.type, error: line.error };
}

const INTERNAL = {
  type: "error",
  code: "internal-error",
  message: "The server failed on this message",
};

Deno.test("a viewer-loss that waited for a takeover and failed then is logged and refused, never an unhandled rejection", async () => {
  const { router, logs, enter } = routerWith(relayBreakingIn("viewerLoss"));
  const viewer = await enter("client_v", {
    type: "join-stream",
    streamId: "s",
  });
  router.handle(viewer, {
    type: "viewer-loss",
    streamId: "s",
    lost: 9,
    received: 30,
  });
  assert.deepEqual(await outcome(viewer), {
    ...INTERNAL,
    inReplyTo: "viewer-loss",
    streamId: "s",
  });
  assert.deepEqual(failed(logs), {
    type: "viewer-loss",
    error: "TypeError: viewerLoss broke",
  });
});

Deno.test("a viewer's answer that waited for a takeover and failed then is logged and refused, never an unhandled rejection", async () => {
  const { router, logs, enter } = routerWith(relayBreakingIn("fromViewer"));
  const viewer = await enter("client_v", {
    type: "join-stream",
    streamId: "s",
  });
  router.handle(viewer, {
    type: "webrtc-answer",
    streamId: "s",
    answer: { type: "answer", sdp: "v=0\r\n" },
  });
  assert.deepEqual(await outcome(viewer), {
    ...INTERNAL,
    inReplyTo: "webrtc-answer",
    streamId: "s",
  });
  assert.deepEqual(failed(logs), {
    type: "webrtc-answer",
    error: "TypeError: fromViewer broke",
  });
});

Deno.test("a join told to its broadcaster after a takeover, failing then, is logged and refused, never an unhandled rejection", async () => {
  const { logs, enter } = routerWith(relayBreakingIn("joined"));
  await enter("client_b", { type: "broadcaster-ready", streamId: "s" });
  const viewer = await enter("client_v", {
    type: "join-stream",
    streamId: "s",
  });
  assert.equal((await viewer.first("join-accepted")).live, true);
  assert.deepEqual(await outcome(viewer), {
    ...INTERNAL,
    inReplyTo: "join-stream",
    streamId: "s",
  });
  assert.deepEqual(failed(logs), {
    type: "join-stream",
    error: "TypeError: joined broke",
  });
});

/** Breaks as a WHIP or WHEP session connects (no valid input does this). */
class BrokenOnConnect extends SignalingRouter {
  override connected(peer: Peer): void {
    if (peer.sfuOnly) throw new TypeError("boom");
    super.connected(peer);
  }
}

Deno.test("a WHEP POST the server breaks on gets a 500 internal-error with its CORS grant (a browser player can read it), logged as http-handler-failed", async () => {
  await using janus = FakeJanus.start();
  const logs: string[] = [];
  const logger = createLogger("info", (line) => logs.push(line));
  const config = {
    ...DEFAULT_CONFIG,
    janusUrl: janus.url,
    allowedOrigins: ["https://shop.example"],
  };
  const services = buildServices(config, logger, {
    router: (options) => new BrokenOnConnect(options),
  });
  clearInterval(services.sweep);
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (request) => services.whep!.handle(request, "127.0.0.1"),
  );
  try {
    const gateway = services.gateway!;
    if (!gateway.up) {
      await new Promise((up) =>
        gateway.events.addEventListener("up", up, { once: true })
      );
    }
    const response = await fetch(
      `http://127.0.0.1:${server.addr.port}/whep/s`,
      {
        method: "POST",
        headers: {
          "content-type": "application/sdp",
          origin: "https://shop.example",
        },
        body: OFFER,
      },
    );
    assert.equal(response.status, 500);
    assert.equal(
      response.headers.get("access-control-allow-origin"),
      "https://shop.example",
    );
    assert.equal((await response.json()).error, "internal-error");
    const failed = logs.map((line) => JSON.parse(line)).find((line) =>
      line.event === "http-handler-failed"
    );
    assert.equal(failed?.path, "/whep/s");
    assert.match(failed?.error, /boom/);
  } finally {
    await server.shutdown();
    await services.gateway!.close();
  }
});
