/**
 * One Janus instance's gateway (server/sfu/sfu-gateway.ts) against a fake
 * Janus that answers when the test says: what a publish leaves behind when
 * its stream ends meanwhile. What the real Janus does: tests/e2e.
 */
import assert from "node:assert/strict";
import { createLogger } from "../../server/observe/logger.ts";
import { SfuGateway } from "../../server/sfu/sfu-gateway.ts";
import { FakeJanus } from "./support/fake-janus.ts";

Deno.test("sfu gateway: a stream that ends while its room is being made: the publish fails, and no session, handle or room of it stays in Janus", async () => {
  await using janus = FakeJanus.start();
  const gateway = new SfuGateway(janus.url, createLogger("silent"));
  const up = new Promise((resolve) =>
    gateway.events.addEventListener("up", resolve, { once: true })
  );
  gateway.start();
  await up;
  let held!: () => void;
  const holding = new Promise<void>((resolve) => {
    janus.hold = (request) => {
      const body = request.body as { request?: string } | undefined;
      if (body?.request !== "create") return;
      resolve();
      return new Promise<void>((release) => held = release);
    };
  });
  const publishing = gateway.publish("s", { type: "offer", sdp: "v=0\r\n" });
  publishing.catch(() => {});
  await holding;
  const sessionsBefore = janus.requests.filter((r) => r === "create").length;
  await gateway.end("s");
  janus.hold = undefined;
  held();
  await assert.rejects(publishing, /ended while being published/);
  // No session made for it, and the room made after end() tried to
  // destroy it (requests in the order answered) is destroyed again.
  assert.equal(
    janus.requests.filter((r) => r === "create").length,
    sessionsBefore,
  );
  assert.deepEqual(
    janus.messages.map((m) => m.request),
    ["destroy", "create", "destroy"],
  );
  await gateway.close();
});
