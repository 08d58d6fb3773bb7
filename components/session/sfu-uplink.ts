/**
 * The broadcaster's one connection to the SFU, made when the server asks
 * (`sfu-publish`): the camera goes up once, whatever the number of viewers,
 * and the SFU sends it on to each. Video is simulcast in up to three layers,
 * as many as the browser sends for the picture's size, so the SFU can give
 * each viewer the one its network carries; the upload budget is this
 * connection's. The server says which layers its viewers need
 * (`sfu-layers`): the others are paused.
 */
import type {
  IceCandidate,
  SessionDescription,
  SfuAnswer,
  SfuPublish,
} from "../../protocol/messages.ts";
// Types only: a value from the bundle would make a chunk it loads at once.
import type { BitrateBudget } from "../media/bitrate-budget.ts";
import type { PeerLink } from "./stream-session.ts";

export interface SfuUplinkOptions {
  /** The camera's stream. */
  stream(): MediaStream;
  /** The upload budget, shared by the layers. */
  budget(): BitrateBudget;
  /** The connection's state changed (for rendering). */
  onChange(): void;
}

/** Layers, highest first: rid, scale, share of the budget. */
const LAYERS = [["h", 1, 0.65], ["m", 2, 0.25], ["l", 4, 0.1]] as const;

/**
 * The camera's tracks, send-only, video in simulcast layers sharing
 * `budget` (also what `<live-broadcaster whip-url>` publishes): as many
 * as Chromium sends of the picture (3 from 960x540, 2 from 480x270, else 1:
 * the smallest go), so the offer lists only layers that come; each smaller
 * than the one above.
 */
export function addCamera(
  pc: RTCPeerConnection,
  stream: MediaStream,
  budget: BitrateBudget,
): void {
  for (const track of stream.getTracks()) {
    const { width = 1280, height = 720 } = track.getSettings();
    const pixels = width * height;
    pc.addTransceiver(track, {
      direction: "sendonly",
      streams: [stream],
      ...(track.kind === "video"
        ? {
          sendEncodings: LAYERS.slice(
            0,
            pixels < 129600 ? 1 : pixels < 518400 ? 2 : 3,
          ).map(([rid, scale, share]) => ({
            rid,
            scaleResolutionDownBy: scale,
            // No layer above what one viewer gets peer to peer, nor 3 bit/s
            // a pixel: Chromium pads a layer up to what it may use.
            maxBitrate: Math.min(
              budget.totalKbps * 1000 * share,
              budget.maxPerViewerKbps * 1000,
              pixels * 3 / scale / scale,
            ),
          })),
        }
        : {}),
    });
  }
}

export class SfuUplink {
  #link: PeerLink;
  #options: SfuUplinkOptions;
  #pc: RTCPeerConnection | undefined;
  /** The rids the server last asked for on this connection (none: all). */
  #rids: string[] | undefined;
  /** A `setParameters` of the layers is under way. */
  #applying = false;

  constructor(link: PeerLink, options: SfuUplinkOptions) {
    this.#link = link;
    this.#options = options;
  }

  /** The connection's state, while there is one. */
  get state(): RTCPeerConnectionState | undefined {
    return this.#pc?.connectionState;
  }

  /** The server's `sfu-publish` or `sfu-answer`; a failure is logged. */
  handle(message: SfuPublish | SfuAnswer): Promise<void> {
    const publish = message.type === "sfu-publish";
    return (publish ? this.publish() : this.answer(message.answer)).catch(
      (error) =>
        console.warn(
          publish
            ? "live-broadcaster: publishing to the SFU failed"
            : "live-broadcaster: the SFU's answer failed",
          error,
        ),
    );
  }

  /** Offers a new connection to the SFU (replacing any earlier one). */
  async publish(): Promise<void> {
    this.close();
    const streamId = this.#link.streamId;
    if (!streamId) return;
    const pc = this.#link.newConnection();
    this.#pc = pc;
    // A new connection sends every layer until the server says otherwise.
    this.#rids = undefined;
    addCamera(pc, this.#options.stream(), this.#options.budget());
    pc.onicecandidate = ({ candidate }) => {
      if (!candidate || this.#pc !== pc) return;
      this.#link.send({
        type: "sfu-ice-candidate",
        streamId,
        candidate: candidate.toJSON() as IceCandidate,
      });
    };
    pc.onconnectionstatechange = () => this.#options.onChange();
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    if (this.#pc !== pc) return;
    this.#link.send({
      type: "sfu-offer",
      streamId,
      offer: { type: "offer", sdp: offer.sdp ?? "" },
    });
  }

  /** The SFU's answer to our offer. */
  async answer(answer: SessionDescription<"answer">): Promise<void> {
    const pc = this.#pc;
    if (pc?.signalingState !== "have-local-offer") return;
    await pc.setRemoteDescription(answer);
    // Layers asked for before the answer: applied to what was negotiated.
    void this.#applyLayers();
  }

  /** The server's `sfu-layers`: send these rids, pause the others. */
  layers(rids: string[]): void {
    this.#rids = rids;
    void this.#applyLayers();
  }

  /**
   * One `setParameters` at a time, the latest wish last: one made while
   * another is under way can be refused (its parameters' transaction is
   * stale), and a refusal left the layers paused (or sending) against the
   * server's last word. A refused one is tried again (three refusals in a
   * row: left until the next wish).
   */
  async #applyLayers(): Promise<void> {
    if (this.#applying) return;
    this.#applying = true;
    try {
      let applied: string[] | undefined;
      let refused = 0;
      while (applied !== this.#rids && refused < 3) {
        const rids = this.#rids;
        const sender = this.#pc?.getSenders().find((s) =>
          s.track?.kind === "video"
        );
        const parameters = sender?.getParameters();
        // Before the answer there is nothing negotiated to pause.
        if (!rids || !parameters?.encodings?.length) return;
        for (const encoding of parameters.encodings) {
          encoding.active = rids.includes(encoding.rid!);
        }
        if (
          await sender!.setParameters(parameters).then(() => true, () => false)
        ) {
          applied = rids;
        } else refused++;
      }
    } finally {
      this.#applying = false;
    }
  }

  /** The camera or microphone track changed (switched camera). */
  async replaceTrack(
    kind: string,
    track: MediaStreamTrack,
  ): Promise<void> {
    const sender = this.#pc?.getSenders().find((s) => s.track?.kind === kind);
    await sender?.replaceTrack(track);
  }

  close(): void {
    this.#pc?.close();
    this.#pc = undefined;
  }
}
