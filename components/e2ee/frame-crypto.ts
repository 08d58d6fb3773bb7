/**
 * What the end-to-end encryption worker (e2ee-worker.ts) does with each
 * encoded frame, without the worker: one SFrame context (sframe.ts) for
 * every sender and receiver of an element, so that all its senders draw
 * from one counter per KID; the page's keys by epoch; and the receive
 * policy (receive-policy.ts). Runs in Deno too (tests/unit/e2ee-frames.test.ts).
 *
 * A sent frame is `clear prefix || SFrame header || ciphertext || tag`
 * (clear-prefix.ts says which bytes stay clear for each codec; H.264's
 * encrypted part is emulation-escaped). A frame is sent only encrypted:
 * without a key it is dropped. A received frame is passed on only
 * decrypted: one that fails is dropped, never given to the decoder.
 *
 * @module
 */
import { decodeHeader, SFrameContext } from "./sframe.ts";
import {
  clearBytes,
  escapeH264,
  type FrameCodec,
  unescapeH264,
} from "./clear-prefix.ts";
import { epochOf, kidOf, randomId } from "./keys.ts";
import {
  EpochWindow,
  FailureWatch,
  HoldQueue,
  KeyRequests,
} from "./receive-policy.ts";

export type MediaKind = "audio" | "video";
/** A codec whose layout we know, or `other`: all of it encrypted. */
export type Codec = FrameCodec | "other";

/** The worker's messages to the page: the key of an epoch is needed; frames decrypt (again) or not. */
export type FromWorker = { need: number } | { ok: boolean };
/** The page's messages to the worker: the key of an epoch, or `null`: the page has none. */
export interface ToWorker {
  epoch: number;
  key: Uint8Array | null;
}

/** Options of each `RTCRtpScriptTransform`, from the page. */
export interface TransformOptions {
  side: "send" | "receive";
  kind: MediaKind;
  /** The codec, where the page knows it (else the frame's metadata, else its bytes, say). */
  codec?: string;
}

/** Decryption KIDs kept at once (a frame that is no SFrame names random ones). */
const MAX_KIDS = 16;

/**
 * The codec of a frame: the `mimeType` its metadata gives (Chromium), or
 * the page's; else audio is Opus (the only audio codec negotiated) and
 * video H.264 if it starts with an Annex B start code, else VP8 (a VP8
 * frame's first byte has its show_frame bit set, never 0). The receiving
 * page offers only VP8 and H.264 under E2EE (e2ee.ts), so the two ends
 * agree even when only one of them has the metadata.
 */
export function codecOf(
  kind: MediaKind,
  data: Uint8Array,
  mimeType?: string,
): Codec {
  if (mimeType) {
    const name = mimeType.slice(mimeType.indexOf("/") + 1).toLowerCase();
    return name === "vp8" || name === "h264" || name === "opus"
      ? name
      : "other";
  }
  if (kind === "audio") return "opus";
  return data[0] === 0 && data[1] === 0 &&
      (data[2] === 1 || (data[2] === 0 && data[3] === 1))
    ? "h264"
    : "vp8";
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a?.length === b.length && a.every((byte, i) => byte === b[i]);
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** What became of a received frame: decrypted, waiting, failed, or a copy of one shown. */
type Opened = Uint8Array | "hold" | "drop" | "copy";

export class FrameCrypto {
  #context = new SFrameContext();
  #post: (message: FromWorker) => void;
  /** The clock (ms), for the policies' deadlines. */
  readonly now: () => number;
  /** The page's base keys by epoch. */
  #keys = new Map<number, Uint8Array>();
  /** Decryption KIDs added (or being added), least recently used first. */
  #kids = new Map<bigint, Promise<void>>();
  /**
   * KIDs a frame authenticated under: a KID made up by whoever forwards
   * the frames (the SFU) pushes out one of those last, so it cannot throw
   * away a real KID's replay window with junk and replay old frames.
   */
  #proven = new Set<bigint>();
  #requests = new KeyRequests();
  #window = new EpochWindow();
  #watches: Record<MediaKind, FailureWatch> = {
    audio: new FailureWatch(),
    video: new FailureWatch(),
  };
  /** Whether "cannot decrypt" was said last. */
  #failed = false;
  #receivers = new Set<FrameReceiver<unknown>>();

  constructor(
    post: (message: FromWorker) => void,
    now = () => performance.now(),
  ) {
    this.#post = post;
    this.now = now;
  }

  /**
   * The page's key for `epoch` (or `null`: it has none). The latest key
   * the page gave also encrypts from now on, under a new random KID.
   * Keys are taken in the order given: derivations finish in any order,
   * and a rotation must not be undone by the key before it.
   */
  key(message: ToWorker): Promise<void> {
    return this.#keyChain = this.#keyChain.then(() => this.#key(message));
  }

  #keyChain: Promise<void> = Promise.resolve();

  async #key({ epoch, key }: ToWorker): Promise<void> {
    this.#requests.answered(epoch);
    if (key) {
      const before = this.#keys.get(epoch);
      this.#keys.set(epoch, key);
      // Another key for this epoch: its KIDs are derived anew (the same
      // key again keeps them, and their replay windows).
      for (const kid of [...this.#kids.keys()]) {
        if (epochOf(kid) === epoch && !sameBytes(before, key)) {
          this.#forget(kid);
        }
      }
      await this.#context.setEncryptionKey(kidOf(epoch, randomId()), key);
    }
    for (const receiver of this.#receivers) receiver.wake();
  }

  /** `data` encrypted, or undefined: no key yet (the frame is dropped). */
  async encrypt(
    data: Uint8Array,
    codec: Codec,
  ): Promise<Uint8Array | undefined> {
    if (this.#context.encryptionKid === undefined) return undefined;
    const clear = codec === "other" ? 0 : clearBytes(codec, data);
    const sealed = await this.#context.encrypt(data, clear);
    return codec === "h264"
      ? join(sealed.subarray(0, clear), escapeH264(sealed.subarray(clear)))
      : sealed;
  }

  /**
   * A receiver's frames, in order: `emit` gets each decrypted one,
   * `recovered` is called when one decrypts after others were lost (a
   * video decoder then needs a key frame).
   */
  receiver<T>(
    kind: MediaKind,
    emit: (frame: T, data: Uint8Array) => void,
    recovered: () => void = () => {},
  ): FrameReceiver<T> {
    const receiver = new FrameReceiver<T>(this, kind, emit, recovered);
    // "Cannot decrypt" holds for new connections too (a repair, another
    // stream): only a frame that decrypts ends it.
    this.#receivers.add(receiver as FrameReceiver<unknown>);
    return receiver;
  }

  /** @internal The receiver's stream ended. */
  closed(receiver: FrameReceiver<unknown>): void {
    this.#receivers.delete(receiver);
  }

  /** @internal A frame that was lost (dropped while held, or failed). */
  lost(kind: MediaKind): void {
    if (this.#watches[kind].fail(this.now())) this.#status();
  }

  /** @internal Decrypts one received frame, or says it waits or is dropped. */
  async open(data: Uint8Array, codec: Codec, kind: MediaKind): Promise<Opened> {
    const now = this.now();
    const clear = codec === "other" ? 0 : clearBytes(codec, data);
    const sframe = codec === "h264"
      ? join(data.subarray(0, clear), unescapeH264(data.subarray(clear)))
      : data;
    const header = decodeHeader(sframe, clear);
    const epoch = header && epochOf(header.kid);
    if (!header || epoch === undefined || epoch < this.#retire(now)) {
      this.lost(kind);
      return "drop";
    }
    const key = this.#keys.get(epoch);
    if (!key) {
      if (this.#requests.waiting(epoch, now)) return "hold";
      if (this.#requests.ask(epoch, now)) {
        this.#post({ need: epoch });
        return "hold";
      }
      this.lost(kind);
      return "drop";
    }
    await this.#added(header.kid, key);
    const result = await this.#context.decrypt(sframe, clear);
    if ("error" in result) {
      // A copy of a frame already shown (two paths during a switch) is no failure.
      if (result.error === "replayed") return "copy";
      this.lost(kind);
      return "drop";
    }
    // (Not if it was forgotten while this frame decrypted.)
    if (this.#kids.has(header.kid)) this.#proven.add(header.kid);
    this.#window.decrypted(epoch, now);
    if (this.#watches[kind].ok()) this.#status();
    return result.frame;
  }

  /**
   * Adds `kid`'s decryption key the first time, keeping the
   * {@link MAX_KIDS} last used: the least recently used one no frame
   * authenticated under goes first.
   */
  #added(kid: bigint, key: Uint8Array): Promise<void> {
    let added = this.#kids.get(kid);
    this.#kids.delete(kid);
    if (!added) {
      if (this.#kids.size >= MAX_KIDS) {
        const kids = [...this.#kids.keys()];
        this.#forget(kids.find((k) => !this.#proven.has(k)) ?? kids[0]);
      }
      added = this.#context.addDecryptionKey(kid, key);
    }
    this.#kids.set(kid, added);
    return added;
  }

  #forget(kid: bigint): void {
    this.#kids.delete(kid);
    this.#proven.delete(kid);
    this.#context.removeDecryptionKey(kid);
  }

  /** Drops the keys of epochs the window closed on; returns the lowest accepted. */
  #retire(now: number): number {
    const floor = this.#window.floor(now);
    for (const epoch of this.#keys.keys()) {
      if (epoch < floor) this.#keys.delete(epoch);
    }
    for (const kid of [...this.#kids.keys()]) {
      if (epochOf(kid)! < floor) this.#forget(kid);
    }
    return floor;
  }

  /** Says "cannot decrypt" (or that it works again) when that changed. */
  #status(): void {
    const failed = this.#watches.audio.failed || this.#watches.video.failed;
    if (failed === this.#failed) return;
    this.#failed = failed;
    this.#post({ ok: !failed });
  }
}

/**
 * One receiving transform's frames, in arrival order: a frame whose
 * epoch's key is being asked for waits, and every frame behind it too (a
 * decoder needs them in order); they leave decrypted once the key came,
 * or are dropped after a second (receive-policy.ts).
 */
export class FrameReceiver<T> {
  #crypto: FrameCrypto;
  #kind: MediaKind;
  #emit: (frame: T, data: Uint8Array) => void;
  #recovered: () => void;
  #queue = new HoldQueue<{ frame: T; data: Uint8Array; codec: Codec }>();
  #chain: Promise<void> = Promise.resolve();
  #lost = false;

  constructor(
    crypto: FrameCrypto,
    kind: MediaKind,
    emit: (frame: T, data: Uint8Array) => void,
    recovered: () => void,
  ) {
    this.#crypto = crypto;
    this.#kind = kind;
    this.#emit = emit;
    this.#recovered = recovered;
  }

  /** A frame arrived; settles once it (and any before it) left or waits. */
  push(frame: T, data: Uint8Array, codec: Codec): Promise<void> {
    const dropped = this.#queue.push(
      { frame, data, codec },
      this.#crypto.now(),
    );
    for (const _ of dropped) this.#lose();
    return this.wake();
  }

  /** Tries the waiting frames again (a key came). */
  wake(): Promise<void> {
    return this.#chain = this.#chain.then(() => this.#drain()).catch(
      (error) => console.warn("e2ee: a received frame failed", error),
    );
  }

  close(): void {
    this.#crypto.closed(this as FrameReceiver<unknown>);
  }

  async #drain(): Promise<void> {
    for (const _ of this.#queue.expired(this.#crypto.now())) this.#lose();
    for (let next = this.#queue.peek(); next; next = this.#queue.peek()) {
      const opened = await this.#crypto.open(next.data, next.codec, this.#kind);
      if (opened === "hold") return;
      this.#queue.shift();
      if (opened === "drop") this.#lost = true;
      if (typeof opened === "string") continue;
      this.#emit(next.frame, opened);
      if (this.#lost) {
        this.#lost = false;
        this.#recovered();
      }
    }
  }

  #lose(): void {
    this.#lost = true;
    this.#crypto.lost(this.#kind);
  }
}
