/** The elements' socket: open on welcome, reconnect with backoff, detect a dead server. */
import { SERVER_MESSAGES } from "../../protocol/parse-server-message.ts";
import assert from "node:assert/strict";
import {
  CONNECT_TIMEOUT_MS,
  probeDeadline,
  SignalingClient,
  type SignalingState,
} from "../../components/session/signaling-client.ts";
import { fakeClock } from "./support/clock.ts";
import {
  FakeSocket,
  installFakeSocket,
  lastSocket,
} from "./support/fake-socket.ts";

/** The backoff's jitter at its widest (Math.random() = 1) until disposed. */
function widestJitter(): Disposable {
  const random = Math.random;
  Math.random = () => 1;
  return { [Symbol.dispose]: () => Math.random = random };
}

function client(options: { pingIntervalMs?: number } = {}) {
  const states: SignalingState[] = [];
  const messages: string[] = [];
  const sessions: string[] = [];
  const signaling = new SignalingClient({
    url: "ws://signal.test/ws",
    messages: SERVER_MESSAGES,
    onSession: (welcome) => sessions.push(welcome.clientId),
    onMessage: (message) => messages.push(message.type),
    onState: (state) => states.push(state),
    backoff: { initialMs: 1_000, maxMs: 1_000 },
    pongTimeoutMs: 5_000,
    ...options,
  });
  return { signaling, states, messages, sessions };
}

Deno.test("open on welcome: the client id, the session, then messages", () => {
  using _socket = installFakeSocket();
  using _clock = fakeClock();
  const { signaling, states, messages, sessions } = client();
  signaling.start();
  assert.deepEqual(states, ["connecting"]);
  const socket = lastSocket();
  assert.equal(socket.url, "ws://signal.test/ws");
  socket.welcome("client_a");
  assert.equal(signaling.state, "open");
  assert.equal(signaling.clientId, "client_a");
  assert.deepEqual(sessions, ["client_a"]);
  socket.receive({ type: "broadcaster-joined", streamId: "s" });
  socket.receive({ type: "no-such-type" });
  socket.receive({ type: "viewer-left" }); // missing its viewerId
  assert.deepEqual(messages, ["broadcaster-joined"]);
  assert.equal(signaling.send({ type: "ping" }), true);
  signaling.close();
  assert.equal(signaling.send({ type: "ping" }), false);
  assert.equal(socket.closedWith, 1000);
});

Deno.test("a lost socket waits out the backoff, then connects again", () => {
  using _socket = installFakeSocket();
  using clock = fakeClock();
  const { signaling, states, sessions } = client();
  signaling.start();
  lastSocket().welcome("client_a");
  lastSocket().drop();
  assert.equal(signaling.state, "waiting");
  assert.equal(FakeSocket.created.length, 1);
  clock.tick(1_000);
  assert.equal(FakeSocket.created.length, 2);
  lastSocket().welcome("client_b");
  assert.deepEqual(sessions, ["client_a", "client_b"]);
  assert.deepEqual(states, [
    "connecting",
    "open",
    "waiting",
    "connecting",
    "open",
  ]);
  signaling.close();
});

Deno.test("never open: every failed attempt reports waiting again", () => {
  using _socket = installFakeSocket();
  using clock = fakeClock();
  const { signaling, states } = client();
  signaling.start();
  lastSocket().drop();
  clock.tick(1_000);
  lastSocket().drop();
  assert.deepEqual(states, ["connecting", "waiting", "connecting", "waiting"]);
  signaling.close();
  clock.tick(10_000);
  assert.equal(FakeSocket.created.length, 2, "no attempt after close()");
});

Deno.test("a server that stops answering pings is dropped and reconnected", () => {
  using _socket = installFakeSocket();
  using clock = fakeClock();
  const { signaling } = client({ pingIntervalMs: 10_000 });
  signaling.start();
  const first = lastSocket();
  first.welcome("client_a");
  clock.tick(10_000);
  assert.equal(first.sentOf("ping").length, 1);
  first.receive({ type: "pong" });
  clock.tick(10_000);
  assert.equal(first.sentOf("ping").length, 2);
  // No pong this time: lost 5 s later.
  clock.tick(5_000);
  assert.equal(signaling.state, "waiting");
  // Not a goodbye: the server keeps our place while we reconnect.
  assert.equal(first.closedWith, 4000);
  clock.tick(1_000);
  assert.equal(FakeSocket.created.length, 2);
  signaling.close();
});

Deno.test("reconnectNow drops the socket and tries again without the backoff's growth", () => {
  using _socket = installFakeSocket();
  using clock = fakeClock();
  const { signaling } = client();
  signaling.start();
  lastSocket().welcome("client_a");
  signaling.reconnectNow();
  assert.equal(signaling.state, "waiting");
  clock.tick(1_000);
  assert.equal(FakeSocket.created.length, 2);
  signaling.close();
  signaling.reconnectNow();
  assert.equal(signaling.state, "closed");
});

Deno.test("checkNow: an open socket must answer a ping within the timeout", () => {
  using _socket = installFakeSocket();
  using clock = fakeClock();
  const { signaling } = client({ pingIntervalMs: 600_000 });
  signaling.start();
  const socket = lastSocket();
  socket.welcome("client_a");
  signaling.checkNow(false, 1_500);
  assert.equal(socket.sentOf("ping").length, 1);
  socket.receive({ type: "pong" });
  clock.tick(2_000);
  assert.equal(signaling.state, "open");
  signaling.checkNow(false, 1_500);
  clock.tick(1_500);
  assert.equal(signaling.state, "waiting");
  assert.equal(socket.closedWith, 4000);
  signaling.close();
});

Deno.test("checkNow while waiting tries again at once; while connecting, only when the network changed", () => {
  using _socket = installFakeSocket();
  using _clock = fakeClock();
  const { signaling } = client();
  signaling.start();
  // A frozen picture on a slow network: the attempt goes on.
  signaling.checkNow();
  assert.equal(signaling.state, "connecting");
  assert.equal(lastSocket().closedWith, undefined);
  signaling.checkNow(true);
  assert.equal(FakeSocket.created.length, 1);
  // The network changed: that attempt may be stuck on the old path.
  assert.equal(signaling.state, "waiting");
  lastSocket().drop();
  signaling.checkNow();
  assert.equal(signaling.state, "waiting");
  signaling.close();
});

Deno.test("a connection attempt with no welcome within CONNECT_TIMEOUT_MS is lost", () => {
  using _socket = installFakeSocket();
  using clock = fakeClock();
  const { signaling, states } = client();
  const slow = new SignalingClient({
    url: "ws://signal.test/ws",
    messages: SERVER_MESSAGES,
    onSession: () => {},
    onMessage: () => {},
    onState: (state) => states.push(state),
    backoff: { initialMs: 1_000, maxMs: 1_000 },
  });
  slow.start();
  clock.tick(CONNECT_TIMEOUT_MS - 1);
  assert.equal(slow.state, "connecting");
  clock.tick(1);
  assert.equal(slow.state, "waiting");
  slow.close();
  signaling.close();
});

Deno.test("probeDeadline: 300 ms plus three round trips, at most 1.5 s; 1.5 s before any pong", () => {
  assert.equal(probeDeadline(undefined), 1_500);
  assert.equal(probeDeadline(0), 300);
  assert.equal(probeDeadline(100), 600);
  assert.equal(probeDeadline(2_000), 1_500);
});

Deno.test("checkNow's deadline follows the slowest recent round trip, the first from connecting to the welcome", () => {
  using _socket = installFakeSocket();
  using clock = fakeClock();
  const { signaling } = client({ pingIntervalMs: 600_000 });
  signaling.start();
  clock.tick(200);
  const socket = lastSocket();
  socket.welcome("client_a");
  // 200 ms to the welcome: 900 ms.
  signaling.checkNow();
  clock.tick(100);
  socket.receive({ type: "pong" });
  // A 100 ms pong: the slowest recent (200 ms) decays to 150, so 750 ms.
  signaling.checkNow();
  assert.equal(socket.sentOf("ping").length, 2);
  clock.tick(749);
  assert.equal(signaling.state, "open");
  clock.tick(1);
  assert.equal(signaling.state, "waiting");
  signaling.close();
});

Deno.test("checkNow never puts off a deadline already running, nor pings twice for it", () => {
  using _socket = installFakeSocket();
  using clock = fakeClock();
  const { signaling } = client({ pingIntervalMs: 600_000 });
  signaling.start();
  const socket = lastSocket();
  socket.welcome("client_a");
  signaling.checkNow(false, 1_000);
  clock.tick(900);
  // Asked again (a second path went silent): the first deadline stands.
  signaling.checkNow(false, 1_000);
  assert.equal(socket.sentOf("ping").length, 1);
  clock.tick(100);
  assert.equal(signaling.state, "waiting");
  signaling.close();
});

Deno.test("checkNow with a shorter deadline than the heartbeat's brings it forward", () => {
  using _socket = installFakeSocket();
  using clock = fakeClock();
  const { signaling } = client({ pingIntervalMs: 1_000 });
  signaling.start();
  const socket = lastSocket();
  socket.welcome("client_a");
  clock.tick(1_000); // the heartbeat's ping: 5 s to answer
  signaling.checkNow(false, 300);
  assert.equal(socket.sentOf("ping").length, 2);
  clock.tick(300);
  assert.equal(signaling.state, "waiting");
  signaling.close();
});

Deno.test("gone silent: the first attempt goes at once; closed by the server: after the backoff", () => {
  using _socket = installFakeSocket();
  using clock = fakeClock();
  // The backoff's jitter at its widest: the full 1 s here.
  using _random = widestJitter();
  const { signaling } = client({ pingIntervalMs: 600_000 });
  signaling.start();
  lastSocket().welcome("client_a");
  signaling.checkNow(false, 300);
  clock.tick(300);
  assert.equal(signaling.lostBy, "silent");
  clock.tick(1); // at once (a timer set in a tick fires 1 ms on)
  assert.equal(FakeSocket.created.length, 2);
  // That attempt fails too: now the backoff (1 s here).
  lastSocket().drop();
  clock.tick(999);
  assert.equal(FakeSocket.created.length, 2);
  clock.tick(1);
  assert.equal(FakeSocket.created.length, 3);
  // Open again, then closed by the server (a restart): the backoff, not at once.
  lastSocket().welcome("client_a");
  lastSocket().drop();
  assert.equal(signaling.lostBy, "closed");
  clock.tick(999);
  assert.equal(FakeSocket.created.length, 3);
  clock.tick(1);
  assert.equal(FakeSocket.created.length, 4);
  signaling.close();
});

Deno.test("gone silent, a long outage: attempts that fail keep coming within 2 s; closed by the server: the full backoff", () => {
  using _socket = installFakeSocket();
  using clock = fakeClock();
  using _random = widestJitter();
  // The backoff as shipped: from 500 ms up to 15 s.
  const wide = new SignalingClient({
    url: "ws://signal.test/ws",
    messages: SERVER_MESSAGES,
    onSession: () => {},
    onMessage: () => {},
    onState: () => {},
    pingIntervalMs: 600_000,
  });
  wide.start();
  lastSocket().welcome("client_a");
  wide.checkNow(false, 300);
  clock.tick(301);
  // Every attempt fails at once (the network is down): never more than 2 s.
  for (let i = 0; i < 8; i++) {
    const before = FakeSocket.created.length;
    lastSocket().drop();
    clock.tick(2_000);
    assert.equal(FakeSocket.created.length, before + 1, `attempt ${i}`);
  }
  // Back, then closed by the server (a restart): the backoff grows past 2 s.
  lastSocket().welcome("client_a");
  lastSocket().drop();
  for (let i = 0; i < 3; i++) {
    const before = FakeSocket.created.length;
    lastSocket().drop();
    clock.tick(2_000);
    assert.equal(FakeSocket.created.length, before + 1, `closed ${i}`);
  }
  const before = FakeSocket.created.length;
  lastSocket().drop();
  clock.tick(2_000);
  assert.equal(FakeSocket.created.length, before, "4 s from the fourth on");
  wide.close();
});
