/**
 * Leaves a cluster store could not take are tried again once it is back
 * (server/signaling/departures.ts), but never over a place the client took
 * since: the store takes a node's steps in order, so the later step decides.
 *
 * A unit test of the router's logic: the store is the in-memory registry
 * behind a promise per step that fails while the test says the store is
 * down. Which step a real Redis blip fails, and whether a client's next
 * step lands before the node notices Redis is back, no real-process test
 * can choose.
 */
import assert from "node:assert/strict";
import { Admission } from "../../server/security/admission.ts";
import { AuditTrail } from "../../server/observe/audit.ts";
import { createLogger } from "../../server/observe/logger.ts";
import { IpLimits } from "../../server/security/ip-limits.ts";
import { Metrics } from "../../server/observe/metrics.ts";
import { ResumeTokens } from "../../server/security/resume-token.ts";
import {
  type Directory,
  StoreUnavailable,
} from "../../server/signaling/directory.ts";
import { SignalingRouter } from "../../server/signaling/signaling-router.ts";
import { StreamRegistry } from "../../server/signaling/stream-registry.ts";
import { FakePeer } from "./support/fake-peer.ts";

/** The registry as a store across the network, down when `down` is set. */
class FlakyStore {
  readonly registry = new StreamRegistry();
  down = false;
  #inFlight = new Set<Promise<unknown>>();
  readonly directory: Directory = new Proxy(this.registry, {
    get: (target, key) => {
      const value = Reflect.get(target, key);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const down = this.down;
        const step = Promise.resolve().then(() => {
          if (down) throw new StoreUnavailable("down");
          return value.apply(target, args);
        });
        this.#inFlight.add(step);
        step.catch(() => {}).finally(() => this.#inFlight.delete(step));
        return step;
      };
    },
  });

  /** Resolves once every step sent so far is answered. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) {
      await Promise.allSettled([...this.#inFlight]);
    }
  }

  streamOf(clientId: string): string | undefined {
    return this.registry.membershipOf(clientId)?.room.streamId;
  }
}

const TOKENS = new ResumeTokens("a-test-secret-of-at-least-32-bytes!!", 60);

function routerOn(store: FlakyStore, maxViewersPerStream = 10) {
  const logger = createLogger("error", () => {});
  const audit = new AuditTrail(logger);
  const limit = 1_000_000;
  const ipLimits = new IpLimits({
    maxConnections: limit,
    connectsPerMinute: limit,
    connectBurst: limit,
    joinsPerMinute: limit,
    joinBurst: limit,
  });
  return new SignalingRouter({
    directory: store.directory,
    delivery: { node: "n1", clustered: true, toNode() {} },
    metrics: new Metrics(),
    logger,
    admission: new Admission({ ipLimits, audit }),
    audit,
    maxViewersPerStream,
    resumeTokens: TOKENS,
    reconnectGraceMs: 0,
  });
}

/** `peer` connected and in `streamId`, as a viewer. */
async function joined(
  router: SignalingRouter,
  peer: FakePeer,
  streamId: string,
) {
  router.connected(peer);
  await router.handle(peer, { type: "join-stream", streamId });
  return await peer.first("join-accepted");
}

Deno.test("a leave-stream the store missed is not made again over a join since", async () => {
  const store = new FlakyStore();
  const router = routerOn(store);
  const viewer = new FakePeer("client_viewer000001");
  await joined(router, viewer, "s");
  store.down = true;
  await router.handle(viewer, { type: "leave-stream", streamId: "s" });
  assert.equal(store.streamOf(viewer.id), "s", "missed: still listed");
  store.down = false;
  // The client joins elsewhere before this node sees Redis back.
  await router.handle(viewer, { type: "join-stream", streamId: "t" });
  assert.equal(viewer.of("join-accepted").at(-1)?.streamId, "t");
  router.retryLeaves();
  await store.idle();
  assert.equal(store.streamOf(viewer.id), "t");
});

Deno.test("a goodbye the store missed is not made again over the place its client resumed", async () => {
  const store = new FlakyStore();
  const router = routerOn(store);
  const gone = new FakePeer("client_viewer000001");
  const { resume } = await joined(router, gone, "s");
  store.down = true;
  gone.close();
  router.disconnected(gone, "socket closed (1000)", true);
  await store.idle();
  assert.equal(store.streamOf(gone.id), "s", "missed: still listed");
  store.down = false;
  const back = new FakePeer(gone.id);
  router.connected(back);
  assert.ok(resume);
  const claim = TOKENS.verify(resume);
  assert.ok(claim.ok);
  assert.equal(await router.resume(back, claim.claims), true);
  router.retryLeaves();
  await store.idle();
  assert.equal(store.streamOf(back.id), "s");
  // Its place is its new connection's: pongs carry a claim for it.
  await router.handle(back, { type: "ping" });
  assert.ok((await back.first("pong")).resume);
});

Deno.test("a join refused after a missed leave-stream makes that leave again at once", async () => {
  const store = new FlakyStore();
  const router = routerOn(store, 1);
  const viewer = new FakePeer("client_viewer000001");
  await joined(router, viewer, "s");
  await joined(router, new FakePeer("client_viewer000002"), "full");
  store.down = true;
  await router.handle(viewer, { type: "leave-stream", streamId: "s" });
  store.down = false;
  await router.handle(viewer, { type: "join-stream", streamId: "full" });
  assert.equal((await viewer.first("error")).code, "stream-full");
  await store.idle();
  // In no stream here, so in none in the store either.
  assert.equal(store.streamOf(viewer.id), undefined);
});

Deno.test("a join that fails too keeps the missed leave for when the store is back", async () => {
  const store = new FlakyStore();
  const router = routerOn(store);
  const viewer = new FakePeer("client_viewer000001");
  await joined(router, viewer, "s");
  store.down = true;
  await router.handle(viewer, { type: "leave-stream", streamId: "s" });
  await router.handle(viewer, { type: "join-stream", streamId: "t" });
  assert.equal((await viewer.first("error")).code, "cluster-unavailable");
  await store.idle();
  store.down = false;
  router.retryLeaves();
  await store.idle();
  assert.equal(store.streamOf(viewer.id), undefined);
});
