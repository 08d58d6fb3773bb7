/**
 * The viewer's side of WebRTC: one RTCPeerConnection to the broadcaster,
 * answering its offers. An offer from a new broadcaster connection (a new
 * SDP session id in the `o=` line) gets a new RTCPeerConnection; an offer
 * within the same session (an ICE restart) is applied to the current one.
 */
import type {
  ClientMessage,
  IceCandidate,
  SessionDescription,
  WebRtcAnswer,
  WebRtcIceCandidate,
} from "../protocol/messages.ts";
import { sessionIdOf } from "./sdp-session.ts";
import type { PeerLink } from "./stream-session.ts";

export interface ViewerPeerOptions {
  onStream(stream: MediaStream): void;
  onConnectionState(state: RTCPeerConnectionState): void;
}

export class ViewerPeer {
  #link: PeerLink;
  #options: ViewerPeerOptions;
  #pc: RTCPeerConnection | undefined;
  #session: string | undefined;
  #queue: Promise<void> = Promise.resolve();
  #early: IceCandidate[] = [];

  constructor(link: PeerLink, options: ViewerPeerOptions) {
    this.#link = link;
    this.#options = options;
  }

  /** The current connection, for statistics. */
  get connection(): RTCPeerConnection | undefined {
    return this.#pc;
  }

  /** The broadcaster's SDP session this viewer holds a connection for. */
  get session(): string | undefined {
    return this.#pc && this.#pc.signalingState !== "closed"
      ? this.#session
      : undefined;
  }

  handleOffer(offer: SessionDescription<"offer">): void {
    this.#enqueue(async () => {
      const session = sessionIdOf(offer.sdp);
      if (
        !this.#pc || this.#pc.signalingState === "closed" ||
        session !== this.#session
      ) {
        this.#open(session);
      }
      const pc = this.#pc!;
      await pc.setRemoteDescription(offer);
      for (const candidate of this.#early.splice(0)) {
        await pc.addIceCandidate(candidate).catch(() => {});
      }
      await pc.setLocalDescription(await pc.createAnswer());
      this.#send({
        type: "webrtc-answer",
        answer: { type: "answer", sdp: pc.localDescription!.sdp },
      });
    });
  }

  handleCandidate(candidate: IceCandidate): void {
    this.#enqueue(async () => {
      if (!this.#pc?.remoteDescription) {
        this.#early.push(candidate);
        return;
      }
      // A late candidate of a replaced session fails harmlessly.
      await this.#pc.addIceCandidate(candidate).catch(() => {});
    });
  }

  close(): void {
    this.#pc?.close();
    this.#pc = undefined;
    this.#session = undefined;
    this.#early = [];
    this.#options.onConnectionState("closed");
  }

  #open(session: string | undefined): void {
    this.#pc?.close();
    this.#early = [];
    const pc = new RTCPeerConnection(this.#link.rtcConfiguration());
    this.#pc = pc;
    this.#session = session;
    pc.addEventListener("track", (event) => {
      if (this.#pc !== pc) return;
      // Live, not a movie: play as soon as frames arrive (Chrome, Firefox 123+).
      const receiver = event.receiver as { jitterBufferTarget?: number | null };
      if ("jitterBufferTarget" in receiver) receiver.jitterBufferTarget = 0;
      this.#options.onStream(
        event.streams[0] ?? new MediaStream([event.track]),
      );
    });
    pc.addEventListener("icecandidate", ({ candidate }) => {
      if (!candidate || this.#pc !== pc) return;
      this.#send({
        type: "webrtc-ice-candidate",
        candidate: candidate.toJSON() as IceCandidate,
      });
    });
    pc.addEventListener("connectionstatechange", () => {
      if (this.#pc === pc) this.#options.onConnectionState(pc.connectionState);
    });
    pc.addEventListener("icecandidateerror", (event) => {
      const { errorCode } = event as RTCPeerConnectionIceErrorEvent;
      // 401 Unauthorized from a TURN server; other codes are routine
      // (an unreachable STUN server, say) and ICE copes with them.
      if (errorCode === 401 && this.#pc === pc) this.#link.turnRefused();
    });
  }

  /** To the broadcaster, with our id as the seed sends it (the server sets it anyway). */
  #send(
    message:
      | Pick<WebRtcAnswer, "type" | "answer">
      | Pick<WebRtcIceCandidate, "type" | "candidate">,
  ): void {
    const viewerId = this.#link.clientId;
    this.#link.send({
      ...message,
      streamId: this.#link.streamId!,
      ...(viewerId ? { viewerId } : {}),
    } as ClientMessage);
  }

  #enqueue(step: () => Promise<void>): void {
    this.#queue = this.#queue.then(step).catch((error) => {
      console.warn("WebRTC step failed", error);
    });
  }
}
