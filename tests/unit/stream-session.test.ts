/** The session both elements share, against a fake server socket and a fake clock. */
import assert from "node:assert/strict";
import { fakeClock } from "./support/clock.ts";
import { FakeHost } from "./support/fake-host.ts";
import {
  FakeSocket,
  installFakeSocket,
  lastSocket,
} from "./support/fake-socket.ts";

/**
 * The configuration `host`'s session makes its next connection with (the
 * browser's RTCPeerConnection stood in for by one that keeps it).
 */
function configOf(host: FakeHost): RTCConfiguration {
  const global = globalThis as { RTCPeerConnection?: unknown };
  const real = global.RTCPeerConnection;
  let config: RTCConfiguration | undefined;
  global.RTCPeerConnection = class {
    constructor(given: RTCConfiguration) {
      config = given;
    }
  };
  try {
    host.session.newConnection();
  } finally {
    global.RTCPeerConnection = real;
  }
  return config!;
}

/** A viewer host on the page, its socket welcomed and its join sent. */
async function joinedViewer(streamId = "order-1") {
  const host = new FakeHost("viewer");
  host.streamId = streamId;
  host.connect();
  const socket = lastSocket();
  socket.welcome("client_v");
  const join = await socket.nextSent("join-stream");
  return { host, socket, join };
}

Deno.test("a viewer opens on the page and joins its stream on welcome", async () => {
  using _socket = installFakeSocket();
  const { host, socket, join } = await joinedViewer();
  using _host = host;
  assert.deepEqual(join, { type: "join-stream", streamId: "order-1" });
  assert.equal(socket.url, "ws://signal.test/ws");
  assert.equal(host.session.clientId, "client_v");
  assert.deepEqual(host.signaling, ["connecting", "open"]);
  assert.equal(host.streamChanges, 1);
});

Deno.test("a viewer without a stream id opens nothing until it gets one", async () => {
  using _socket = installFakeSocket();
  using host = new FakeHost("viewer");
  host.streamId = null;
  host.connect();
  host.update();
  assert.equal(FakeSocket.created.length, 0);
  host.update({ streamId: "order-9" });
  lastSocket().welcome("client_v");
  assert.equal(
    (await lastSocket().nextSent("join-stream")).streamId,
    "order-9",
  );
});

Deno.test("the broadcaster's session opens only when asked (its camera runs)", async () => {
  using _socket = installFakeSocket();
  using host = new FakeHost("broadcaster");
  host.connect();
  host.update();
  assert.equal(FakeSocket.created.length, 0);
  host.session.open();
  lastSocket().welcome("client_b");
  assert.deepEqual(await lastSocket().nextSent("broadcaster-ready"), {
    type: "broadcaster-ready",
    streamId: "order-1",
  });
});

Deno.test("50 stream-id changes use one socket: leave-stream, then join the new stream", async () => {
  using _socket = installFakeSocket();
  const { host, socket } = await joinedViewer("order-0");
  using _host = host;
  for (let i = 1; i <= 50; i++) {
    host.update({ streamId: `order-${i}` });
    await socket.nextSent("join-stream", i);
  }
  assert.equal(FakeSocket.created.length, 1);
  assert.deepEqual(
    socket.sent.slice(0, 4).map((m) =>
      `${m.type} ${"streamId" in m ? m.streamId : ""}`
    ),
    [
      "join-stream order-0",
      "leave-stream order-0",
      "join-stream order-1",
      "leave-stream order-1",
    ],
  );
  assert.equal(socket.sentOf("join-stream").at(-1)!.streamId, "order-50");
  assert.equal(host.session.streamId, "order-50");
});

Deno.test("messages about the stream it left are not handed on; seed messages without a stream id are", async () => {
  using _socket = installFakeSocket();
  const { host, socket } = await joinedViewer("order-1");
  using _host = host;
  host.update({ streamId: "order-2" });
  await socket.nextSent("join-stream", 1);
  socket.receive({ type: "broadcaster-left", streamId: "order-1" });
  socket.receive({
    type: "join-accepted",
    streamId: "order-2",
    viewerId: "client_v",
    live: false,
  });
  socket.receive({
    type: "webrtc-offer",
    viewerId: "client_v",
    offer: { type: "offer", sdp: "v=0" },
  });
  assert.deepEqual(host.messages.map((m) => m.type), [
    "join-accepted",
    "webrtc-offer",
  ]);
});

Deno.test("a refusal of the join of a stream it has left since is ignored; one naming this stream is not", async () => {
  using _socket = installFakeSocket();
  const { host, socket } = await joinedViewer("order-1");
  using _host = host;
  host.update({ streamId: "order-2" });
  await socket.nextSent("join-stream", 1);
  // order-1's join was full, said after the page moved on to order-2.
  socket.receive({
    type: "error",
    code: "stream-full",
    message: "Stream order-1 has the maximum of 2 viewers",
    inReplyTo: "join-stream",
    streamId: "order-1",
  });
  socket.receive({
    type: "error",
    code: "stream-encrypted",
    message: "Stream order-1 is end-to-end encrypted",
    streamId: "order-1",
  });
  assert.equal(host.errors.length, 0);
  socket.receive({
    type: "error",
    code: "stream-full",
    message: "Stream order-2 has the maximum of 2 viewers",
    inReplyTo: "join-stream",
    streamId: "order-2",
  });
  assert.deepEqual(host.errors.map((e) => e.code), ["stream-full"]);
});

Deno.test("a changed signaling-url opens a new socket for the same stream", async () => {
  using _socket = installFakeSocket();
  const { host, socket } = await joinedViewer();
  using _host = host;
  host.update({ signalingUrl: "ws://elsewhere.test/ws" });
  assert.equal(socket.closedWith, 1000);
  assert.equal(socket.sentOf("leave-stream").length, 1);
  assert.equal(lastSocket().url, "ws://elsewhere.test/ws");
  lastSocket().welcome("client_w");
  assert.equal(
    (await lastSocket().nextSent("join-stream")).streamId,
    "order-1",
  );
});

Deno.test("a lost socket reconnects and joins again; the provider's token is reused while good", async () => {
  using _socket = installFakeSocket();
  using clock = fakeClock();
  using host = new FakeHost("viewer");
  let calls = 0;
  host.tokenProvider = () => `token-${++calls}`;
  host.connect();
  lastSocket().welcome("client_a");
  assert.equal((await lastSocket().nextSent("join-stream")).token, "token-1");
  lastSocket().drop();
  clock.tick(1_000);
  lastSocket().welcome("client_b");
  assert.equal((await lastSocket().nextSent("join-stream")).token, "token-1");
  assert.equal(calls, 1);
  assert.deepEqual(host.signaling, [
    "connecting",
    "open",
    "waiting",
    "connecting",
    "open",
  ]);
});

Deno.test("token-expired: one retry with a fresh token, then a failure that closes", async () => {
  using _socket = installFakeSocket();
  using host = new FakeHost("viewer");
  let calls = 0;
  host.tokenProvider = () => `token-${++calls}`;
  host.connect();
  const socket = lastSocket();
  socket.welcome("client_a");
  await socket.nextSent("join-stream");
  const expired = {
    type: "error",
    code: "token-expired",
    message: "Expired",
    inReplyTo: "join-stream",
  };
  socket.receive(expired);
  assert.equal((await socket.nextSent("join-stream", 1)).token, "token-2");
  assert.equal(host.errors.length, 0);
  socket.receive(expired);
  assert.equal(host.errors.length, 1);
  const [error] = host.errors;
  assert.deepEqual(
    [error.code, error.message, error.fatal, error.shown],
    ["token-expired", "Expired", true, false],
  );
  assert.equal(socket.closedWith, 1000);
  // Closed for good: an update of the same stream does not reopen it.
  host.update();
  assert.equal(FakeSocket.created.length, 1);
  // Another stream does, with a fresh token.
  host.update({ streamId: "order-2" });
  lastSocket().welcome("client_b");
  assert.equal((await lastSocket().nextSent("join-stream")).token, "token-3");
});

Deno.test("token-expired without a provider fails at once", async () => {
  using _socket = installFakeSocket();
  const { host, socket } = await joinedViewer();
  using _host = host;
  socket.receive({ type: "error", code: "token-expired", message: "Expired" });
  assert.equal(host.errors[0].fatal, true);
  assert.equal(socket.sentOf("join-stream").length, 1);
});

Deno.test("a provider that throws is a token-provider-failed failure", async () => {
  using _socket = installFakeSocket();
  using host = new FakeHost("viewer");
  host.tokenProvider = () => {
    throw new Error("backend down");
  };
  const failed = host.nextError();
  host.connect();
  lastSocket().welcome("client_a");
  await failed;
  assert.equal(host.errors[0]?.code, "token-provider-failed");
  assert.match(host.errors[0].message, /backend down/);
  assert.equal(host.errors[0].fatal, true);
});

Deno.test("stream-taken: the broadcaster shows it and announces again 5 s later", async () => {
  using _socket = installFakeSocket();
  using clock = fakeClock();
  using host = new FakeHost("broadcaster");
  host.connect();
  host.session.open();
  const socket = lastSocket();
  socket.welcome("client_b");
  await socket.nextSent("broadcaster-ready");
  socket.receive({
    type: "error",
    code: "stream-taken",
    message: "Taken",
    inReplyTo: "broadcaster-ready",
  });
  assert.deepEqual(host.errors.map((e) => [e.code, e.fatal, e.shown]), [[
    "stream-taken",
    false,
    true,
  ]]);
  clock.tick(4_999);
  assert.equal(socket.sentOf("broadcaster-ready").length, 1);
  clock.tick(1);
  await socket.nextSent("broadcaster-ready", 1);
});

Deno.test("join-rate-limited: the viewer joins again 10 s later without showing an error", async () => {
  using _socket = installFakeSocket();
  using clock = fakeClock();
  const { host, socket } = await joinedViewer();
  using _host = host;
  socket.receive({
    type: "error",
    code: "join-rate-limited",
    message: "Slow down",
  });
  assert.equal(host.errors.length, 0);
  clock.tick(10_000);
  await socket.nextSent("join-stream", 1);
});

Deno.test("cluster-unavailable: the viewer joins again 2 s later without showing an error", async () => {
  using _socket = installFakeSocket();
  using clock = fakeClock();
  const { host, socket } = await joinedViewer();
  using _host = host;
  socket.receive({
    type: "error",
    code: "cluster-unavailable",
    message: "No Redis right now",
    inReplyTo: "join-stream",
  });
  assert.equal(host.errors.length, 0);
  clock.tick(1_999);
  assert.equal(socket.sentOf("join-stream").length, 1);
  clock.tick(1);
  await socket.nextSent("join-stream", 1);
});

Deno.test("internal-error answering the join: logged, and the join sent again 2 s later (never left outside the stream)", async () => {
  using _socket = installFakeSocket();
  using clock = fakeClock();
  const { host, socket } = await joinedViewer();
  using _host = host;
  const warn = console.warn;
  console.warn = () => {};
  try {
    socket.receive({
      type: "error",
      code: "internal-error",
      message: "The server failed on this message",
      inReplyTo: "join-stream",
    });
  } finally {
    console.warn = warn;
  }
  assert.equal(host.errors.length, 0);
  clock.tick(1_999);
  assert.equal(socket.sentOf("join-stream").length, 1);
  clock.tick(1);
  await socket.nextSent("join-stream", 1);
});

Deno.test("a refusal that only concerns one message is logged, nothing else", async () => {
  using _socket = installFakeSocket();
  const { host, socket } = await joinedViewer();
  using _host = host;
  const warnings: unknown[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.join(" "));
  try {
    socket.receive({
      type: "error",
      code: "rate-limited",
      message: "Too fast",
    });
    socket.receive({
      type: "error",
      code: "a-code-from-the-future",
      message: "New",
    });
  } finally {
    console.warn = warn;
  }
  assert.equal(host.errors.length, 0);
  assert.equal(warnings.length, 2);
  assert.equal(socket.readyState, FakeSocket.OPEN);
});

Deno.test("turn refused: relay-only viewer fails, relay-only broadcaster shows it, policy all only reports", () => {
  using _socket = installFakeSocket();
  const cases = [
    { role: "viewer", policy: "relay", fatal: true, shown: false },
    { role: "broadcaster", policy: "relay", fatal: false, shown: true },
    { role: "viewer", policy: "all", fatal: false, shown: false },
    { role: "broadcaster", policy: "all", fatal: false, shown: false },
  ] as const;
  for (const { role, policy, fatal, shown } of cases) {
    using host = new FakeHost(role, true);
    host.iceTransportPolicy = policy;
    host.connect();
    host.session.turnRefused();
    host.session.turnRefused(); // once per run
    assert.deepEqual(
      host.errors.map((e) => [e.code, e.fatal, e.shown]),
      [["turn-auth-failed", fatal, shown]],
      `${role} ${policy}`,
    );
  }
});

Deno.test("negotiation-failed: the viewer's give-up closes, the broadcaster's is only reported", async () => {
  using _socket = installFakeSocket();
  const { host, socket } = await joinedViewer();
  using _host = host;
  host.session.report("negotiation-failed", "Refused four times");
  assert.deepEqual(
    host.errors.map((e) => [e.code, e.fatal, e.shown]),
    [["negotiation-failed", true, false]],
  );
  assert.equal(socket.sentOf("leave-stream").length, 1);
  assert.equal(socket.closedWith, 1000);

  using broadcaster = new FakeHost("broadcaster");
  broadcaster.connect();
  broadcaster.session.open();
  const own = lastSocket();
  own.welcome("client_b");
  await own.nextSent("broadcaster-ready");
  broadcaster.session.report("negotiation-failed", "Viewer's answer refused");
  assert.deepEqual(
    broadcaster.errors.map((e) => [e.code, e.fatal, e.shown]),
    [["negotiation-failed", false, false]],
  );
  assert.equal(own.readyState, FakeSocket.OPEN);
});

Deno.test("server ICE servers (with the join's acceptance) are used unless the element sets its own", async () => {
  using _socket = installFakeSocket();
  using host = new FakeHost("viewer");
  host.connect();
  const stun = [{ urls: "stun:stun.l.google.com:19302" }];
  assert.deepEqual(configOf(host).iceServers, stun);
  const socket = lastSocket();
  socket.welcome("client_a");
  const join = await socket.nextSent("join-stream");
  // Only after admission: `welcome` carries none.
  assert.deepEqual(configOf(host).iceServers, stun);
  const turn = [{ urls: "turn:relay.test", username: "u", credential: "c" }];
  socket.receive({
    type: "join-accepted",
    streamId: join.streamId as string,
    viewerId: "client_a",
    live: true,
    iceServers: turn,
  });
  assert.deepEqual(configOf(host), {
    iceServers: turn,
    iceTransportPolicy: "all",
  });
  host.iceServers = [];
  assert.deepEqual(configOf(host).iceServers, []);
});

Deno.test("removal leaves the stream and closes the socket", async () => {
  using _socket = installFakeSocket();
  const { host, socket } = await joinedViewer();
  host.disconnect();
  assert.deepEqual(socket.sentOf("leave-stream"), [{
    type: "leave-stream",
    streamId: "order-1",
  }]);
  assert.equal(socket.closedWith, 1000);
  assert.equal(host.signaling.at(-1), "closed");
});

Deno.test("a removed stream id leaves and closes; a new one opens again", async () => {
  using _socket = installFakeSocket();
  const { host, socket } = await joinedViewer();
  using _host = host;
  host.update({ streamId: null });
  assert.deepEqual(socket.sentOf("leave-stream"), [
    { type: "leave-stream", streamId: "order-1" },
  ]);
  assert.equal(socket.closedWith, 1000);
  assert.equal(host.session.streamId, null);
  assert.equal(host.streamChanges, 2);
  host.update({ streamId: "order-1" });
  assert.equal(FakeSocket.created.length, 2);
  lastSocket().welcome("client_w");
  assert.equal(
    (await lastSocket().nextSent("join-stream")).streamId,
    "order-1",
  );
});

/** A claim in the server's format (the client reads, never verifies). */
function claimFor(streamId: string): string {
  return `1~client_aaaaaaaaaaaa~v~9999999999~${streamId}~${"m".repeat(43)}`;
}

Deno.test("a reconnection presents the latest resume claim for the stream it is in", async () => {
  using _socket = installFakeSocket();
  using clock = fakeClock();
  const { host, socket } = await joinedViewer("order-1");
  using _host = host;
  socket.receive({
    type: "join-accepted",
    streamId: "order-1",
    viewerId: "client_v",
    live: true,
    resume: claimFor("order-1"),
  });
  socket.receive({ type: "pong", resume: claimFor("order-1") + "x" });
  socket.drop();
  clock.tick(1_000);
  const url = new URL(lastSocket().url);
  assert.equal(url.searchParams.get("resume"), claimFor("order-1") + "x");
  assert.equal(url.origin + url.pathname, "ws://signal.test/ws");
});

Deno.test("no claim for another stream, and none after the server refused one", async () => {
  using _socket = installFakeSocket();
  using clock = fakeClock();
  const { host, socket } = await joinedViewer("order-1");
  using _host = host;
  socket.receive({ type: "pong", resume: claimFor("order-1") });
  host.update({ streamId: "order-2" });
  socket.drop();
  clock.tick(1_000);
  // The claim is for order-1; the session is in order-2 now.
  assert.equal(new URL(lastSocket().url).searchParams.get("resume"), null);
  lastSocket().welcome("client_w");
  await lastSocket().nextSent("join-stream");
  lastSocket().receive({ type: "pong", resume: claimFor("order-2") });
  lastSocket().receive({
    type: "error",
    code: "resume-refused",
    message: "The resume claim was not honoured (signature)",
  });
  lastSocket().drop();
  clock.tick(1_000);
  assert.equal(new URL(lastSocket().url).searchParams.get("resume"), null);
});

Deno.test("the viewer's join names the connection it holds", async () => {
  using _socket = installFakeSocket();
  using host = new FakeHost("viewer");
  host.joinFields = () => ({ session: "4611686018" });
  host.connect();
  lastSocket().welcome("client_v");
  assert.deepEqual(await lastSocket().nextSent("join-stream"), {
    type: "join-stream",
    streamId: "order-1",
    session: "4611686018",
  });
});

Deno.test("a broadcaster's socket pings every 2 s; a viewer's every 10 s", () => {
  using _socket = installFakeSocket();
  using clock = fakeClock();
  for (
    const [role, interval] of [["broadcaster", 2_000], [
      "viewer",
      10_000,
    ]] as const
  ) {
    using host = new FakeHost(role, true, { heartbeat: false });
    host.connect();
    const socket = lastSocket();
    socket.welcome("client_x");
    clock.tick(interval - 1);
    assert.equal(socket.sentOf("ping").length, 0, role);
    clock.tick(1);
    assert.equal(socket.sentOf("ping").length, 1, role);
  }
});
