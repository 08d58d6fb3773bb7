/**
 * What the end-to-end encryption worker does with frames
 * (components/e2ee/frame-crypto.ts), with real WebCrypto and a clock the
 * test moves: the layout per codec, no frame sent clear, no failed frame
 * passed on, the wait for a rotated key, the old epoch's window, and when
 * "cannot decrypt" is said.
 */
import assert from "node:assert/strict";
import {
  type Codec,
  codecOf,
  FrameCrypto,
  type FrameReceiver,
  type FromWorker,
} from "../../components/e2ee/frame-crypto.ts";
import {
  decodeHeader,
  encodeHeader,
  REPLAY_WINDOW,
} from "../../components/e2ee/sframe.ts";
import { epochOf, kidOf, randomId } from "../../components/e2ee/keys.ts";
import {
  FAILED_AFTER_FRAMES,
  HOLD_MS,
  OLD_EPOCH_MS,
} from "../../components/e2ee/receive-policy.ts";

const KEY_0 = new Uint8Array(32).fill(1);
const KEY_1 = new Uint8Array(32).fill(2);
const WRONG = new Uint8Array(32).fill(9);

/** A VP8 frame: key frame (10 clear bytes) or delta (3), then payload. */
function vp8(n: number, key = false): Uint8Array {
  const head = key
    ? [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]
    : [0x31, 0x02, 0x00];
  return Uint8Array.from([...head, n & 0xff, ...new Array(40).fill(n & 0x7f)]);
}

/** An H.264 access unit: SPS, PPS, an IDR slice whose data has zeros in it. */
const H264 = Uint8Array.from([
  0,
  0,
  0,
  1,
  0x67,
  0x42,
  0xc0,
  0x1f, //
  0,
  0,
  0,
  1,
  0x68,
  0xce,
  0x3c,
  0x80, //
  0,
  0,
  1,
  0x65,
  0x88,
  0x84,
  0,
  0,
  0,
  0,
  0,
  1,
  2,
  3,
  0,
  0,
  3,
  0xff,
]);

/** Two ends: a sender and a receiver, each one worker's FrameCrypto. */
function ends() {
  let now = 0;
  const posts: FromWorker[] = [];
  const sender = new FrameCrypto(() => {}, () => now);
  const receiver = new FrameCrypto((m) => posts.push(m), () => now);
  const shown: Uint8Array[] = [];
  const video = receiver.receiver<number>(
    "video",
    (_, data) => shown.push(data),
  );
  return {
    sender,
    receiver,
    video,
    shown,
    posts,
    tick(ms: number) {
      now += ms;
    },
  };
}

async function send(
  sender: FrameCrypto,
  to: FrameReceiver<number>,
  frame: Uint8Array,
  codec: Codec = "vp8",
): Promise<Uint8Array> {
  const sealed = await sender.encrypt(frame, codec);
  assert.ok(sealed, "encrypted");
  await to.push(0, sealed, codec);
  return sealed;
}

const hasStartCode = (data: Uint8Array) =>
  data.some((_, i) =>
    i >= 2 && data[i - 2] === 0 && data[i - 1] === 0 && data[i] <= 3
  );

Deno.test("the codec: the frame's metadata, else audio is Opus, video H.264 or VP8 by its first bytes", () => {
  assert.equal(codecOf("video", vp8(1), "video/VP8"), "vp8");
  assert.equal(codecOf("video", H264, "video/H264"), "h264");
  assert.equal(codecOf("audio", new Uint8Array(3), "audio/opus"), "opus");
  assert.equal(codecOf("video", vp8(1), "video/VP9"), "other");
  assert.equal(codecOf("video", H264), "h264");
  assert.equal(codecOf("video", H264.subarray(1)), "h264");
  assert.equal(codecOf("video", vp8(1)), "vp8");
  assert.equal(codecOf("video", vp8(1, true)), "vp8");
  assert.equal(codecOf("audio", H264), "opus");
});

Deno.test("VP8: 10 clear bytes of a key frame, 3 of a delta, the rest encrypted, and back", async () => {
  const { sender, receiver, video, shown } = ends();
  await sender.key({ epoch: 0, key: KEY_0 });
  await receiver.key({ epoch: 0, key: KEY_0 });
  const key = vp8(1, true);
  const delta = vp8(2);
  const sealedKey = await send(sender, video, key);
  const sealedDelta = await send(sender, video, delta);
  assert.deepEqual(sealedKey.subarray(0, 10), key.subarray(0, 10));
  assert.notDeepEqual(sealedKey.subarray(10, 20), key.subarray(10, 20));
  assert.deepEqual(sealedDelta.subarray(0, 3), delta.subarray(0, 3));
  assert.notDeepEqual(sealedDelta.subarray(3, 13), delta.subarray(3, 13));
  assert.deepEqual(shown, [key, delta]);
});

Deno.test("H.264: clear up to the slice header, the rest escaped (no start code), and back", async () => {
  const { sender, receiver, video, shown } = ends();
  await sender.key({ epoch: 0, key: KEY_0 });
  await receiver.key({ epoch: 0, key: KEY_0 });
  const sealed = await send(sender, video, H264, "h264");
  const clear = 20; // up to and including the IDR slice's NAL header
  assert.deepEqual(sealed.subarray(0, clear), H264.subarray(0, clear));
  assert.equal(hasStartCode(sealed.subarray(clear - 1)), false);
  assert.deepEqual(shown, [H264]);
});

Deno.test("Opus: nothing clear", async () => {
  const { sender, receiver } = ends();
  await sender.key({ epoch: 0, key: KEY_0 });
  await receiver.key({ epoch: 0, key: KEY_0 });
  const heard: Uint8Array[] = [];
  const audio = receiver.receiver<number>(
    "audio",
    (_, data) => heard.push(data),
  );
  const frame = Uint8Array.from([0xfc, 0xff, 0xfe, 1, 2, 3, 4, 5]);
  const sealed = await sender.encrypt(frame, "opus");
  assert.ok(sealed);
  assert.notEqual(sealed[0], 0xfc);
  assert.equal(epochOf(decodeHeader(sealed, 0)!.kid), 0);
  await audio.push(0, sealed, "opus");
  assert.deepEqual(heard, [frame]);
});

Deno.test("without a key nothing is sent: the frame is dropped, never passed on clear", async () => {
  const { sender } = ends();
  assert.equal(await sender.encrypt(vp8(1, true), "vp8"), undefined);
  // The key of an epoch the page had none for sets nothing either.
  await sender.key({ epoch: 3, key: null });
  assert.equal(await sender.encrypt(vp8(2), "vp8"), undefined);
});

Deno.test("every sender of one worker draws from one counter: no (KID, CTR) twice", async () => {
  const { sender } = ends();
  await sender.key({ epoch: 0, key: KEY_0 });
  const seen = new Set<string>();
  const sealed = await Promise.all(
    Array.from(
      { length: 50 },
      (_, i) => sender.encrypt(vp8(i), i % 2 ? "vp8" : "opus"),
    ),
  );
  for (const [i, frame] of sealed.entries()) {
    const header = decodeHeader(frame!, i % 2 ? 3 : 0)!;
    seen.add(`${header.kid}/${header.ctr}`);
  }
  assert.equal(seen.size, 50);
});

Deno.test("each key setting draws a new KID, even for the same key and epoch", async () => {
  const { sender, receiver, video, shown } = ends();
  await receiver.key({ epoch: 0, key: KEY_0 });
  await sender.key({ epoch: 0, key: KEY_0 });
  const first = await send(sender, video, vp8(1));
  await sender.key({ epoch: 0, key: KEY_0 });
  const second = await send(sender, video, vp8(2));
  const kid = (frame: Uint8Array) => decodeHeader(frame, 3)!.kid;
  assert.notEqual(kid(first), kid(second));
  assert.equal(epochOf(kid(second)), 0);
  assert.equal(shown.length, 2);
});

Deno.test("a wrong key: no frame passed on, 'cannot decrypt' after 30, 'ok' at the first that decrypts", async () => {
  const { sender, receiver, video, shown, posts, tick } = ends();
  await sender.key({ epoch: 0, key: KEY_0 });
  await receiver.key({ epoch: 0, key: WRONG });
  for (let i = 0; i < FAILED_AFTER_FRAMES - 1; i++) {
    await send(sender, video, vp8(i, i === 0));
    tick(10);
  }
  assert.deepEqual(posts, []);
  await send(sender, video, vp8(99));
  assert.deepEqual(posts, [{ ok: false }]);
  assert.equal(shown.length, 0);
  // The page gives the right key: frames show again, and it is said once.
  await receiver.key({ epoch: 0, key: KEY_0 });
  await send(sender, video, vp8(100, true));
  await send(sender, video, vp8(101));
  assert.deepEqual(posts, [{ ok: false }, { ok: true }]);
  assert.equal(shown.length, 2);
});

Deno.test("frames of a clear stream are never passed on", async () => {
  const { receiver, video, shown, posts, tick } = ends();
  await receiver.key({ epoch: 0, key: KEY_0 });
  for (let i = 0; i < 200; i++) {
    const frame = crypto.getRandomValues(new Uint8Array(60));
    frame[0] = 0x31; // a VP8 delta frame's tag
    await video.push(i, frame, "vp8");
    tick(34);
  }
  assert.equal(shown.length, 0);
  assert.deepEqual(posts.filter((p) => "ok" in p), [{ ok: false }]);
  // The page is asked about one made-up epoch at a time, not one per frame.
  const asked = posts.filter((p) => "need" in p).length;
  assert.ok(asked <= 200 * 34 / 2_000 + 1, `asked ${asked} times`);
});

Deno.test("rotation: frames of the new epoch wait for its key, then leave in order", async () => {
  const { sender, receiver, video, shown, posts, tick } = ends();
  await sender.key({ epoch: 0, key: KEY_0 });
  await receiver.key({ epoch: 0, key: KEY_0 });
  await send(sender, video, vp8(1, true));
  await sender.key({ epoch: 1, key: KEY_1 });
  await send(sender, video, vp8(2));
  await send(sender, video, vp8(3));
  assert.deepEqual(posts, [{ need: 1 }]);
  assert.deepEqual(shown, [vp8(1, true)]);
  tick(300);
  await receiver.key({ epoch: 1, key: KEY_1 });
  await video.wake();
  assert.deepEqual(shown, [vp8(1, true), vp8(2), vp8(3)]);
  await send(sender, video, vp8(4));
  assert.equal(shown.length, 4);
  assert.deepEqual(posts, [{ need: 1 }]);
});

Deno.test("rotation: a frame of the old epoch behind a waiting one waits too (order kept)", async () => {
  const { sender, receiver, video, shown } = ends();
  await receiver.key({ epoch: 0, key: KEY_0 });
  const old = new FrameCrypto(() => {});
  await old.key({ epoch: 0, key: KEY_0 });
  await sender.key({ epoch: 1, key: KEY_1 });
  await send(sender, video, vp8(1));
  await send(old, video, vp8(2));
  assert.deepEqual(shown, []);
  await receiver.key({ epoch: 1, key: KEY_1 });
  await video.wake();
  assert.deepEqual(shown, [vp8(1), vp8(2)]);
});

Deno.test("rotation: no key from the page, or none within 1 s: the waiting frames are dropped", async () => {
  const { sender, receiver, video, shown, posts, tick } = ends();
  await receiver.key({ epoch: 0, key: KEY_0 });
  await sender.key({ epoch: 1, key: KEY_1 });
  await send(sender, video, vp8(1));
  await send(sender, video, vp8(2));
  await receiver.key({ epoch: 1, key: null });
  await video.wake();
  assert.deepEqual(shown, []);
  assert.deepEqual(posts, [{ need: 1 }]);
  // Asked again 2 s later; this time the answer never comes.
  tick(2_000);
  await send(sender, video, vp8(3));
  assert.deepEqual(posts, [{ need: 1 }, { need: 1 }]);
  tick(HOLD_MS + 1);
  await send(sender, video, vp8(4));
  // vp8(3) was dropped, vp8(4) waits: the request is still open.
  await receiver.key({ epoch: 1, key: KEY_1 });
  await video.wake();
  assert.deepEqual(shown, [vp8(4)]);
});

Deno.test("the old epoch is accepted 10 s after the new one first decrypted, then not", async () => {
  const { sender, receiver, video, shown, posts, tick } = ends();
  const old = new FrameCrypto(() => {});
  await old.key({ epoch: 0, key: KEY_0 });
  await sender.key({ epoch: 1, key: KEY_1 });
  await receiver.key({ epoch: 0, key: KEY_0 });
  await receiver.key({ epoch: 1, key: KEY_1 });
  await send(old, video, vp8(1));
  await send(sender, video, vp8(2));
  tick(OLD_EPOCH_MS - 1);
  await send(old, video, vp8(3));
  assert.equal(shown.length, 3);
  tick(1);
  await send(old, video, vp8(4));
  await send(sender, video, vp8(5));
  assert.deepEqual(shown.at(-1), vp8(5));
  assert.equal(shown.length, 4);
  // Nobody is asked for the retired epoch's key.
  assert.deepEqual(posts, []);
});

Deno.test("a copy of a frame (two paths) is dropped, and is no failure", async () => {
  const { sender, receiver, video, shown, posts } = ends();
  await sender.key({ epoch: 0, key: KEY_0 });
  await receiver.key({ epoch: 0, key: KEY_0 });
  const sealed = await send(sender, video, vp8(1, true));
  for (let i = 0; i < FAILED_AFTER_FRAMES + 5; i++) {
    await video.push(0, sealed, "vp8");
  }
  assert.equal(shown.length, 1);
  assert.deepEqual(posts, []);
});

/** Two ends keyed alike; the receiver's video counts its `recovered` calls. */
async function recovering() {
  const sender = new FrameCrypto(() => {});
  const receiver = new FrameCrypto(() => {});
  let recovered = 0;
  const shown: number[] = [];
  const video = receiver.receiver<number>(
    "video",
    (n) => shown.push(n),
    () => recovered++,
  );
  await sender.key({ epoch: 0, key: KEY_0 });
  await receiver.key({ epoch: 0, key: KEY_0 });
  return { sender, video, shown, recovered: () => recovered };
}

Deno.test("after a lost frame, the next that decrypts calls recovered (a key frame is asked for)", async () => {
  const { sender, video, shown, recovered } = await recovering();
  await video.push(1, (await sender.encrypt(vp8(1, true), "vp8"))!, "vp8");
  assert.equal(recovered(), 0);
  await video.push(2, vp8(2), "vp8"); // clear: fails
  await video.push(3, (await sender.encrypt(vp8(3), "vp8"))!, "vp8");
  assert.deepEqual(shown, [1, 3]);
  assert.equal(recovered(), 1);
});

Deno.test("a frame older than the replay window is lost, not a copy: the next that decrypts asks for a key frame", async () => {
  const { sender, video, shown, recovered } = await recovering();
  const late = (await sender.encrypt(vp8(1), "vp8"))!;
  // The sender's other connections use up the window meanwhile.
  let last = late;
  for (let i = 0; i < REPLAY_WINDOW; i++) {
    last = (await sender.encrypt(vp8(2), "vp8"))!;
  }
  await video.push(2, last, "vp8");
  await video.push(1, late, "vp8");
  await video.push(3, (await sender.encrypt(vp8(3), "vp8"))!, "vp8");
  assert.deepEqual(shown, [2, 3]);
  assert.equal(recovered(), 1);
});

Deno.test("KIDs made up by the forwarder do not push out a real one (and its replay window): an old frame sent again stays a copy", async () => {
  const { sender, receiver, video, shown } = ends();
  await sender.key({ epoch: 0, key: KEY_0 });
  await receiver.key({ epoch: 0, key: KEY_0 });
  const sealed: Uint8Array[] = [];
  for (let i = 0; i < 10; i++) {
    sealed.push(await send(sender, video, vp8(i, i === 0)));
  }
  assert.equal(shown.length, 10);
  // 20 frames under made-up KIDs of epoch 0 (the real key's epoch).
  for (let i = 0; i < 20; i++) {
    const junk = Uint8Array.from([
      ...vp8(i).subarray(0, 3),
      ...encodeHeader(kidOf(0, randomId()), i),
      ...new Array(24).fill(7),
    ]);
    await video.push(0, junk, "vp8");
  }
  await video.push(0, sealed[5], "vp8");
  assert.equal(shown.length, 10);
  // The same key given again keeps the KIDs and their windows too.
  await receiver.key({ epoch: 0, key: KEY_0.slice() });
  await video.push(0, sealed[6], "vp8");
  assert.equal(shown.length, 10);
  await send(sender, video, vp8(10));
  assert.equal(shown.length, 11);
});
