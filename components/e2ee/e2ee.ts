/**
 * End-to-end encryption on the page's side, a chunk the element loads only
 * once it is given `e2eeKey` or `e2eeKeyProvider` (stream-session.ts): the
 * worker (e2ee-worker.ts) and an `RTCRtpScriptTransform` on every sender
 * and receiver of every connection the element makes; the page's keys,
 * checked (keys.ts) and handed to the worker; the provider asked for the
 * key of an epoch the worker met. Nothing here imports a value from the
 * element bundles (esbuild would make that a chunk they load at once):
 * what it needs of the element comes in as arguments.
 *
 * @module
 */
import type { ReactiveController, ReactiveControllerHost } from "lit";
import type { FromWorker, ToWorker } from "./frame-crypto.ts";
import type { Role } from "../session/error-policy.ts";
import {
  type E2eeKey,
  type E2eeKeyProvider,
  type EpochKey,
  parseKey,
} from "./keys.ts";

/** The element, as far as read here. */
export interface E2eeHost extends ReactiveControllerHost {
  readonly streamId: string | null;
  readonly e2eeKey?: E2eeKey | null;
  readonly e2eeKeyProvider?: E2eeKeyProvider | null;
  /** The broadcaster's: a standard WHIP endpoint cannot be encrypted to. */
  readonly whipUrl?: string | null;
  /** The viewer's: frames decrypt (no argument) or not (why). */
  onDecrypt?(failure?: string): void;
}

/** The element's session. */
export interface E2eeLink {
  /** Applies the error policy (a fatal code closes the session). */
  report(code: string, message: string, cause?: unknown): void;
}

/** A code and message for the session's error policy. */
type Refusal = [code: string, message: string];

/**
 * Codecs left out under E2EE: video other than what clear-prefix.ts lays
 * out; audio RED (Chromium and Firefox wrap redundant Opus around or
 * inside the transform differently).
 */
const UNKNOWN_LAYOUT: Record<string, RegExp> = {
  video: /\/(?:VP9|AV1|H265)$/i,
  audio: /\/red$/i,
};

export class E2ee implements ReactiveController {
  #host: E2eeHost;
  #link: E2eeLink;
  #worker: Worker | undefined;
  /** Every key the page gave, for a worker started again. */
  #keys = new Map<number, Uint8Array>();
  /** The `e2eeKey` value read last, and why it is not a key (if it is not). */
  #given: unknown;
  #invalid: string | undefined;
  /** The worker did not start. */
  #broken: string | undefined;
  /** Why nothing may be sent or joined now, as last reported. */
  #refusal: Refusal | undefined;
  /**
   * hostUpdate reported it within this task (the chunk's first check, a
   * join waiting on it): that join's ready() does not report it again.
   */
  #told = false;
  /** The broadcaster's: it encrypts, so it needs a key before anything goes out. */
  #sends: boolean;
  /** Only a provider: its answer for epoch 0, while asked. */
  #first: Promise<unknown> | undefined;
  /** A sender whose provider gave no key (and the page none). */
  #noKey = false;

  /** The broadcaster's sends (its role compared here, in the chunk). */
  constructor(host: E2eeHost, link: E2eeLink, role: Role) {
    const sends = role === "broadcaster";
    this.#host = host;
    this.#link = link;
    this.#sends = sends;
    host.addController(this);
    this.hostUpdate();
    // Only a provider: the first epoch comes from it.
    if (!this.#keys.size && host.e2eeKeyProvider) this.#askFirst();
    // A broadcaster's worker at once (not for an element removed while the
    // chunk loaded: ready() then). A viewer's once its join is out
    // (joined()): creating it takes ms of the main thread, which a fresh
    // page is short of until then (the socket's open waits behind it), and
    // nothing needs it before the offer.
    if (
      sends && !this.#refusal &&
      (host as Partial<Element>).isConnected !== false
    ) {
      this.#worker = this.#start();
      // The first ask takes ms (codec factories): not at the first viewer.
      ["audio", "video"].forEach(knownCodecs);
    }
  }

  /**
   * Before the session announces, joins or publishes: this, or undefined
   * when it must not (the refusal reported again: it closes the session,
   * or fails the broadcaster's WHIP publish, so nothing goes out). A
   * broadcaster with only a provider waits for its key: live without one
   * would send nothing (frames are never sent clear), so a provider that
   * gives none fails it (`e2ee-key-invalid`) and a try again asks again.
   */
  async ready(): Promise<this | undefined> {
    if (this.#sends && !this.#keys.size && this.#host.e2eeKeyProvider) {
      await this.#askFirst();
      this.#noKey = !this.#keys.size;
      // Reported once, by hostUpdate (even if it was the same last time).
      this.#refusal = undefined;
      this.hostUpdate();
    }
    // A refusal hostUpdate has just reported (the chunk loaded while a
    // join waited for it) is not reported again: one live-error.
    const told = this.#told;
    this.#told = false;
    if (!this.#refusal) {
      // Before the first connection (again after the element was moved):
      // its module and the key's derivation are done before the first
      // frame (a sender drops frames until then).
      if (this.#sends) this.#worker ??= this.#start();
      return this;
    }
    if (!told) this.#link.report(...this.#refusal);
  }

  /**
   * The viewer's join is out: its worker starts now, while the offer is on
   * its way (its module and the key's derivation done before the first
   * frame: the decoder would wait for the next key frame).
   */
  joined(): void {
    if (!this.#refusal) this.#worker ??= this.#start();
  }

  #askFirst(): Promise<unknown> {
    return this.#first ??= this.#ask(0).finally(() => this.#first = undefined);
  }

  hostDisconnected(): void {
    // Its connections are closed; a new worker comes with the next one.
    this.#worker?.terminate();
    this.#worker = undefined;
  }

  /**
   * Before each render of the element: reads `e2eeKey` again, and reports
   * a refusal the first time it holds.
   */
  hostUpdate(): void {
    const host = this.#host;
    const given = host.e2eeKey;
    // Removing the key keeps the last one: a page that gave a key wants encryption.
    if (given != null && given !== this.#given) {
      this.#given = given;
      this.#invalid = undefined;
      try {
        this.#install(parseKey(given));
      } catch (error) {
        this.#invalid = `e2eeKey: ${(error as Error).message}`;
      }
    }
    const refusal: Refusal | undefined =
      typeof RTCRtpScriptTransform === "undefined"
        ? ["e2ee-unsupported", "This browser has no RTCRtpScriptTransform"]
        : !globalThis.crypto?.subtle
        // WebCrypto needs a secure context: the page is plain http.
        ? ["e2ee-unsupported", "End-to-end encryption needs an https page"]
        : this.#broken
        ? ["e2ee-unsupported", this.#broken]
        : host.whipUrl
        ? [
          "e2ee-unsupported",
          "whip-url publishes to a standard endpoint: it cannot be end-to-end encrypted",
        ]
        : this.#invalid
        ? ["e2ee-key-invalid", this.#invalid]
        : this.#noKey && !this.#keys.size
        ? ["e2ee-key-invalid", "e2eeKeyProvider gave no key to encrypt with"]
        : undefined;
    if (refusal?.[1] === this.#refusal?.[1]) return;
    this.#refusal = refusal;
    if (refusal) {
      this.#link.report(...refusal);
      // Only for the ready() of the same task: a later one (a session
      // opened again, for another stream) reports it to its own session.
      this.#told = true;
      setTimeout(() => this.#told = false);
    }
  }

  /**
   * Encrypts every sender and decrypts every receiver of `pc`: senders as
   * they are added, receivers as they appear (the `track` event, before
   * any frame).
   *
   * A sender's transform is set inside `addTransceiver` (the element's
   * code adds every sender that way): Chromium (156) ignores one set after
   * the offer is made, and sends that track's frames clear. A sending
   * transceiver found without one when the offer is made (added another
   * way) is stopped, never sent clear. While refused (no transforms in
   * this browser, say), a connection is closed at once.
   */
  attach(pc: RTCPeerConnection): void {
    if (this.#refusal) return pc.close();
    const worker = this.#worker ??= this.#start();
    const add = pc.addTransceiver.bind(pc);
    pc.addTransceiver = (trackOrKind, init) => {
      const transceiver = add(trackOrKind, init);
      if (transceiver.direction.startsWith("send")) {
        const { kind } = transceiver.receiver.track;
        transceiver.sender.transform = new RTCRtpScriptTransform(worker, {
          side: "send",
          kind,
        });
        offerKnownCodecs(transceiver, kind);
      }
      return transceiver;
    };
    pc.addEventListener("signalingstatechange", () => {
      for (const transceiver of pc.getTransceivers()) {
        if (
          transceiver.direction.startsWith("send") &&
          !transceiver.sender.transform
        ) {
          console.error("live-widgets: a sender without encryption, stopped");
          transceiver.stop();
        }
      }
    });
    // Not the answerer's codecs: it answers within the offer, and Firefox
    // (153) answers a Chromium offer unparseably once they are set.
    pc.addEventListener("track", ({ receiver, track }) => {
      receiver.transform ??= new RTCRtpScriptTransform(worker, {
        side: "receive",
        kind: track.kind,
      });
    });
  }

  #install({ epoch, key }: EpochKey): void {
    this.#keys.set(epoch, key);
    this.#post({ epoch, key });
  }

  #post(message: ToWorker): void {
    this.#worker?.postMessage(message);
  }

  #start(): Worker {
    let worker: Worker;
    try {
      // The literal form, which bundlers (Vite, webpack) recognise and emit.
      worker = new Worker(new URL("./e2ee-worker.js", import.meta.url), {
        type: "module",
      });
    } catch {
      // A worker's script must come from the page's origin, and the element
      // may come from another (`<script src="https://live.example.com/…">`):
      // a one-line module of the page's origin imports ours (served with
      // CORS). A page with a CSP then needs `worker-src blob:`; serving the
      // bundles from the page's origin needs nothing.
      const url = new URL("./e2ee-worker.js", import.meta.url).href;
      const shim = new Blob([`import ${JSON.stringify(url)};`], {
        type: "text/javascript",
      });
      // Not revoked: the worker may fetch it after this returns.
      worker = new Worker(URL.createObjectURL(shim), { type: "module" });
    }
    worker.onmessage = ({ data }: MessageEvent<FromWorker>) => {
      if ("need" in data) void this.#ask(data.need);
      else {
        this.#host.onDecrypt?.(
          data.ok
            ? undefined
            : "Frames do not decrypt with the key this page has (or the stream is not end-to-end encrypted)",
        );
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#broken = `The end-to-end encryption worker failed: ${
        event.message || "not loaded"
      }`;
      this.hostUpdate();
    };
    for (const [epoch, key] of this.#keys) worker.postMessage({ epoch, key });
    return worker;
  }

  /** Asks the page's provider for `epoch`'s key; tells the worker what came. */
  async #ask(epoch: number): Promise<void> {
    const { e2eeKeyProvider: provider, streamId } = this.#host;
    if (provider && streamId) {
      try {
        // A bare key is the epoch asked for.
        const given = parseKey(await provider(streamId, epoch), epoch);
        this.#install(given);
        if (given.epoch === epoch) return;
      } catch (error) {
        console.warn("live-widgets: e2eeKeyProvider failed", error);
      }
    }
    this.#post({ epoch, key: null });
  }
}

/**
 * The sender offers only video codecs whose frames both ends lay out alike
 * (VP8, H.264; frame-crypto.ts's codecOf), so a receiver without the
 * frame's codec in its metadata (Firefox) finds it from the bytes.
 */
function offerKnownCodecs(transceiver: RTCRtpTransceiver, kind: string): void {
  const codecs = knownCodecs(kind);
  try {
    if (codecs) transceiver.setCodecPreferences(codecs);
  } catch {
    // An older browser: the offer's order (VP8 first) decides.
  }
}

/** The browser's codecs of `kind` whose layout we know: asked once. */
const known = new Map<string, RTCRtpCodec[] | undefined>();
function knownCodecs(kind: string): RTCRtpCodec[] | undefined {
  if (!known.has(kind)) {
    known.set(
      kind,
      RTCRtpReceiver.getCapabilities(kind)?.codecs.filter((c) =>
        !UNKNOWN_LAYOUT[kind]?.test(c.mimeType)
      ),
    );
  }
  return known.get(kind);
}
