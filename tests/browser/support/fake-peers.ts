/**
 * A broadcaster and a viewer written from the seed protocol alone (a raw
 * WebSocket and a real RTCPeerConnection, as another client's would be),
 * which can send a description the browser refuses: an offer or answer
 * whose header extension ids collide.
 *
 * What each browser refuses (measured: Chromium 156, Firefox 153):
 * Chromium refuses bundled m-lines mapping one header extension id to two
 * extensions ("A BUNDLE group contains a codec collision for header
 * extension id=1"), as aiortc 1.4's offers with audio and video do;
 * Firefox takes that, but refuses one id mapped twice within a section
 * ("Description contains duplicate extension id 3 on level 1") and an
 * answer that moves an offered extension to another id ("Answer changed id
 * for extmap attribute"). The descriptions here carry both collisions.
 */
import type {
  ClientMessage,
  IceCandidate,
  ServerMessage,
} from "../../../protocol/messages.ts";
import { within } from "./helpers.ts";

/** The session part, then one part per m-line. */
function sections(sdp: string): string[] {
  return sdp.split(/\r\n(?=m=)/);
}

/** The first header extension id of an m-line's section. */
function firstExtensionId(section: string): string {
  return /a=extmap:(\d+)/.exec(section)![1];
}

/**
 * `sdp` (audio, then video) with its video section mapping the audio's
 * first extension id to another extension, and its own first id twice.
 */
export function collidingExtensions(sdp: string): string {
  const [session, audio, video] = sections(sdp);
  const clash = [
    `a=extmap:${firstExtensionId(audio)} urn:ietf:params:rtp-hdrext:toffset`,
    `a=extmap:${firstExtensionId(video)} urn:3gpp:video-orientation`,
  ].join("\r\n");
  const refused = video.replace(/(a=mid:\S+\r\n)/, `$1${clash}\r\n`);
  if (refused === video) throw new Error("No a=mid line in the video section");
  return [session, audio, refused].join("\r\n");
}

/** A WebSocket client of the seed protocol: messages in order, by type. */
class SeedClient {
  readonly socket: WebSocket;
  readonly streamId: string;
  readonly received: ServerMessage[] = [];
  #waiters: (() => void)[] = [];

  /** Connects; `first` (an announce or a join) goes once welcomed. */
  constructor(url: string, first: ClientMessage & { streamId: string }) {
    this.streamId = first.streamId;
    this.socket = new WebSocket(url);
    this.socket.addEventListener("message", ({ data }) => {
      const message = JSON.parse(data) as ServerMessage;
      if (message.type === "welcome") return this.send(first);
      this.received.push(message);
      this.onMessage(message);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  send(message: ClientMessage): void {
    this.socket.send(JSON.stringify(message));
  }

  /** Messages of `type` received so far. */
  of<T extends ServerMessage["type"]>(
    type: T,
  ): Extract<ServerMessage, { type: T }>[] {
    return this.received.filter((m) => m.type === type) as Extract<
      ServerMessage,
      { type: T }
    >[];
  }

  /** Resolves once `count` messages of `type` have arrived. */
  whenReceived<T extends ServerMessage["type"]>(
    type: T,
    count = 1,
  ): Promise<Extract<ServerMessage, { type: T }>[]> {
    return within(
      new Promise((resolve) => {
        const check = () => {
          if (this.of(type).length >= count) resolve(this.of(type));
          else this.#waiters.push(check);
        };
        check();
      }),
      () => `${count} ${type} (have ${this.of(type).length})`,
    );
  }

  protected onMessage(_message: ServerMessage): void {}

  close(): void {
    this.socket.close(1000);
  }
}

/**
 * What a fake broadcaster does for a viewer that joins: sends its offer, or
 * a refused one, or nothing (`lost`: as if the frame was lost between
 * nodes).
 */
export type OfferPlan = (join: number) => "good" | "refused" | "lost";

/**
 * A broadcaster of the seed protocol: for each `viewer-joined` a new
 * connection with the page's fake camera and microphone, whose offer goes
 * out as is or with colliding extension ids (`plan`, by join, from 1).
 * Every join is kept with the time it came.
 */
export class FakeBroadcaster extends SeedClient {
  readonly joins: { viewerId: string; at: number }[] = [];
  /** What the next joins get; a test may change it midway. */
  plan: OfferPlan;
  /**
   * The streams its tracks are sent in: one; none (`a=msid:- <track>`, as
   * a client's `addTrack(track)` without one sends them); or one each (a
   * client's separate microphone and camera streams).
   */
  streams: "one" | "none" | "each" = "one";
  /** Every offer's SDP as sent. */
  readonly offered: string[] = [];
  /**
   * Every candidate sent before the offer (as a Pion broadcaster's may
   * be), and the viewer's ignored: the viewer must use ours to connect.
   */
  candidatesFirst = false;
  /** Sends its microphone alone, no video (a radio, an intercom). */
  audioOnly = false;
  /**
   * Its camera off when a viewer joins: a video sender without a track
   * (another make's camera off before anyone watched), the sound on;
   * {@link videoOff} turns it on.
   */
  cameraOff = false;
  /**
   * A second audio track in the same stream (a voice and music, say): a
   * tone, made in this page.
   */
  secondAudio = false;
  #stream: Promise<MediaStream>;
  /** Each viewer's latest connection, which its answer is for. */
  #pcs = new Map<string, RTCPeerConnection>();
  #all: RTCPeerConnection[] = [];
  #tones: AudioContext[] = [];

  constructor(url: string, streamId: string, plan: OfferPlan) {
    super(url, { type: "broadcaster-ready", streamId });
    this.plan = plan;
    this.#stream = navigator.mediaDevices.getUserMedia({
      audio: true,
      video: true,
    });
  }

  /**
   * Sends `viewerId` an offer of a new connection (a new SDP session); its
   * earlier one stays up, as a stream moving to an SFU leaves it. An
   * `unanswered` one sends no candidates and ignores the answer, as if
   * they were lost between nodes.
   */
  async offer(
    viewerId: string,
    kind: "good" | "refused" | "unanswered",
  ): Promise<void> {
    const pc = new RTCPeerConnection();
    // Unanswered: no candidates go out, and its answer finds no connection.
    if (kind === "unanswered") this.#pcs.delete(viewerId);
    else this.#pcs.set(viewerId, pc);
    this.#all.push(pc);
    const stream = await this.#stream;
    const tracks = stream.getTracks();
    if (this.secondAudio) tracks.push(this.#tone());
    for (const track of tracks) {
      if (this.audioOnly && track.kind === "video") continue;
      pc.addTransceiver(
        this.cameraOff && track.kind === "video" ? "video" : track,
        {
          direction: "sendonly",
          streams: this.#streamsFor(track, stream),
        },
      );
    }
    const { streamId } = this;
    const gathered = new Promise<void>((resolve) => {
      pc.addEventListener("icecandidate", ({ candidate }) => {
        if (!candidate) return resolve();
        if (this.#pcs.get(viewerId) !== pc) return;
        this.send({
          type: "webrtc-ice-candidate",
          streamId,
          viewerId,
          candidate: candidate.toJSON() as IceCandidate,
        });
      });
    });
    // The offer made before gathering: it carries no candidate.
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    if (this.candidatesFirst) await within(gathered, "candidates gathered");
    const sdp = kind === "refused"
      ? collidingExtensions(offer.sdp!)
      : offer.sdp!;
    this.offered.push(sdp);
    this.send({
      type: "webrtc-offer",
      streamId,
      viewerId,
      offer: { type: "offer", sdp },
    });
  }

  protected override onMessage(message: ServerMessage): void {
    switch (message.type) {
      case "viewer-joined": {
        const join = this.joins.push({
          viewerId: message.viewerId,
          at: performance.now(),
        });
        const plan = this.plan(join);
        if (plan !== "lost") void this.offer(message.viewerId, plan);
        return;
      }
      case "webrtc-answer":
        void this.#pcs.get(message.viewerId)?.setRemoteDescription(
          message.answer,
        );
        return;
      case "webrtc-ice-candidate":
        if (this.candidatesFirst) return;
        void this.#pcs.get(message.viewerId)?.addIceCandidate(
          message.candidate,
        ).catch(() => {});
    }
  }

  /** A 440 Hz tone's audio track, made in this page (closed with it). */
  #tone(): MediaStreamTrack {
    const context = new AudioContext();
    this.#tones.push(context);
    const oscillator = context.createOscillator();
    const destination = context.createMediaStreamDestination();
    oscillator.connect(destination);
    oscillator.start();
    return destination.stream.getAudioTracks()[0];
  }

  override close(): void {
    for (const context of this.#tones) void context.close();
    for (const pc of this.#all) pc.close();
    super.close();
  }

  /**
   * Replaces the video sent to `viewerId` by renegotiating its connection
   * (its sender removed, a new camera track of `width` added in the same
   * stream: a new transceiver), as a client without `replaceTrack` does.
   */
  async renegotiateVideo(viewerId: string, width: number): Promise<void> {
    const pc = this.#pcs.get(viewerId)!;
    const camera = await navigator.mediaDevices.getUserMedia({
      video: { width: { exact: width } },
    });
    const [track] = camera.getVideoTracks();
    this.#dropVideo(pc);
    pc.addTransceiver(track, {
      direction: "sendonly",
      streams: this.#streamsFor(track, await this.#stream),
    });
    await this.#offerAgain(viewerId, pc);
  }

  /**
   * Stops sending video to `viewerId` by renegotiating its connection (its
   * video sender removed, nothing in its place); the sound goes on.
   */
  async removeVideo(viewerId: string): Promise<void> {
    const pc = this.#pcs.get(viewerId)!;
    this.#dropVideo(pc);
    await this.#offerAgain(viewerId, pc);
  }

  /**
   * Stops (`off`) or starts again the video sent to `viewerId` without
   * renegotiating: `replaceTrack(null)`, another make's camera off. The
   * sound goes on.
   */
  async videoOff(viewerId: string, off: boolean): Promise<void> {
    const [track] = (await this.#stream).getVideoTracks();
    const sender = this.#pcs.get(viewerId)!.getSenders().find((s) =>
      s.track?.kind === "video" || s.track === null
    )!;
    await sender.replaceTrack(off ? null : track);
  }

  #dropVideo(pc: RTCPeerConnection): void {
    for (const sender of pc.getSenders()) {
      if (sender.track?.kind === "video") pc.removeTrack(sender);
    }
  }

  /** A renegotiation of `pc`, `viewerId`'s connection: its new offer sent. */
  async #offerAgain(viewerId: string, pc: RTCPeerConnection): Promise<void> {
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    this.send({
      type: "webrtc-offer",
      streamId: this.streamId,
      viewerId,
      offer: { type: "offer", sdp: offer.sdp! },
    });
  }

  #streamsFor(track: MediaStreamTrack, stream: MediaStream): MediaStream[] {
    if (this.streams === "none") return [];
    return [this.streams === "each" ? new MediaStream([track]) : stream];
  }

  /** The connection made last, for any viewer. */
  get latest(): RTCPeerConnection | undefined {
    return this.#all.at(-1);
  }

  /** Resolves once `count` viewers have joined (or joined again). */
  joined(count: number): Promise<unknown> {
    return this.whenReceived("viewer-joined", count);
  }

  /** Resolves once a viewer has left. */
  left(): Promise<unknown> {
    return this.whenReceived("viewer-left");
  }
}

/**
 * A viewer of the seed protocol that answers every offer with a real
 * connection's answer, its extension ids made to collide.
 */
export class RefusingViewer extends SeedClient {
  /** When each offer came. */
  readonly offers: number[] = [];
  #pcs: RTCPeerConnection[] = [];

  constructor(url: string, streamId: string) {
    super(url, { type: "join-stream", streamId });
  }

  /** Resolves once `count` offers have come (each a new connection, or a retry). */
  offered(count: number): Promise<unknown> {
    return this.whenReceived("webrtc-offer", count);
  }

  protected override onMessage(message: ServerMessage): void {
    if (message.type !== "webrtc-offer") return;
    this.offers.push(performance.now());
    void (async () => {
      const pc = new RTCPeerConnection();
      this.#pcs.push(pc);
      await pc.setRemoteDescription(message.offer);
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      const [session, audio, video] = sections(answer.sdp!);
      // Chromium: a bundle collision; Firefox: an offered extension moved.
      const clash = `a=extmap:${
        firstExtensionId(audio)
      } urn:ietf:params:rtp-hdrext:toffset`;
      this.send({
        type: "webrtc-answer",
        streamId: message.streamId,
        answer: {
          type: "answer",
          sdp: [
            session,
            audio,
            video.replace(/(a=mid:\S+\r\n)/, `$1${clash}\r\n`),
          ].join("\r\n"),
        },
      });
    })();
  }

  override close(): void {
    for (const pc of this.#pcs) pc.close();
    super.close();
  }
}
