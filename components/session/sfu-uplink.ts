/**
 * The broadcaster's one connection to the SFU, made when the server asks
 * (`sfu-publish`): the camera goes up once, whatever the number of viewers,
 * and the SFU sends it on to each. Video is simulcast in three layers where
 * the browser takes them, so the SFU can give each viewer the one its
 * network carries; the upload budget is this connection's.
 */
import type {
  IceCandidate,
  SessionDescription,
} from "../../protocol/messages.ts";
import { DEFAULT_BUDGET } from "../media/bitrate-budget.ts";
import type { PeerLink } from "./stream-session.ts";

export interface SfuUplinkOptions {
  /** The camera's stream. */
  stream(): MediaStream;
  /** The upload budget in kbit/s, shared by the layers. */
  budgetKbps(): number;
  /** The connection's state changed (for rendering). */
  onChange(): void;
}

/** A layer's ceiling: what one viewer gets at most peer to peer. */
const MAX_LAYER_BPS = DEFAULT_BUDGET.maxPerViewerKbps * 1000;

/** Layers, highest first, with their share of the budget. */
const LAYERS = [
  { rid: "h", scale: 1, share: 0.65 },
  { rid: "m", scale: 2, share: 0.25 },
  { rid: "l", scale: 4, share: 0.1 },
];

/**
 * The camera's tracks, send-only, video in the simulcast layers sharing
 * `budgetKbps` (also what `<live-broadcaster whip-url>` publishes).
 */
export function addCamera(
  pc: RTCPeerConnection,
  stream: MediaStream,
  budgetKbps: number,
): void {
  const budget = budgetKbps * 1000;
  for (const track of stream.getTracks()) {
    pc.addTransceiver(track, {
      direction: "sendonly",
      streams: [stream],
      ...(track.kind === "video"
        ? {
          sendEncodings: LAYERS.map(({ rid, scale, share }) => ({
            rid,
            scaleResolutionDownBy: scale,
            // No layer above what one viewer gets peer to peer.
            maxBitrate: Math.round(Math.min(budget * share, MAX_LAYER_BPS)),
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

  constructor(link: PeerLink, options: SfuUplinkOptions) {
    this.#link = link;
    this.#options = options;
  }

  /** The connection's state, while there is one. */
  get state(): RTCPeerConnectionState | undefined {
    return this.#pc?.connectionState;
  }

  /** Offers a new connection to the SFU (replacing any earlier one). */
  async publish(): Promise<void> {
    this.close();
    const streamId = this.#link.streamId;
    if (!streamId) return;
    const pc = new RTCPeerConnection(this.#link.rtcConfiguration());
    this.#pc = pc;
    addCamera(pc, this.#options.stream(), this.#options.budgetKbps());
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
  }

  /** The camera or microphone track changed (switched camera). */
  async replaceTrack(
    kind: "audio" | "video",
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
