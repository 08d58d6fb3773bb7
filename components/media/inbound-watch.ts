/**
 * What a viewer watches on a connection's received video over time, a
 * chunk loaded only when one of them is needed, so that a peer-to-peer
 * viewer playing on never loads it:
 *
 * - {@link takeOver}: a connection made while another plays (the SFU's,
 *   or a rebuilt one) takes over once its picture is steady
 *   ({@link untilSteady}).
 * - {@link reportLoss}: a viewer watching through the SFU tells the server
 *   how much of its video its link loses (`viewer-loss`), so that the
 *   server moves it to a smaller simulcast layer within about a second:
 *   Janus's own report (`slowlink`) rides on the viewer's receiver
 *   reports, 0.3-1.9 s after the loss begins (measured), and comes not at
 *   all unless janus.jcfg sets `slowlink_threshold`.
 *
 * It imports nothing (types only): the statistics reader comes from the bundle
 * (frame-watch.ts's), which a static import here would move into a chunk
 * every viewer loads.
 */
import type { PeerLink } from "../session/stream-session.ts";
import type { ViewerPeerOptions } from "../session/viewer-peer.ts";

/** Reads a connection's `inbound-rtp` statistics by kind (frame-watch.ts). */
type ReadVideo = (
  pc: RTCPeerConnection,
) => Promise<Record<string, Record<string, number> | undefined>>;

/** How often a connection waiting to take over checks for decoded frames. */
const TAKEOVER_POLL_MS = 40;
/** How long a new connection's picture size must hold before it takes over. */
const TAKEOVER_STABLE_MS = 300;
/**
 * How long it may take: by default the server gives a switch to the SFU
 * 10 s (SFU_SWITCH_TIMEOUT_MS) before it ends that subscription.
 */
export const TAKEOVER_WAIT_MS = 10_000;

/**
 * Resolves true once `pc`'s decoded picture size held for
 * {@link TAKEOVER_STABLE_MS} with frames still coming (an SFU starts on
 * whichever simulcast layer's keyframe comes first and moves up to its
 * best layer right after, a stall in the picture that stays hidden this
 * way), false once `waiting()` is no longer true or after
 * {@link TAKEOVER_WAIT_MS}. A connection straight from the broadcaster
 * bringing sound and no video (another make's broadcaster sending none) is
 * steady once its sound has come for as long. (One whose video has no
 * frame yet, a camera off, is not: shown, its frameless video would hold
 * the sound too.)
 */
export async function untilSteady(
  pc: RTCPeerConnection,
  read: ReadVideo,
  waiting: () => boolean,
): Promise<boolean> {
  let width = 0;
  let since = 0;
  let from = 0;
  /** Sound without video: when it was first read, and its packets then. */
  let heardAt = 0;
  let heard = 0;
  const deadline = performance.now() + TAKEOVER_WAIT_MS;
  while (waiting() && performance.now() < deadline) {
    const { video, audio } = await read(pc);
    const decoded = video?.framesDecoded;
    const sound = audio?.packetsReceived;
    if (
      sound && !throughSfu.has(pc) &&
      !pc.getReceivers().some(({ track }) => track.kind === "video")
    ) {
      const now = performance.now();
      if (!heardAt) [heardAt, heard] = [now, sound];
      else if (now - heardAt >= TAKEOVER_STABLE_MS && sound > heard) {
        return waiting();
      }
    } else heardAt = 0;
    if (decoded) {
      const now = performance.now();
      if (video.frameWidth !== width) {
        width = video.frameWidth;
        since = now;
        from = decoded;
      } else if (now - since >= TAKEOVER_STABLE_MS) {
        // Frames kept coming, not one key frame and then nothing.
        if (decoded > from) return waiting();
        since = now;
        from = decoded;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, TAKEOVER_POLL_MS));
  }
  return false;
}

/**
 * The rest of a takeover (viewer-peer.ts, whose bytes it keeps out of the
 * bundle): once `pc`'s picture is steady while it still waits, `swap` makes
 * it the viewer's current connection (returning its session and the one it
 * replaced); its stream is shown, the replaced one closed, and the server
 * told (`viewer-playing`). False when it did not take over.
 */
export async function takeOver(
  pc: RTCPeerConnection,
  stream: MediaStream,
  read: ReadVideo,
  waiting: () => boolean,
  swap: () => [string | undefined, RTCPeerConnection | undefined],
  peer: { readonly connection: RTCPeerConnection | undefined },
  options: Pick<ViewerPeerOptions, "onStream" | "onConnectionState">,
  link: Pick<PeerLink, "send" | "streamId">,
): Promise<boolean> {
  // Asked once per track (a connection with sound alone has no video's
  // event to wait for): one watch per connection, the others stand aside.
  if (watching.has(pc)) return true;
  watching.add(pc);
  const steady = await untilSteady(pc, read, waiting);
  watching.delete(pc);
  if (!steady) return false;
  const [session, leaving] = swap();
  options.onConnectionState(pc.connectionState);
  // The old connection plays until the new one is on screen.
  await options.onStream(stream, true);
  // (The peer's #leaving, for its close() meanwhile, is left: closing it
  // again is nothing.)
  leaving?.close();
  // Closed or taken over again meanwhile: nothing to tell.
  if (peer.connection !== pc) return true;
  link.send({
    type: "viewer-playing",
    streamId: link.streamId!,
    session: session ?? "",
  });
  return true;
}

/** Connections whose takeover is being watched. */
const watching = new Set<RTCPeerConnection>();
/**
 * The SFU's connections ({@link reportLoss}'s): Janus forwards sound at
 * once and video from the next key frame, so sound alone there proves no
 * picture is coming.
 */
const throughSfu = new WeakSet<RTCPeerConnection>();

/** How often the connection's video statistics are read. */
export const LOSS_SAMPLE_MS = 250;
/** Samples a report spans: the last second. */
export const LOSS_WINDOW = 4;
/** Fewer video packets lost in the window than this: no report. */
export const LOSS_MIN_PACKETS = 4;
/** Less than this share of the window's packets lost: no report (5%). */
export const LOSS_MIN_SHARE = 0.05;
/** The least time between two reports. */
export const LOSS_REPORT_MS = 500;

/**
 * The last second of one connection's video counts, fed cumulative
 * `packetsLost` and `packetsReceived` each sample: says when a report is
 * due, and with what (lost, received in the window).
 */
export class LossWindow {
  #samples: number[][] = [];
  #reportedAt = Number.NEGATIVE_INFINITY;

  add(
    lost: number,
    received: number,
    now: number,
  ): [lost: number, received: number] | undefined {
    const samples = this.#samples;
    if (samples.push([lost, received]) > LOSS_WINDOW + 1) samples.shift();
    const inWindow = lost - samples[0][0];
    const got = received - samples[0][1];
    if (
      inWindow < LOSS_MIN_PACKETS ||
      inWindow < LOSS_MIN_SHARE * (inWindow + got) ||
      now - this.#reportedAt < LOSS_REPORT_MS
    ) return;
    this.#reportedAt = now;
    return [inWindow, got];
  }
}

/**
 * Samples `pc` with `read` (its video's `inbound-rtp` statistics) until it
 * closes, sending `link`'s server a `viewer-loss` when one is due; and,
 * given the connection's `session` (the SFU's connection played at once,
 * not make before break), `viewer-playing` once it decodes, as a takeover
 * would (an SFU viewer that never says it plays is taken off it).
 */
export function reportLoss(
  pc: RTCPeerConnection,
  read: ReadVideo,
  link: Pick<PeerLink, "send" | "streamId">,
  session?: string | false,
): void {
  throughSfu.add(pc);
  const window = new LossWindow();
  const timer = setInterval(async () => {
    const { video } = await read(pc);
    if (pc.signalingState === "closed") return clearInterval(timer);
    if (session && video?.framesDecoded) {
      link.send({ type: "viewer-playing", streamId: link.streamId!, session });
      session = false;
    }
    const due = video &&
      window.add(video.packetsLost, video.packetsReceived, performance.now());
    if (due) {
      link.send({
        type: "viewer-loss",
        streamId: link.streamId!,
        lost: due[0],
        received: due[1],
      });
    }
  }, LOSS_SAMPLE_MS);
}
