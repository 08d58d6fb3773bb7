/**
 * The Janus client (server/sfu/janus-client.ts) against a real Janus:
 * sessions, handles, VideoRoom requests, errors with their codes, keepalive,
 * and Janus dying under it. Control only: no media, so Janus runs on
 * loopback (media tests run it inside a network namespace).
 */
import assert from "node:assert/strict";
import {
  JanusClient,
  JanusError,
  JanusSession,
  JanusUnavailable,
} from "../../server/sfu/janus-client.ts";
import { JanusProcess } from "./support/janus-process.ts";

const VIDEOROOM = "janus.plugin.videoroom";

Deno.test("janus client: a room is created, listed and destroyed; nothing is left in Janus", async () => {
  await using janus = await JanusProcess.start();
  const client = await JanusClient.connect(janus.url);
  try {
    const session = await client.createSession();
    const handle = await session.attach(VIDEOROOM);
    const created = await handle.message({
      request: "create",
      room: 4242,
      publishers: 1,
    });
    assert.equal(created.data.videoroom, "created");
    const listed = await handle.message({ request: "list" });
    assert.deepEqual(
      (listed.data.list as { room: number }[]).map((room) => room.room),
      [4242],
    );
    assert.deepEqual(await janus.sessions(), [session.id]);
    await handle.message({ request: "destroy", room: 4242 });
    const after = await handle.message({ request: "list" });
    assert.deepEqual(after.data.list, []);
    await handle.detach();
    await session.destroy();
    assert.deepEqual(await janus.sessions(), []);
  } finally {
    client.close();
  }
});

Deno.test("janus client: core and plugin errors come back with Janus's codes", async () => {
  await using janus = await JanusProcess.start();
  const client = await JanusClient.connect(janus.url);
  try {
    const session = await client.createSession();
    const handle = await session.attach(VIDEOROOM);
    // VideoRoom: no such room (426).
    await assert.rejects(
      handle.message({ request: "destroy", room: 999 }),
      (error: JanusError) => error instanceof JanusError && error.code === 426,
    );
    // Core: no such plugin (460).
    await assert.rejects(
      session.attach("janus.plugin.nothing"),
      (error: JanusError) => error instanceof JanusError && error.code === 460,
    );
    await session.destroy();
  } finally {
    client.close();
  }
});

Deno.test("janus client: keepalives hold a session past Janus's session timeout", async () => {
  await using janus = await JanusProcess.start({ sessionTimeout: 2 });
  const client = await JanusClient.connect(janus.url);
  try {
    const kept = new JanusSession(
      client,
      (await client.request({ janus: "create" })).data!.id!,
      500,
    );
    const dropped = await client.createSession(); // keepalive every 25 s
    const timedOut = new Promise((resolve) =>
      dropped.events.addEventListener("timeout", resolve, { once: true })
    );
    // Janus checks its sessions every second or two: the unkept one goes.
    await timedOut;
    assert.deepEqual(await janus.sessions(), [kept.id]);
    await kept.destroy();
  } finally {
    client.close();
  }
});

Deno.test("janus client: Janus killed: the client says it is closed, and requests fail at once", async () => {
  await using janus = await JanusProcess.start();
  const client = await JanusClient.connect(janus.url);
  const closed = new Promise((resolve) =>
    client.events.addEventListener("closed", resolve, { once: true })
  );
  const session = await client.createSession();
  await janus.kill();
  await closed;
  assert.equal(client.closed, true);
  await assert.rejects(session.attach(VIDEOROOM), JanusUnavailable);
  await assert.rejects(
    JanusClient.connect(janus.url),
    JanusUnavailable,
  );
});
