/**
 * The end-to-end encryption worker: one per element, built as a file of
 * its own (`e2ee-worker.js`, scripts/bundles.ts) and started by e2ee.ts.
 * Every `RTCRtpScriptTransform` of the element runs here, senders' and
 * receivers', audio and video, over one {@link FrameCrypto} (so one counter
 * sequence per KID). The page posts keys (`{ epoch, key }`, `key: null`
 * when it has none for an epoch it was asked about); the worker posts
 * `{ need: epoch }` and `{ ok }` (frames decrypt, or "cannot decrypt").
 *
 * @module
 */
import {
  codecOf,
  FrameCrypto,
  type FromWorker,
  type ToWorker,
  type TransformOptions,
} from "./frame-crypto.ts";

/** An encoded audio or video frame, as both browsers give it. */
interface EncodedFrame {
  data: ArrayBuffer;
  getMetadata?(): { mimeType?: string };
}

/** `RTCRtpScriptTransformer` (not in TypeScript's DOM library). */
interface Transformer {
  readonly readable: ReadableStream<EncodedFrame>;
  readonly writable: WritableStream<EncodedFrame>;
  readonly options: TransformOptions;
  generateKeyFrame?(): Promise<unknown>;
  sendKeyFrameRequest?(): Promise<unknown>;
}

/** The worker's global scope, as far as used here. */
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  onrtctransform: ((event: { transformer: Transformer }) => void) | null;
  postMessage(message: FromWorker): void;
};

const frames = new FrameCrypto((message) => scope.postMessage(message));

scope.onmessage = ({ data }) => void frames.key(data);

scope.onrtctransform = ({ transformer }) => {
  const { side, kind, codec } = transformer.options;
  const codecFor = (frame: EncodedFrame, data: Uint8Array) =>
    codecOf(kind, data, frame.getMetadata?.().mimeType || codec);
  const [stream, done] = side === "send"
    ? [sending(transformer, codecFor), () => {}]
    : receiving(transformer, codecFor);
  transformer.readable.pipeThrough(stream).pipeTo(transformer.writable)
    // Errors when the connection closes.
    .catch(() => {})
    .finally(done);
};

type CodecFor = (
  frame: EncodedFrame,
  data: Uint8Array,
) => ReturnType<typeof codecOf>;

/** Encrypts every frame; drops it while there is no key (never sent clear). */
function sending(
  transformer: Transformer,
  codecFor: CodecFor,
): TransformStream<EncodedFrame, EncodedFrame> {
  let dropped = false;
  return new TransformStream({
    async transform(frame, controller) {
      const data = new Uint8Array(frame.data);
      const sealed = await frames.encrypt(data, codecFor(frame, data)).catch(
        (error) => void console.warn("e2ee: a frame was not encrypted", error),
      );
      if (!sealed) {
        dropped = true;
        return;
      }
      // The first frames after a gap refer to dropped ones: a key frame now.
      if (dropped && transformer.options.kind === "video") {
        transformer.generateKeyFrame?.().catch(() => {});
      }
      dropped = false;
      frame.data = buffer(sealed);
      controller.enqueue(frame);
    },
  });
}

/** Decrypts every frame, in order; one that fails never reaches the decoder. */
function receiving(
  transformer: Transformer,
  codecFor: CodecFor,
): [TransformStream<EncodedFrame, EncodedFrame>, () => void] {
  let out: TransformStreamDefaultController<EncodedFrame>;
  const receiver = frames.receiver<EncodedFrame>(
    transformer.options.kind,
    (frame, data) => {
      frame.data = buffer(data);
      // Closed meanwhile: nothing to show it to.
      try {
        out.enqueue(frame);
      } catch { /* closed */ }
    },
    () => {
      if (transformer.options.kind === "video") {
        transformer.sendKeyFrameRequest?.().catch(() => {});
      }
    },
  );
  const stream = new TransformStream<EncodedFrame, EncodedFrame>({
    start(controller) {
      out = controller;
    },
    transform(frame) {
      const data = new Uint8Array(frame.data);
      return receiver.push(frame, data, codecFor(frame, data));
    },
  });
  return [stream, () => receiver.close()];
}

/** The bytes of `data` as an ArrayBuffer of exactly that length. */
function buffer(data: Uint8Array): ArrayBuffer {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
    ? data.buffer as ArrayBuffer
    : data.slice().buffer;
}
