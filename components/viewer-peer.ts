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
} from "../protocol/messages.ts";

export interface ViewerPeerOptions {
  streamId(): string;
  /** This viewer's id, sent as the seed does (the server overrides it). */
  viewerId(): string | undefined;
  send(message: ClientMessage): void;
  /** ICE servers and transport policy for each new connection. */
  rtcConfiguration(): RTCConfiguration;
  /** A TURN server refused the credentials it was given (STUN/TURN error 401). */
  onTurnRefused(): void;
  onStream(stream: MediaStream): void;
  onConnectionState(state: RTCPeerConnectionState): void;
}

export class ViewerPeer {
  #options: ViewerPeerOptions;
  #pc: RTCPeerConnection | undefined;
  #session: string | undefined;
  #queue: Promise<void> = Promise.resolve();
  #early: IceCandidate[] = [];

  constructor(options: ViewerPeerOptions) {
    this.#options = options;
  }

  /** The current connection, for statistics. */
  get connection(): RTCPeerConnection | undefined {
    return this.#pc;
  }

  get connectionState(): RTCPeerConnectionState | "none" {
    return this.#pc?.connectionState ?? "none";
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
      const viewerId = this.#options.viewerId();
      this.#options.send({
        type: "webrtc-answer",
        streamId: this.#options.streamId(),
        ...(viewerId ? { viewerId } : {}),
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
    const pc = new RTCPeerConnection(this.#options.rtcConfiguration());
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
      const viewerId = this.#options.viewerId();
      this.#options.send({
        type: "webrtc-ice-candidate",
        streamId: this.#options.streamId(),
        ...(viewerId ? { viewerId } : {}),
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
      if (errorCode === 401 && this.#pc === pc) this.#options.onTurnRefused();
    });
  }

  #enqueue(step: () => Promise<void>): void {
    this.#queue = this.#queue.then(step).catch((error) => {
      console.warn("WebRTC step failed", error);
    });
  }
}

/** The `o=` line's session id: constant for one RTCPeerConnection (RFC 3264). */
export function sessionIdOf(sdp: string): string | undefined {
  return /^o=\S+ (\S+) /m.exec(sdp)?.[1];
}
