/** The viewer's loss report, without a browser (components/media/inbound-watch.ts). */
import assert from "node:assert/strict";
import {
  LOSS_MIN_PACKETS,
  LOSS_REPORT_MS,
  LOSS_SAMPLE_MS,
  LOSS_WINDOW,
  LossWindow,
  reportLoss,
  takeOver,
  TAKEOVER_WAIT_MS,
  untilSteady,
} from "../../components/media/inbound-watch.ts";
import { fakeClock } from "./support/clock.ts";

/** Feeds `steps` of [lost, received] per sample; returns what was due at each. */
function run(steps: [number, number][], window = new LossWindow()) {
  let lost = 1_000;
  let received = 50_000;
  return steps.map(([l, r], i) => {
    lost += l;
    received += r;
    return window.add(lost, received, i * LOSS_SAMPLE_MS);
  });
}

Deno.test("loss window: the last second's counts, once at least 4 packets and 5% were lost", () => {
  assert.equal(LOSS_WINDOW * LOSS_SAMPLE_MS, 1_000);
  // A second of 20% loss at ~70 packets a second (640x480): due at the
  // second sample already (5 of 35 lost, over the first 500 ms).
  const due = run([[0, 0], [1, 16], [4, 14], [3, 15], [4, 13], [2, 16]]);
  assert.deepEqual(due.slice(0, 2), [undefined, undefined]);
  assert.deepEqual(due[2], [5, 30]);
  // Then at most one report per LOSS_REPORT_MS, each of the last second.
  assert.equal(LOSS_REPORT_MS, 2 * LOSS_SAMPLE_MS);
  assert.equal(due[3], undefined);
  assert.deepEqual(due[4], [12, 58]);
  assert.equal(due[5], undefined);
});

Deno.test("loss window: fewer than 4 packets, or under 5% of them, is no report", () => {
  // 3 lost of 20: a share well over 5%, but too few packets to tell.
  assert.deepEqual(run([[0, 0], [1, 5], [1, 5], [1, 5], [0, 5]]), [
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  ]);
  assert.equal(LOSS_MIN_PACKETS, 4);
  // 8 lost of 200 (4%): many packets, a small share (a fast top layer).
  assert.ok(
    run([[0, 0], [2, 48], [2, 48], [2, 48], [2, 48]]).every((d) => !d),
  );
  // The same share plus one: 9 of 201 is 4.5%, 10 of 200 is 5%.
  assert.deepEqual(run([[0, 0], [2, 48], [3, 47], [2, 48], [3, 47]])[4], [
    10,
    190,
  ]);
});

Deno.test("loss window: a loss over a second ago is out of it", () => {
  const window = new LossWindow();
  // A burst of 10 lost, reported, then a quiet second and more.
  const due = run([[0, 0], [10, 10], [0, 20], [0, 20], [0, 20], [0, 20], [
    0,
    20,
  ]], window);
  assert.deepEqual(due[1], [10, 10]);
  // Still within the last second half a second later: said again.
  assert.deepEqual(due[3], [10, 50]);
  // A second after it, out of the window.
  assert.ok(due.slice(4).every((d) => !d), JSON.stringify(due));
});

Deno.test("loss window: counts that go back (a duplicate counted as received) are no report", () => {
  assert.ok(run([[0, 0], [-3, 20], [-1, 20], [0, 20]]).every((d) => !d));
});

/** A connection as inbound-watch.ts reads it: its state, and its video's decoded frames over time (its statistics by kind). */
function fakeConnection(framesAt: (now: number) => number) {
  const pc = { signalingState: "stable" } as RTCPeerConnection;
  const read = () =>
    Promise.resolve({
      video: {
        framesDecoded: framesAt(performance.now()),
        frameWidth: 640,
        packetsLost: 0,
        packetsReceived: 1_000,
      },
    });
  return { pc, read };
}

Deno.test("takeover wait: a picture decoding steadily takes over after ~300 ms", async () => {
  using clock = fakeClock();
  const { pc, read } = fakeConnection((now) => Math.floor(now / 33));
  let result: boolean | undefined;
  untilSteady(pc, read, () => true).then((steady) => result = steady);
  await clock.tickAsync(200);
  assert.equal(result, undefined);
  await clock.tickAsync(300);
  assert.equal(result, true);
});

Deno.test("takeover wait: one key frame and then nothing is no picture; given up after TAKEOVER_WAIT_MS (the server's switch deadline)", async () => {
  using clock = fakeClock();
  const { pc, read } = fakeConnection(() => 1);
  let result: boolean | undefined;
  untilSteady(pc, read, () => true).then((steady) => result = steady);
  await clock.tickAsync(TAKEOVER_WAIT_MS - 100);
  assert.equal(result, undefined);
  await clock.tickAsync(200);
  assert.equal(result, false);
});

Deno.test("takeover wait: a slow source (4 frames a second, an encoder short of CPU, a WHIP feed) still takes over", async () => {
  using clock = fakeClock();
  const { pc, read } = fakeConnection((now) => Math.floor(now / 250));
  let result: boolean | undefined;
  untilSteady(pc, read, () => true).then((steady) => result = steady);
  await clock.tickAsync(1_000);
  assert.equal(result, true);
});

/**
 * A connection bringing sound (packets growing) and no video packet; with
 * `video`, a video receiver whose sender sends nothing (a camera off).
 */
function soundOnly(video = false) {
  const pc = {
    signalingState: "stable",
    getReceivers: () => [
      { track: { kind: "audio" } },
      ...(video ? [{ track: { kind: "video" } }] : []),
    ],
  } as unknown as RTCPeerConnection;
  const read = () =>
    Promise.resolve({
      video: { packetsReceived: 0, packetsLost: 0 },
      audio: { packetsReceived: Math.floor(performance.now() / 20) },
    });
  return { pc, read };
}

Deno.test("takeover wait: sound and no video (another make's broadcaster sending none) takes over after ~300 ms of it; the SFU's connection does not (its video waits for a key frame), nor one with a video that has no frame yet (a camera off)", async () => {
  using clock = fakeClock();
  await clock.tickAsync(1_000);
  const { pc, read } = soundOnly();
  let result: boolean | undefined;
  untilSteady(pc, read, () => true).then((steady) => result = steady);
  await clock.tickAsync(200);
  assert.equal(result, undefined);
  await clock.tickAsync(200);
  assert.equal(result, true);
  // Through the SFU (its loss reported): given up at the deadline.
  const sfu = soundOnly();
  reportLoss(sfu.pc, sfu.read, { streamId: "s", send: () => true }, false);
  let through: boolean | undefined;
  untilSteady(sfu.pc, sfu.read, () => true).then((steady) => through = steady);
  await clock.tickAsync(TAKEOVER_WAIT_MS - 100);
  assert.equal(through, undefined);
  await clock.tickAsync(200);
  assert.equal(through, false);
  (sfu.pc as { signalingState: string }).signalingState = "closed";
  await clock.tickAsync(LOSS_SAMPLE_MS);
  const off = soundOnly(true);
  let shown: boolean | undefined;
  untilSteady(off.pc, off.read, () => true).then((steady) => shown = steady);
  await clock.tickAsync(TAKEOVER_WAIT_MS + 100);
  assert.equal(shown, false);
});

Deno.test("takeover: asked again for the same connection (its next track) while watched, it stands aside; one swap", async () => {
  using clock = fakeClock();
  const { pc, read } = fakeConnection((now) => Math.floor(now / 33));
  (pc as { connectionState: string }).connectionState = "connected";
  let swaps = 0;
  const ask = () =>
    takeOver(
      pc,
      {} as MediaStream,
      read,
      () => swaps === 0,
      () => {
        swaps++;
        return ["1", undefined];
      },
      { connection: undefined },
      { onConnectionState: () => {}, onStream: () => {} },
      { streamId: "s", send: () => true },
    );
  const first = ask();
  assert.equal(await ask(), true);
  await clock.tickAsync(500);
  assert.equal(await first, true);
  assert.equal(swaps, 1);
});

Deno.test("takeover: once steady, swapped in, shown, the old one closed, viewer-playing; not once the peer moved on, nor when never steady", async () => {
  using clock = fakeClock();
  const { pc, read } = fakeConnection((now) => Math.floor(now / 33));
  const run = (
    current: () => RTCPeerConnection | undefined,
    waiting = true,
  ) => {
    const log: unknown[] = [];
    const leaving = {
      close: () => void log.push("closed"),
    } as RTCPeerConnection;
    const done = takeOver(
      pc,
      "stream" as unknown as MediaStream,
      read,
      () => waiting,
      () => {
        log.push("swap");
        return ["9", leaving];
      },
      {
        get connection() {
          return current();
        },
      },
      {
        onConnectionState: (state) => log.push(state),
        onStream: (stream, takeover) => {
          log.push([stream, takeover]);
        },
      },
      { streamId: "s", send: (message) => !!log.push(message) },
    );
    return { log, done };
  };
  (pc as { connectionState: string }).connectionState = "connected";
  const taken = run(() => pc);
  await clock.tickAsync(500);
  assert.equal(await taken.done, true);
  assert.deepEqual(taken.log, [
    "swap",
    "connected",
    ["stream", true],
    "closed",
    { type: "viewer-playing", streamId: "s", session: "9" },
  ]);
  // Another connection current by then: nothing told.
  const moved = run(() => undefined);
  await clock.tickAsync(500);
  assert.equal(await moved.done, true);
  assert.deepEqual(moved.log.slice(-1), ["closed"]);
  // No longer waiting: no takeover.
  const dropped = run(() => pc, false);
  await clock.tickAsync(500);
  assert.equal(await dropped.done, false);
  assert.deepEqual(dropped.log, []);
});

Deno.test("SFU connection played at once: viewer-playing once it decodes, with its session; a takeover's says nothing here", async () => {
  using clock = fakeClock();
  const sent: unknown[] = [];
  const link = {
    streamId: "s",
    send: (message: unknown) => sent.push(message),
  };
  let frames = 0;
  const { pc, read } = fakeConnection(() => frames);
  reportLoss(pc, read, link as never, "4711");
  const quiet = fakeConnection(() => 10);
  reportLoss(quiet.pc, quiet.read, link as never, false);
  await clock.tickAsync(LOSS_SAMPLE_MS * 2);
  assert.deepEqual(sent, []);
  frames = 3;
  await clock.tickAsync(LOSS_SAMPLE_MS * 4);
  assert.deepEqual(sent, [{
    type: "viewer-playing",
    streamId: "s",
    session: "4711",
  }]);
  (pc as { signalingState: string }).signalingState = "closed";
  (quiet.pc as { signalingState: string }).signalingState = "closed";
  await clock.tickAsync(LOSS_SAMPLE_MS);
});
