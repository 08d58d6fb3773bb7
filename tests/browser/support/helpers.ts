/// <reference types="npm:@types/mocha@10.0.10" />
/** Shared pieces of the browser tests: servers, frames, states, counters. */
import { executeServerCommand } from "@web/test-runner-commands";

export const DEADLINE_MS = 20_000;

/** A real signaling server; with `secret`, one that requires stream tokens. */
export async function startSignaling(
  secret?: string,
): Promise<{ url: string; port: number }> {
  return (await executeServerCommand("signaling-start", { secret })) as {
    url: string;
    port: number;
  };
}

/** A token from the server side (as a shop's backend would mint it). */
export async function mintToken(
  port: number,
  claims: { sub: string; stream: string; role: "broadcaster" | "viewer" },
  ttlSeconds = 3600,
): Promise<string> {
  return (await executeServerCommand("mint-token", {
    port,
    claims,
    ttlSeconds,
  })) as string;
}

/**
 * Restarts the server on `port` on the same STATE_DIR (its resume key
 * kept), or with `rotateKey` after deleting the key: every claim refused.
 */
export async function restartSignaling(
  port: number,
  options: { rotateKey?: boolean } = {},
): Promise<void> {
  await executeServerCommand("signaling-restart", { port, ...options });
}

export async function stopSignaling(port: number): Promise<void> {
  await executeServerCommand("signaling-stop", { port });
}

/** The warn lines of `event` the server on `port` wrote so far. */
export async function serverLogs(
  port: number,
  event: string,
): Promise<Record<string, unknown>[]> {
  return (await executeServerCommand("signaling-logs", {
    port,
    event,
  })) as Record<string, unknown>[];
}

/**
 * A failed test's values as text when a structured clone cannot carry them
 * (Firefox cannot clone a MediaStreamTrack): the runner sends every result
 * through one, and a report it cannot send is lost, the run then waiting
 * out testsFinishTimeout (10 min) instead of failing. Every page that
 * loads these helpers (a root hook).
 */
afterEach(function () {
  const error = this.currentTest?.err as
    | { actual?: unknown; expected?: unknown }
    | undefined;
  for (const key of ["actual", "expected"] as const) {
    try {
      if (error) structuredClone(error[key]);
    } catch {
      // (String() throws on an object without a prototype.)
      try {
        error![key] = String(error![key]);
      } catch {
        error![key] = Object.prototype.toString.call(error![key]);
      }
    }
  }
});

/** Rejects after `ms` with `what` in the message, so a hang names itself. */
export function within<T>(
  promise: Promise<T>,
  what: string | (() => string),
  ms = DEADLINE_MS,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Described at the deadline, so it tells the state it ended in.
        const described = typeof what === "string" ? what : what();
        reject(new Error(`Timed out waiting for ${described}`));
      }, ms);
    }),
  ]);
}

/** Resolves once `count` new frames have been presented by `video`. */
export function frames(video: HTMLVideoElement, count = 5): Promise<number> {
  return within(
    new Promise((resolve) => {
      let seen = 0;
      const next = () => {
        if (++seen >= count) resolve(video.videoWidth);
        else video.requestVideoFrameCallback(next);
      };
      video.requestVideoFrameCallback(next);
    }),
    `${count} frames`,
  );
}

interface StatefulElement extends HTMLElement {
  state: string;
}

/** Every state `element` takes from now on, in order (its `live-state-change`s). */
export function statesOf(element: StatefulElement): string[] {
  const states: string[] = [];
  element.addEventListener(
    "live-state-change",
    () => states.push(element.state),
  );
  return states;
}

/** Resolves when `element.state` is `state` (now or after a `live-state-change`). */
export function stateOf(
  element: StatefulElement,
  state: string,
): Promise<void> {
  if (element.state === state) return Promise.resolve();
  return within(
    new Promise((resolve) => {
      const listener = () => {
        if (element.state !== state) return;
        element.removeEventListener("live-state-change", listener);
        resolve();
      };
      element.addEventListener("live-state-change", listener);
    }),
    () => `${element.localName} to be ${state} (is ${element.state})`,
  );
}

/** The `<video>` inside a viewer or broadcaster. */
export function videoOf(element: HTMLElement): HTMLVideoElement {
  return element.shadowRoot!.querySelector("video")!;
}

/**
 * Counts RTCPeerConnections created and closed, camera/microphone tracks
 * started and stopped, and WebSockets opened, from now on in this page.
 */
export function countResources() {
  const counts = {
    pcsOpened: 0,
    pcsClosed: 0,
    tracksStarted: 0,
    tracksStopped: 0,
  };
  const pcs: RTCPeerConnection[] = [];
  const Original = globalThis.RTCPeerConnection;
  class Counted extends Original {
    constructor(config?: RTCConfiguration) {
      super(config);
      counts.pcsOpened++;
      pcs.push(this);
    }
    override close() {
      if (this.signalingState !== "closed") counts.pcsClosed++;
      super.close();
    }
  }
  globalThis.RTCPeerConnection = Counted;
  const tracks: MediaStreamTrack[] = [];
  const originalGum = navigator.mediaDevices.getUserMedia.bind(
    navigator.mediaDevices,
  );
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await originalGum(constraints);
    for (const track of stream.getTracks()) {
      counts.tracksStarted++;
      tracks.push(track);
      const stop = track.stop.bind(track);
      track.stop = () => {
        if (track.readyState !== "ended") counts.tracksStopped++;
        stop();
      };
    }
    return stream;
  };
  const OriginalSocket = globalThis.WebSocket;
  const sockets: WebSocket[] = [];
  /** Every message any of them received, parsed, in order. */
  const received: Record<string, unknown>[] = [];
  class CountedSocket extends OriginalSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
      this.addEventListener("message", ({ data }) => {
        try {
          received.push(JSON.parse(data));
        } catch {
          // Not JSON: not a protocol message to count.
        }
      });
    }
  }
  globalThis.WebSocket = CountedSocket;
  return {
    counts,
    pcs,
    tracks,
    sockets,
    received,
    restore() {
      globalThis.RTCPeerConnection = Original;
      globalThis.WebSocket = OriginalSocket;
      navigator.mediaDevices.getUserMedia = originalGum;
    },
  };
}

/** `pc`'s decoded video frames so far. */
export async function decoded(pc: RTCPeerConnection): Promise<number> {
  let count = 0;
  (await pc.getStats()).forEach((entry) => {
    if (entry.type === "inbound-rtp" && entry.kind === "video") {
      count = entry.framesDecoded;
    }
  });
  return count;
}

/**
 * Resolves once `pc` has decoded `count` more video frames (from now),
 * read from its statistics: a paused or hidden video presents none.
 */
export async function decodedMore(
  pc: RTCPeerConnection,
  count: number,
  what: string,
): Promise<void> {
  const from = await decoded(pc);
  await within(
    (async () => {
      while (await decoded(pc) < from + count) {
        await new Promise(requestAnimationFrame);
      }
    })(),
    what,
  );
}

/**
 * Resolves once `check()` holds, checked every animation frame: for state
 * that changes without an event (a broadcaster's peer connections).
 */
export function eventually(
  check: () => boolean,
  what: string | (() => string),
): Promise<void> {
  // Not polled past the deadline: a check of a test that failed would run
  // on (and throw, its element gone) inside the next test.
  let over = false;
  return within(
    new Promise<void>((resolve, reject) => {
      const poll = () => {
        if (over) return;
        try {
          if (check()) resolve();
          else requestAnimationFrame(poll);
        } catch (error) {
          reject(error);
        }
      };
      poll();
    }),
    what,
  ).finally(() => over = true);
}

/** Resolves on the next `type` event from `target`. */
export function nextEvent<E extends Event = Event>(
  target: EventTarget,
  type: string,
): Promise<E> {
  return within(
    new Promise((resolve) =>
      target.addEventListener(type, (e) => resolve(e as E), { once: true })
    ),
    `${type} event`,
  );
}

/** Removes every element the tests added (after each test: nothing left running). */
export function removeLiveElements(): void {
  for (
    const element of document.querySelectorAll("live-viewer, live-broadcaster")
  ) element.remove();
}

/** A `<live-viewer>` appended to the page, watching `streamId`. */
export function addViewer(
  url: string,
  streamId: string,
  attributes: Record<string, string> = {},
) {
  const element = document.createElement("live-viewer");
  element.setAttribute("signaling-url", url);
  element.setAttribute("stream-id", streamId);
  element.setAttribute("ice-servers", "[]");
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, value);
  }
  document.body.append(element);
  return element;
}

/** A `<live-broadcaster>` appended to the page, not started. */
export function addBroadcaster(url: string, streamId: string) {
  const element = document.createElement("live-broadcaster");
  element.setAttribute("signaling-url", url);
  element.setAttribute("stream-id", streamId);
  element.setAttribute("ice-servers", "[]");
  document.body.append(element);
  return element;
}

export function newStreamId(): string {
  return `order-${crypto.randomUUID()}`;
}

/**
 * A fresh server, a live `<live-broadcaster>` and one `<live-viewer>`
 * presenting its picture (frames of a non-zero width): where most tests of
 * a fault or a removal start.
 */
export async function onePlaying() {
  const { url, port } = await startSignaling();
  const streamId = newStreamId();
  const broadcaster = addBroadcaster(url, streamId);
  await broadcaster.start();
  const viewer = addViewer(url, streamId);
  await stateOf(viewer, "live");
  const width = await frames(videoOf(viewer));
  if (!(width > 0)) throw new Error(`frames ${width} pixels wide`);
  return { url, port, streamId, broadcaster, viewer };
}
