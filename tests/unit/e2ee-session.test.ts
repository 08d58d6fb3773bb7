/**
 * The session with a key (stream-session.ts and the e2ee chunk, e2ee.ts),
 * against a fake server socket: nothing is announced or joined before the
 * encryption is ready, then always with `e2ee: true`; a key it cannot use
 * fails the element instead of streaming in the clear.
 */
import assert from "node:assert/strict";
import { FakeHost } from "./support/fake-host.ts";
import {
  FakeSocket,
  installFakeSocket,
  lastSocket,
} from "./support/fake-socket.ts";

const KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

/** Workers the session started (at its first `ready()`), as a browser's. */
const started: FakeWorker[] = [];

class FakeWorker {
  posted: unknown[] = [];
  terminated = false;
  constructor() {
    started.push(this);
  }
  postMessage(message: unknown): void {
    this.posted.push(message);
  }
  terminate(): void {
    this.terminated = true;
  }
}

/** Encoded transforms and workers, as a browser that has them. */
function withTransforms(): Disposable {
  const scope = globalThis as {
    RTCRtpScriptTransform?: unknown;
    RTCRtpReceiver?: unknown;
    Worker: unknown;
  };
  const original = scope.RTCRtpScriptTransform;
  const worker = scope.Worker;
  scope.RTCRtpScriptTransform = class {};
  // A browser's codecs (the broadcaster asks for them once, at the start).
  scope.RTCRtpReceiver = {
    getCapabilities: (kind: string) => ({
      codecs: [{ mimeType: `${kind}/${kind === "audio" ? "opus" : "VP8"}` }],
    }),
  };
  scope.Worker = FakeWorker;
  started.length = 0;
  return {
    [Symbol.dispose]: () => {
      scope.Worker = worker;
      delete scope.RTCRtpReceiver;
      if (original === undefined) delete scope.RTCRtpScriptTransform;
      else scope.RTCRtpScriptTransform = original;
    },
  };
}

/** A host on the page with `key`, its first update done (the chunk loading). */
function keyedHost(role: "viewer" | "broadcaster", key: unknown = KEY) {
  const host = new FakeHost(role);
  host.e2eeKey = key as string;
  host.connect();
  host.update();
  return host;
}

Deno.test("a keyed viewer joins with e2ee: true once its encryption is ready", async () => {
  using _socket = installFakeSocket();
  using _transforms = withTransforms();
  using host = keyedHost("viewer");
  await host.session.e2eeReady();
  // Ready, but its worker not started: that waits until the join is out.
  assert.equal(started.length, 0);
  lastSocket().welcome("client_v");
  assert.deepEqual(await lastSocket().nextSent("join-stream"), {
    type: "join-stream",
    streamId: "order-1",
    e2ee: true,
  });
  assert.deepEqual(host.errors, []);
  // Its worker started as the join went out, with the key, before any
  // connection: the first frame waits neither for its module nor the key.
  assert.equal(started.length, 1);
  assert.equal((started[0].posted[0] as { epoch: number }).epoch, 0);
});

Deno.test("a keyed broadcaster announces with e2ee: true", async () => {
  using _socket = installFakeSocket();
  using _transforms = withTransforms();
  using host = keyedHost("broadcaster");
  host.session.open();
  lastSocket().welcome("client_b");
  assert.deepEqual(await lastSocket().nextSent("broadcaster-ready"), {
    type: "broadcaster-ready",
    streamId: "order-1",
    e2ee: true,
  });
});

Deno.test("without encoded transforms a keyed viewer never joins: e2ee-unsupported, closed", async () => {
  using _socket = installFakeSocket();
  assert.equal(typeof RTCRtpScriptTransform, "undefined");
  using host = keyedHost("viewer");
  const socket = lastSocket();
  socket.welcome("client_v");
  const error = await host.nextError();
  assert.equal(error.code, "e2ee-unsupported");
  assert.equal(error.fatal, true);
  await host.session.e2eeReady();
  assert.deepEqual(socket.sentOf("join-stream"), []);
  assert.equal(socket.readyState, FakeSocket.CLOSED);
});

Deno.test("an invalid key: e2ee-key-invalid, and nothing joined", async () => {
  using _socket = installFakeSocket();
  using _transforms = withTransforms();
  for (const key of ["c2hvcnQ", { epoch: 9999, key: KEY }, 42]) {
    using host = keyedHost("viewer", key);
    const socket = lastSocket();
    socket.welcome("client_v");
    const error = await host.nextError();
    assert.equal(error.code, "e2ee-key-invalid");
    assert.equal(error.fatal, true);
    // The message says what is wrong, never the key.
    assert.ok(!error.message.includes("c2hvcnQ"));
    // Once, though the join waited for the chunk that found it (its check,
    // then the join's ready()): one live-error. Settled promises run.
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(host.errors.length, 1);
    await host.session.e2eeReady();
    assert.deepEqual(socket.sentOf("join-stream"), []);
  }
});

Deno.test("a key refused while in the stream, then another stream: refused again, not joined without e2ee", async () => {
  using _socket = installFakeSocket();
  using _transforms = withTransforms();
  using host = keyedHost("viewer");
  const first = lastSocket();
  first.welcome("client_v");
  assert.equal((await first.nextSent("join-stream")).e2ee, true);
  host.update({ e2eeKey: "c2hvcnQ" });
  assert.equal(host.errors.at(-1)?.code, "e2ee-key-invalid");
  assert.equal(first.readyState, FakeSocket.CLOSED);
  // Another stream, in a later task: the session opens again.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const refused = host.nextError();
  host.update({ streamId: "order-2" });
  const second = lastSocket();
  assert.notEqual(second, first);
  second.welcome("client_v2");
  // Whichever comes first: the refusal, or (wrongly) a join.
  await Promise.race([refused, second.nextSent("join-stream")]);
  assert.deepEqual(second.sentOf("join-stream"), []);
  assert.equal((await refused).code, "e2ee-key-invalid");
  assert.equal(second.readyState, FakeSocket.CLOSED);
});

Deno.test("a key given after joining in the clear: those connections close at once (not once the chunk loaded), then joined encrypted", async () => {
  using _socket = installFakeSocket();
  using _transforms = withTransforms();
  using host = new FakeHost("viewer");
  host.connect();
  host.update();
  const first = lastSocket();
  first.welcome("client_v");
  assert.deepEqual(await first.nextSent("join-stream"), {
    type: "join-stream",
    streamId: "order-1",
  });
  host.update({ e2eeKey: KEY });
  // Synchronously: nothing more of the clear session goes out.
  assert.equal(first.readyState, FakeSocket.CLOSED);
  await host.session.e2eeReady();
  assert.equal(FakeSocket.created.length, 2);
  lastSocket().welcome("client_v2");
  assert.equal((await lastSocket().nextSent("join-stream")).e2ee, true);
});

Deno.test("a key taken away again keeps encryption: the next join still says e2ee", async () => {
  using _socket = installFakeSocket();
  using _transforms = withTransforms();
  using host = keyedHost("viewer");
  const socket = lastSocket();
  socket.welcome("client_v");
  await socket.nextSent("join-stream");
  host.update({ e2eeKey: null, streamId: "order-2" });
  const join = await socket.nextSent("join-stream", 1);
  assert.deepEqual(join, {
    type: "join-stream",
    streamId: "order-2",
    e2ee: true,
  });
});

Deno.test("only a provider: it is asked for epoch 0, and the viewer joins encrypted", async () => {
  using _socket = installFakeSocket();
  using _transforms = withTransforms();
  using host = new FakeHost("viewer");
  const asked: [string, number][] = [];
  host.e2eeKeyProvider = (streamId, epoch) => {
    asked.push([streamId, epoch]);
    return Promise.resolve(KEY);
  };
  host.connect();
  host.update();
  lastSocket().welcome("client_v");
  assert.equal((await lastSocket().nextSent("join-stream")).e2ee, true);
  assert.deepEqual(asked, [["order-1", 0]]);
});

Deno.test("a broadcaster with only a provider announces once it gave epoch 0's key; one that gives none fails it (e2ee-key-invalid), and a try again asks again", async () => {
  using _socket = installFakeSocket();
  using _transforms = withTransforms();
  using host = new FakeHost("broadcaster");
  let answer: (key: string) => void = () => {};
  let fail: (error: Error) => void = () => {};
  const asked: number[] = [];
  let wasAsked: () => void = () => {};
  const firstAsk = new Promise<void>((resolve) => wasAsked = resolve);
  host.e2eeKeyProvider = (_streamId, epoch) => {
    asked.push(epoch);
    wasAsked();
    return new Promise((resolve, reject) => {
      answer = resolve;
      fail = reject;
    });
  };
  host.connect();
  host.update();
  host.session.open();
  const socket = lastSocket();
  socket.welcome("client_b");
  const refused = host.nextError();
  // Live without a key would send nothing: it waits for the provider. The
  // chunk is loaded once the provider is asked; a turn later an announce
  // that did not wait would have gone out.
  await firstAsk;
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(socket.sentOf("broadcaster-ready"), []);
  fail(new Error("backend down"));
  const error = await refused;
  assert.equal(error.code, "e2ee-key-invalid");
  assert.equal(error.fatal, true);
  assert.deepEqual(socket.sentOf("broadcaster-ready"), []);
  // The page's try again: asked again, and announced with the key.
  host.session.open();
  lastSocket().welcome("client_b2");
  await new Promise((resolve) => setTimeout(resolve, 0));
  answer(KEY);
  assert.equal((await lastSocket().nextSent("broadcaster-ready")).e2ee, true);
  assert.deepEqual(asked, [0, 0]);
  assert.equal(host.errors.length, 1);
});

Deno.test("a keyed broadcaster with whip-url refuses: a standard endpoint cannot be encrypted to", async () => {
  using _socket = installFakeSocket();
  using _transforms = withTransforms();
  using host = new FakeHost("broadcaster");
  host.whipUrl = "https://media.example/whip";
  host.e2eeKey = KEY;
  host.connect();
  host.update();
  const error = await host.nextError();
  assert.equal(error.code, "e2ee-unsupported");
  assert.equal(error.fatal, true);
});

Deno.test("trying again after a refused key refuses again; a valid key then joins encrypted", async () => {
  using _socket = installFakeSocket();
  using _transforms = withTransforms();
  using host = keyedHost("viewer", "c2hvcnQ");
  lastSocket().welcome("client_v");
  assert.equal((await host.nextError()).code, "e2ee-key-invalid");
  // The "try again" of a page: the session opens anew, the key unchanged.
  host.session.open();
  const again = lastSocket();
  const refused = host.nextError();
  again.welcome("client_v2");
  assert.equal((await refused).code, "e2ee-key-invalid");
  assert.deepEqual(again.sentOf("join-stream"), []);
  host.update({ e2eeKey: KEY });
  host.session.open();
  lastSocket().welcome("client_v3");
  assert.equal((await lastSocket().nextSent("join-stream")).e2ee, true);
});
