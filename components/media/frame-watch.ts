/**
 * Whether the viewer's video really moves: the connection's state says a
 * path exists, not that frames arrive. A frame is seen through
 * `requestVideoFrameCallback` while the page is visible, and through
 * `getStats()` (`framesDecoded`) while it is hidden or the video paused (no
 * callbacks there). A stall whose media still arrives is told apart.
 */
export type Frames = "none" | "flowing" | "stalled";

/**
 * No new frame for this long: the picture is frozen. With the tick below a
 * frozen picture shows as live for at most ~1.45 s (issue 11: ≤ 1.5 s).
 */
export const STALL_AFTER_MS = 1_200;
/** How often stalls are checked (and, in hidden pages, frames counted). */
const TICK_MS = 250;

export interface FrameWatchOptions {
  video(): HTMLVideoElement | null;
  connection(): RTCPeerConnection | undefined;
  onChange(frames: Frames): void;
  /**
   * Stalled, and media arrives with no frame decoded, two ticks in a row: the
   * decoder waits for a key frame, whose request may have gone out on a
   * path that was dead then (Chromium asks again only after 3 s). Once
   * per stall.
   */
  onStarved(): void;
  /**
   * `false`: sound arrives and no video on the broadcaster's own connection
   * (its video stopped; counted as frames). `true`: video packets arrive
   * again on a connection whose stream is shown without video (its video,
   * frameless then, set aside): show it again.
   */
  onVideo(back: boolean): void;
}

/**
 * Connections straight from the broadcaster (not the SFU's, not WHEP's):
 * on those alone sound arriving without video means the broadcaster stopped
 * its video. Through a server, video held or lost there is repaired.
 */
export const direct = new WeakSet<RTCPeerConnection>();

export class FrameWatch {
  #options: FrameWatchOptions;
  #frames: Frames = "none";
  #lastFrameAt = 0;
  #decoded = -1;
  #packets = -1;
  /** Audio packets at the last reading: does sound arrive while no video does? */
  #heard?: number;
  /** Video packets at the last reading, whether the video is shown or not. */
  #pictures = Infinity;
  /** Readings with sound since the last video packet. */
  #unseen = 0;
  /** Ticks of the current stall with packets and no frame. */
  #starved = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Bumped by start/stop: a callback of an earlier watch does nothing. */
  #generation = 0;

  constructor(options: FrameWatchOptions) {
    this.#options = options;
  }

  /**
   * Watches the video from its next frame on: a new stream is `none` until
   * then, unless it takes over from one that was flowing (`takeover`): that
   * picture stays up meanwhile, and a stall still shows.
   */
  start(takeover = false): void {
    if (takeover) this.#halt();
    else this.stop();
    const generation = this.#generation;
    this.#timer = setInterval(() => this.#tick(generation), TICK_MS);
    const video = this.#options.video();
    if (!video?.requestVideoFrameCallback) return;
    const loop = () => {
      if (generation !== this.#generation) return;
      this.#frame();
      // Counted again from a fresh reading if it stalls.
      this.#decoded = -1;
      video.requestVideoFrameCallback(loop);
    };
    video.requestVideoFrameCallback(loop);
  }

  stop(): void {
    this.#halt();
    this.#set("none");
  }

  #halt(): void {
    this.#generation++;
    clearInterval(this.#timer);
    // Another connection's counters from here on.
    this.#decoded = this.#packets = this.#heard = -1;
    this.#pictures = Infinity;
    this.#starved = this.#unseen = 0;
  }

  #frame(): void {
    this.#lastFrameAt = performance.now();
    this.#starved = 0;
    this.#set("flowing");
  }

  async #tick(generation: number): Promise<void> {
    const video = this.#options.video();
    const stalled = this.#frames === "stalled";
    // No frame for a tick, or none yet: the stats say why (early, so two
    // readings are taken well before a stall).
    const quiet = performance.now() - this.#lastFrameAt > TICK_MS;
    // A stream without video (another make's broadcaster sending sound
    // alone) moves while its audio packets arrive: they count as frames.
    const sound =
      (video?.srcObject as MediaStream | null)?.getVideoTracks().length === 0;
    // A paused video (picture-in-picture's button, a media key) presents
    // nothing while the stream goes on: the person's pause is no stall.
    // One the browser would not start (autoplay refused) is not live yet.
    const counted = document.hidden || !video?.requestVideoFrameCallback ||
      (sound || video.paused) && (!video.paused || this.#frames !== "none");
    if (counted || quiet) {
      const connection = this.#options.connection()!;
      const { [sound ? "audio" : "video"]: stats, audio, video: picture } =
        await inbound(connection);
      if (generation !== this.#generation) return;
      const pictures = picture?.packetsReceived ?? 0;
      if (sound && pictures > this.#pictures) {
        this.#options.onVideo(true);
        // Shown again, the watch starts afresh: this reading is done.
        if (generation !== this.#generation) return;
      }
      this.#pictures = pictures;
      const {
        packetsReceived: packets = -1,
        framesDecoded: decoded = sound ? packets : -1,
      } = stats ?? {};
      const heard = audio?.packetsReceived;
      const fresh = decoded > this.#decoded;
      if (fresh) {
        // The first reading is a baseline, not a frame.
        if (counted && this.#decoded >= 0) this.#frame();
        this.#decoded = decoded;
      }
      // Packets and no frame two ticks in a row: told once per stall.
      if (stalled && !fresh && packets > this.#packets) {
        if (++this.#starved === 2) this.#options.onStarved();
      } else if (this.#starved < 2) this.#starved = 0;
      // No video packet while the sound's arrive on the same path, straight
      // from the broadcaster: it stopped its video (`replaceTrack(null)`;
      // another make's camera off). Nothing to repair; the sound counts, as
      // with no video. Mid-stream at the second reading; before a first
      // frame at the fourth with sound (a loaded broadcaster's encoder may
      // start late; a silent microphone's DTX sends a packet in ~400 ms),
      // and not live before the browser would play (autoplay refused).
      // (`undefined`, no audio, compares false.)
      if (quiet && direct.has(connection) && packets === this.#packets) {
        if (
          heard! > this.#heard! && this.#heard! > 0 &&
          ++this.#unseen > (this.#frames === "none" ? 3 : 0)
        ) {
          if (this.#frames !== "none" || !video!.paused) this.#frame();
          this.#options.onVideo(false);
        }
      } else this.#unseen = 0;
      this.#packets = packets;
      this.#heard = heard;
    }
    if (
      this.#frames === "flowing" &&
      performance.now() - this.#lastFrameAt > STALL_AFTER_MS
    ) this.#set("stalled");
  }

  #set(frames: Frames): void {
    if (frames === this.#frames) return;
    this.#frames = frames;
    this.#options.onChange(frames);
  }
}

/**
 * `pc`'s `inbound-rtp` statistics by kind (`video`, `audio`), if it
 * receives any: the last stream's of a kind, with the packets of all its
 * streams (a track renegotiated away leaves its stream's, which no longer
 * move).
 */
export async function inbound(
  pc: RTCPeerConnection | undefined,
): Promise<Record<string, Record<string, number> | undefined>> {
  const found: Record<string, Record<string, number>> = {};
  try {
    (await pc?.getStats())?.forEach((entry: Record<string, number>) => {
      if (entry.type as unknown === "inbound-rtp") {
        const before = found[entry.kind];
        if (before) entry.packetsReceived += before.packetsReceived;
        found[entry.kind] = entry;
      }
    });
  } catch {
    // Closed meanwhile.
  }
  return found;
}
