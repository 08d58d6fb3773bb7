/** Live means frames: the watch says when they flow, stall and come back. */
import assert from "node:assert/strict";
import {
  direct,
  type Frames,
  FrameWatch,
  inbound,
  STALL_AFTER_MS,
} from "../../components/media/frame-watch.ts";
import { fakeClock } from "./support/clock.ts";

/** A `<video>` whose frames the test presents by hand. */
class FakeVideo {
  #callbacks: (() => void)[] = [];
  requestVideoFrameCallback(callback: () => void): number {
    this.#callbacks.push(callback);
    return this.#callbacks.length;
  }
  present(): void {
    for (const callback of this.#callbacks.splice(0)) callback();
  }
}

/**
 * A connection whose `framesDecoded` (and `packetsReceived`) the test sets
 * (hidden pages, stalls).
 */
function fakeConnection(decoded: { count: number; packets?: number }) {
  return {
    signalingState: "stable",
    getStats: () =>
      Promise.resolve(
        new Map([["in", {
          type: "inbound-rtp",
          kind: "video",
          framesDecoded: decoded.count,
          packetsReceived: decoded.packets ?? 0,
        }]]),
      ),
  } as unknown as RTCPeerConnection;
}

/** A page as the watch sees it (Deno has no `document`), until disposed. */
function page(document: { hidden: boolean }): Disposable {
  Object.defineProperty(globalThis, "document", {
    configurable: true,
    value: document,
  });
  return {
    [Symbol.dispose]: () => Reflect.deleteProperty(globalThis, "document"),
  };
}

/** A watch, what it told (`seen`, `starved`), and what it says now (`now()`). */
function watch(video: unknown, pc?: RTCPeerConnection) {
  const seen: Frames[] = [];
  const starved: number[] = [];
  /** onVideo's calls: true, video back; false, sound without video. */
  const videoBack: boolean[] = [];
  const frames = new FrameWatch({
    video: () => video as HTMLVideoElement,
    connection: () => pc,
    onChange: (state) => seen.push(state),
    onStarved: () => starved.push(performance.now()),
    onVideo: (back) => videoBack.push(back),
  });
  // The watch's state: the last change it told, `none` before any.
  const now = (): Frames => seen.at(-1) ?? "none";
  return { frames, seen, starved, videoBack, now };
}

/**
 * A watch whose picture played, then stalled; the test sets its
 * connection's counters (`stats`).
 */
async function stalledWatch(clock: ReturnType<typeof fakeClock>) {
  const stats = { count: 0, packets: 0 };
  const video = new FakeVideo();
  const watched = watch(video, fakeConnection(stats));
  watched.frames.start();
  video.present();
  await clock.tickAsync(STALL_AFTER_MS + 250);
  assert.equal(watched.now(), "stalled");
  return { ...watched, stats, video };
}

Deno.test("visible page: flowing from the first presented frame, stalled after the threshold, flowing on the next", async () => {
  using clock = fakeClock();
  using _page = page({ hidden: false });
  const video = new FakeVideo();
  const { frames, seen, now } = watch(video);
  frames.start();
  await clock.tickAsync(1_000);
  assert.equal(now(), "none");
  video.present();
  assert.equal(now(), "flowing");
  for (let i = 0; i < 10; i++) {
    await clock.tickAsync(100);
    video.present();
  }
  assert.equal(now(), "flowing");
  await clock.tickAsync(STALL_AFTER_MS + 250);
  assert.equal(now(), "stalled");
  video.present();
  assert.equal(now(), "flowing");
  frames.stop();
  assert.deepEqual(seen, ["flowing", "stalled", "flowing", "none"]);
  // A stopped watch ignores a late callback.
  video.present();
  assert.equal(now(), "none");
});

Deno.test("hidden page (no frame callbacks): frames counted from getStats", async () => {
  using clock = fakeClock();
  using _page = page({ hidden: true });
  const decoded = { count: 100 };
  // No requestVideoFrameCallback: as in a background page, or in Deno.
  const { frames, now } = watch({}, fakeConnection(decoded));
  frames.start();
  await clock.tickAsync(250); // the baseline reading
  assert.equal(now(), "none");
  decoded.count = 105;
  await clock.tickAsync(250);
  assert.equal(now(), "flowing");
  await clock.tickAsync(STALL_AFTER_MS + 250);
  assert.equal(now(), "stalled");
  decoded.count = 106;
  await clock.tickAsync(250);
  assert.equal(now(), "flowing");
  frames.stop();
});

Deno.test("a paused video (the person's pause) presents nothing: frames counted from getStats, no stall while they decode", async () => {
  using clock = fakeClock();
  using _page = page({ hidden: false });
  const decoded = { count: 100 };
  const video = Object.assign(new FakeVideo(), { paused: false });
  const { frames, seen, now } = watch(video, fakeConnection(decoded));
  frames.start();
  video.present();
  assert.equal(now(), "flowing");
  video.paused = true;
  for (let i = 0; i < 20; i++) {
    decoded.count += 8;
    await clock.tickAsync(250);
  }
  assert.equal(now(), "flowing");
  // Paused and nothing decoding any more: a stall after all.
  await clock.tickAsync(STALL_AFTER_MS + 250);
  assert.equal(now(), "stalled");
  video.paused = false;
  video.present();
  frames.stop();
  assert.deepEqual(seen, ["flowing", "stalled", "flowing", "none"]);
});

Deno.test("a stall whose media still arrives, nothing decoding, is starved: told once, after two ticks of it; a stall with no media is not", async () => {
  using clock = fakeClock();
  using _page = page({ hidden: false });
  const { frames, starved, stats, video, now } = await stalledWatch(clock);
  // The path is dead: no packets, for seconds.
  await clock.tickAsync(3_000);
  assert.deepEqual(starved, []);
  // Back: packets again, but the decoder waits for a key frame.
  const back = performance.now();
  for (let i = 0; i < 8; i++) {
    stats.packets += 20;
    await clock.tickAsync(250);
  }
  assert.equal(starved.length, 1);
  assert.ok(starved[0] - back <= 750, `starved after ${starved[0] - back} ms`);
  // The key frame: frames again, the stall over; a later one is told again.
  video.present();
  assert.equal(now(), "flowing");
  await clock.tickAsync(STALL_AFTER_MS + 250);
  assert.equal(now(), "stalled");
  for (let i = 0; i < 4; i++) {
    stats.packets += 20;
    await clock.tickAsync(250);
  }
  assert.equal(starved.length, 2);
  frames.stop();
});

Deno.test("a stall whose frames decode again (resent packets) is not starved", async () => {
  using clock = fakeClock();
  using _page = page({ hidden: false });
  const { frames, starved, stats } = await stalledWatch(clock);
  for (let i = 0; i < 8; i++) {
    stats.packets += 20;
    stats.count += 7;
    await clock.tickAsync(250);
  }
  assert.deepEqual(starved, []);
  frames.stop();
});

Deno.test("a video the browser would not start (autoplay refused: paused, no frame yet) is not counted as playing", async () => {
  using clock = fakeClock();
  using _page = page({ hidden: false });
  const decoded = { count: 0 };
  const video = Object.assign(new FakeVideo(), { paused: true });
  const { frames, seen, now } = watch(video, fakeConnection(decoded));
  frames.start();
  for (let i = 0; i < 12; i++) {
    decoded.count += 8;
    await clock.tickAsync(250);
  }
  assert.equal(now(), "none");
  assert.deepEqual(seen, []);
  frames.stop();
});

Deno.test("starved means two ticks in a row of packets without a frame; a takeover's connection is counted from its own start", async () => {
  using clock = fakeClock();
  using _page = page({ hidden: false });
  const { frames, starved, stats } = await stalledWatch(clock);
  // One tick of the last packets as the path died, then seconds of none.
  stats.packets += 5;
  await clock.tickAsync(250);
  await clock.tickAsync(3_000);
  // Back: not starved at the first tick of it, only at the second.
  stats.packets += 20;
  await clock.tickAsync(250);
  assert.deepEqual(starved, []);
  stats.packets += 20;
  await clock.tickAsync(250);
  assert.equal(starved.length, 1);
  // A connection taking over, still frozen: its counters start at 0.
  stats.packets = 0;
  frames.start(true);
  for (let i = 0; i < 4; i++) {
    stats.packets += 20;
    await clock.tickAsync(250);
  }
  assert.equal(starved.length, 2);
  frames.stop();
});

Deno.test("a stream without video (sound alone): its audio packets count as frames once it plays; a video stream's audio does not", async () => {
  using clock = fakeClock();
  using _page = page({ hidden: false });
  const packets = { audio: 0, video: 0 };
  const pc = soundAndVideoConnection(packets, () => 0);
  const tracks: { kind: string }[] = [{ kind: "audio" }];
  const video = Object.assign(new FakeVideo(), {
    paused: false,
    srcObject: {
      getVideoTracks: () => tracks.filter((t) => t.kind === "video"),
    },
  });
  const { frames, seen, now } = watch(video, pc);
  // Playback the browser would not start (autoplay refused): not live yet.
  video.paused = true;
  frames.start();
  for (let i = 0; i < 8; i++) {
    packets.audio += 12;
    await clock.tickAsync(250);
  }
  assert.equal(now(), "none");
  video.paused = false;
  await clock.tickAsync(250); // the baseline reading
  assert.equal(now(), "none");
  for (let i = 0; i < 12; i++) {
    packets.audio += 12;
    await clock.tickAsync(250);
    assert.equal(now(), "flowing");
  }
  // The sound stops: a stall, as a picture's would be.
  await clock.tickAsync(STALL_AFTER_MS + 250);
  assert.equal(now(), "stalled");
  packets.audio += 12;
  await clock.tickAsync(250);
  assert.equal(now(), "flowing");
  frames.stop();
  assert.deepEqual(seen, ["flowing", "stalled", "flowing", "none"]);
  // With a video track, sound is no frame: nothing shown, nothing flows.
  tracks.push({ kind: "video" });
  frames.start();
  for (let i = 0; i < 12; i++) {
    packets.audio += 12;
    await clock.tickAsync(250);
  }
  assert.equal(now(), "none");
  frames.stop();
});

Deno.test("a video stopped by its sender (no video packet) while its sound arrives is no stall; with the sound stopped too, it is", async () => {
  using clock = fakeClock();
  using _page = page({ hidden: false });
  const { pc, flow, frames, seen, now } = soundAndVideo(clock);
  direct.add(pc);
  frames.start();
  await flow(["audio", "video"], 1_000);
  assert.equal(now(), "flowing");
  // The sender's replaceTrack(null): the video stops, the sound goes on.
  await flow(["audio"], 4 * STALL_AFTER_MS);
  assert.equal(now(), "flowing");
  // Its video back: frames again, nothing ever stalled.
  await flow(["audio", "video"], 500);
  assert.deepEqual(seen, ["flowing"]);
  // Video packets arriving with no frame presented are a stall (the
  // decoder's), sound or not.
  await flow(["audio", "video"], 2 * STALL_AFTER_MS, false);
  assert.equal(now(), "stalled");
  await flow(["audio", "video"], 500);
  // Everything stops (a dead path): a stall.
  await clock.tickAsync(STALL_AFTER_MS + 500);
  assert.equal(now(), "stalled");
  frames.stop();
  assert.deepEqual(seen, ["flowing", "stalled", "flowing", "stalled", "none"]);
});

Deno.test("a video sender without a track from the start (another make's camera off when the viewer came) while its sound arrives: flowing after a second of sound, told as sound without video; video packets without a frame are not", async () => {
  using clock = fakeClock();
  using _page = page({ hidden: false });
  const { pc, flow, frames, seen, videoBack, now } = soundAndVideo(clock);
  direct.add(pc);
  frames.start();
  // Less is no proof: a loaded broadcaster's first video packet may come
  // well after its sound. (Readings from a tick past the last frame: 500
  // ms on this clock; the first a baseline.)
  await flow(["audio"], 1_300);
  assert.equal(now(), "none");
  await flow(["audio"], 250);
  assert.deepEqual(seen, ["flowing"]);
  assert.deepEqual(videoBack, [false]);
  frames.stop();
  // The first video packet 700 ms after the sound: none until its frame.
  const late = soundAndVideo(clock);
  direct.add(late.pc);
  late.frames.start();
  await late.flow(["audio"], 1_200);
  await late.flow(["audio", "video"], 1_000, false);
  assert.deepEqual(late.seen, []);
  late.frames.stop();
  // Video packets arriving, no frame yet (a key frame awaited): not live.
  const other = soundAndVideo(clock);
  direct.add(other.pc);
  other.frames.start();
  await other.flow(["audio", "video"], 2 * STALL_AFTER_MS, false);
  assert.deepEqual(other.seen, []);
  other.frames.stop();
});

Deno.test("a stream shown without its video (set aside, frameless): video packets arriving say so, once they grow; a video's packets that stay still (renegotiated away) do not", async () => {
  using clock = fakeClock();
  using _page = page({ hidden: false });
  const { pc, flow, frames, videoBack } = soundAndVideo(clock);
  const video = { paused: false, srcObject: { getVideoTracks: () => [] } };
  const watched = watch(video, pc);
  direct.add(pc);
  watched.frames.start();
  await flow(["audio"], 1_000);
  assert.deepEqual(watched.videoBack, []);
  await flow(["audio", "video"], 300);
  assert.deepEqual(watched.videoBack, [true]);
  watched.frames.stop();
  // Its packets counted before, still now: nothing.
  const still = watch(video, pc);
  still.frames.start();
  await flow(["audio"], 1_000);
  assert.deepEqual(still.videoBack, []);
  still.frames.stop();
  assert.deepEqual(videoBack, []);
  frames.stop();
});

Deno.test("a video shown again (onVideo restarting the watch) in a hidden page: its frames counted afresh, no stall", async () => {
  using clock = fakeClock();
  using _page = page({ hidden: true });
  const packets = { audio: 0, video: 0 };
  let decoded = 0;
  const pc = soundAndVideoConnection(packets, () => decoded);
  direct.add(pc);
  const tracks: { kind: string }[] = [];
  const video = {
    paused: false,
    srcObject: { getVideoTracks: () => tracks },
  };
  const seen: Frames[] = [];
  const frames: FrameWatch = new FrameWatch({
    video: () => video as unknown as HTMLVideoElement,
    connection: () => pc,
    onChange: (state) => seen.push(state),
    onStarved: () => {},
    // As the viewer does: the video back in the stream, watched afresh.
    onVideo: (back) => {
      if (back) tracks.push({ kind: "video" });
      if (back) frames.start(true);
    },
  });
  frames.start();
  // Sound alone (its video set aside): counted as frames.
  for (let t = 0; t < 1_000; t += 50) {
    packets.audio += 3;
    await clock.tickAsync(50);
  }
  assert.deepEqual(seen, ["flowing"]);
  // The camera on: video packets, frames decoding (far fewer than the
  // audio packets counted as frames before).
  for (let t = 0; t < 3 * STALL_AFTER_MS; t += 50) {
    packets.audio += 3;
    packets.video += 3;
    if (t % 100 === 0) decoded++;
    await clock.tickAsync(50);
  }
  assert.equal(tracks.length, 1);
  assert.deepEqual(seen, ["flowing"]);
  frames.stop();
});

Deno.test("camera off from the start with a silent microphone (DTX: a packet every ~400 ms): live after four readings with sound, not four running; a video the browser would not start is not live, its video still set aside", async () => {
  using clock = fakeClock();
  using _page = page({ hidden: false });
  const { pc, frames, videoBack, seen } = soundAndVideo(clock);
  const packets = { audio: 0, video: 0 };
  direct.add(pc);
  // soundAndVideo's own counters are not moved: a fresh connection here.
  const dtx = soundAndVideoConnection(packets, () => 0);
  direct.add(dtx);
  const video = Object.assign(new FakeVideo(), {
    paused: false,
    srcObject: { getVideoTracks: () => [{ kind: "video" }] },
  });
  const silent = watch(video, dtx);
  silent.frames.start();
  for (let t = 0; t < 3_000 && !silent.seen.length; t += 50) {
    if (t % 400 === 0) packets.audio++;
    await clock.tickAsync(50);
  }
  assert.deepEqual(silent.seen, ["flowing"]);
  assert.deepEqual(silent.videoBack, [false]);
  silent.frames.stop();
  // Autoplay refused (paused, nothing played yet): not live.
  const refused = watch(Object.assign(video, { paused: true }), dtx);
  refused.frames.start();
  for (let t = 0; t < 3_000; t += 50) {
    packets.audio += 3;
    await clock.tickAsync(50);
  }
  assert.deepEqual(refused.seen, []);
  assert.ok(refused.videoBack.includes(false));
  refused.frames.stop();
  assert.deepEqual([seen, videoBack], [[], []]);
  frames.stop();
});

Deno.test("video packets arriving on a stream shown without video that the viewer does not show again (its stream has none): the watch goes on counting the sound, no stall", async () => {
  using clock = fakeClock();
  using _page = page({ hidden: false });
  const packets = { audio: 0, video: 0 };
  const pc = soundAndVideoConnection(packets, () => 0);
  direct.add(pc);
  const video = { paused: false, srcObject: { getVideoTracks: () => [] } };
  const { frames, seen, videoBack } = watch(video, pc);
  frames.start();
  for (let t = 0; t < 4 * STALL_AFTER_MS; t += 50) {
    packets.audio += 3;
    packets.video += 3;
    await clock.tickAsync(50);
  }
  assert.deepEqual(seen, ["flowing"]);
  assert.ok(videoBack.length > 0 && videoBack.every((back) => back));
  frames.stop();
});

Deno.test("through a server, sound without a first frame is not live: the SFU's or WHEP's to repair", async () => {
  using clock = fakeClock();
  using _page = page({ hidden: false });
  const { flow, frames, seen } = soundAndVideo(clock);
  frames.start();
  await flow(["audio"], 2 * STALL_AFTER_MS);
  assert.deepEqual(seen, []);
  frames.stop();
});

Deno.test("through a server (the SFU's connection, WHEP's), video that stops while the sound arrives is a stall: the server's to repair", async () => {
  using clock = fakeClock();
  using _page = page({ hidden: false });
  const { flow, frames, now } = soundAndVideo(clock);
  frames.start();
  await flow(["audio", "video"], 1_000);
  await flow(["audio"], 2 * STALL_AFTER_MS);
  assert.equal(now(), "stalled");
  frames.stop();
});

Deno.test("statistics by kind: the last stream's, with the packets of every stream of its kind", async () => {
  const entries = [
    { type: "inbound-rtp", kind: "video", packetsReceived: 500, frameWidth: 0 },
    { type: "inbound-rtp", kind: "audio", packetsReceived: 70 },
    {
      type: "inbound-rtp",
      kind: "video",
      packetsReceived: 20,
      frameWidth: 640,
    },
    { type: "outbound-rtp", kind: "video", packetsSent: 9 },
  ];
  const pc = {
    getStats: () =>
      Promise.resolve(new Map(entries.map((e, i) => [i, { ...e }]))),
  } as unknown as RTCPeerConnection;
  const { video, audio } = await inbound(pc);
  assert.equal(video?.packetsReceived, 520);
  assert.equal(video?.frameWidth, 640);
  assert.equal(audio?.packetsReceived, 70);
  assert.deepEqual(await inbound(undefined), {});
  const closed = {
    getStats: () => Promise.reject(new DOMException("closed")),
  } as unknown as RTCPeerConnection;
  assert.deepEqual(await inbound(closed), {});
});

/**
 * A connection receiving sound and video: the packets the test sets, and
 * the video's frames decoded (`decoded`).
 */
function soundAndVideoConnection(
  packets: { audio: number; video: number },
  decoded: () => number,
): RTCPeerConnection {
  return {
    signalingState: "stable",
    getStats: () =>
      Promise.resolve(
        new Map(["audio", "video"].map((kind) => [kind, {
          type: "inbound-rtp",
          kind,
          packetsReceived: packets[kind as "audio"],
          framesDecoded: kind === "video" ? decoded() : undefined,
        }])),
      ),
  } as unknown as RTCPeerConnection;
}

/**
 * A watch of a connection sending sound and video, the test moving their
 * packets (`flow`: the kinds that arrive, for how long, frames presented
 * with the video's or not).
 */
function soundAndVideo(clock: ReturnType<typeof fakeClock>) {
  const packets = { audio: 0, video: 0 };
  const pc = soundAndVideoConnection(packets, () => packets.video);
  const video = Object.assign(new FakeVideo(), {
    paused: false,
    srcObject: { getVideoTracks: () => [{ kind: "video" }] },
  });
  const watched = watch(video, pc);
  const flow = async (
    kinds: ("audio" | "video")[],
    ms: number,
    shown = true,
  ) => {
    for (let t = 0; t < ms; t += 50) {
      for (const kind of kinds) packets[kind] += 3;
      if (shown && kinds.includes("video")) video.present();
      await clock.tickAsync(50);
    }
  };
  return { pc, flow, ...watched };
}
