/**
 * The viewer's side of WebRTC: one RTCPeerConnection to the broadcaster,
 * answering its offers. An offer from a new broadcaster connection (a new
 * SDP session id in the `o=` line) gets a new RTCPeerConnection; an offer
 * within the same session (an ICE restart) is applied to the current one.
 * While the current one is connected, the new one takes over only once it
 * decodes frames (a stream moving to the SFU, say): no gap in the picture
 * (a broadcaster's that sends no video: once its sound comes).
 * An offer the browser refuses is reported to the element, which tells the
 * server and decides what comes next (viewer-refusal.ts); a refused takeover
 * is dropped here, the current connection playing on.
 */
import type {
  ClientMessage,
  IceCandidate,
  NegotiationStage,
  SessionDescription,
  WebRtcAnswer,
  WebRtcIceCandidate,
} from "../../protocol/messages.ts";
import { sessionIdOf } from "../../protocol/sdp-session.ts";
import { direct, inbound } from "../media/frame-watch.ts";
import type { PeerLink } from "./stream-session.ts";

export interface ViewerPeerOptions {
  /** Video to show; `takeover`: it replaces a connection whose video played. */
  onStream(stream: MediaStream, takeover?: boolean): void | Promise<void>;
  onConnectionState(state: RTCPeerConnectionState): void;
  /** The browser refused an offer; `takeover`: on the connection waiting to take over (dropped). */
  onRefused(stage: NegotiationStage, error: unknown, takeover: boolean): void;
}

export class ViewerPeer {
  #link: PeerLink;
  #options: ViewerPeerOptions;
  #pc: RTCPeerConnection | undefined;
  #session: string | undefined;
  /**
   * A connection of another session (the SFU's, when the stream moves to
   * it) made while the current one plays: it takes over once it has
   * decoded frames, so the picture never stops (make before break).
   */
  #next: { pc: RTCPeerConnection; session: string | undefined } | undefined;
  /** The connection a new one took over from, until that one is shown. */
  #leaving: RTCPeerConnection | undefined;
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

  /** An offer; `sfu`: the SFU's, so this connection reports its loss. */
  handleOffer(offer: SessionDescription<"offer">, sfu?: boolean): void {
    this.#enqueue(async () => {
      const session = sessionIdOf(offer.sdp);
      let pc = this.#next?.session === session ? this.#next?.pc : undefined;
      if (!pc && this.session !== undefined && session === this.#session) {
        pc = this.#pc;
      }
      if (!pc) {
        this.#drop();
        if (this.#pc?.connectionState === "connected") {
          pc = this.#open();
          this.#next = { pc, session };
        } else {
          this.#pc?.close();
          pc = this.#pc = this.#open();
          this.#session = session;
        }
        // The SFU's connection tells the server what its link loses, and,
        // played at once (the old one was not connected), that it plays:
        // the server would otherwise take the switch for failed.
        if (sfu) {
          const played = this.#pc === pc && session;
          import("../media/inbound-watch.ts").then((chunk) =>
            chunk.reportLoss(pc!, inbound, this.#link, played)
          );
        } else direct.add(pc);
      }
      let stage: NegotiationStage = "set-remote-offer";
      try {
        await pc.setRemoteDescription(offer);
        for (const candidate of this.#early.splice(0)) {
          await pc.addIceCandidate(candidate).catch(() => {});
        }
        stage = "create-answer";
        const answer = await pc.createAnswer();
        stage = "set-local-answer";
        await pc.setLocalDescription(answer);
      } catch (error) {
        // Closed meanwhile (replaced, or the element left): nobody's failure.
        if (pc.signalingState === "closed") return;
        const takeover = this.#next?.pc === pc;
        if (takeover) this.#drop();
        // The element tells the server (viewer-refusal.ts, a chunk).
        return this.#options.onRefused(stage, error, takeover);
      }
      this.#send({
        type: "webrtc-answer",
        answer: { type: "answer", sdp: pc.localDescription!.sdp },
      });
    });
  }

  handleCandidate(candidate: IceCandidate): void {
    this.#enqueue(async () => {
      const ufrag = candidate.usernameFragment;
      // The connection whose offer it belongs to, by the ufrag it names (a
      // browser's does): one of an offer yet to come (a new session's, an
      // ICE restart's, sent before it) waits for that offer. Unnamed, the
      // newest connection with an offer.
      const pc = [this.#next?.pc, this.#pc].find((pc) =>
        pc?.remoteDescription?.sdp.includes(ufrag ? `ufrag:${ufrag}\r` : "")
      );
      if (!pc) return void this.#early.push(candidate);
      // An unnamed late one of a replaced session fails harmlessly.
      await pc.addIceCandidate(candidate).catch(() => {});
    });
  }

  close(): void {
    this.#drop();
    this.#leaving?.close();
    this.#pc?.close();
    // #session is read only with #pc (set together).
    this.#pc = undefined;
    this.#early = [];
    this.#options.onConnectionState("closed");
  }

  /** Gives up the connection waiting to take over. */
  #drop(): void {
    this.#next?.pc.close();
    this.#next = undefined;
  }

  /**
   * Takes over once its picture is steady: inbound-watch.ts, a chunk, does
   * the rest of the takeover around this swap of the connections.
   */
  async #whenDecoding(pc: RTCPeerConnection, stream: MediaStream) {
    const waiting = () => this.#next?.pc === pc;
    if (
      !await import("../media/inbound-watch.ts").then(
        (chunk) =>
          chunk.takeOver(
            pc,
            stream,
            inbound,
            waiting,
            () => {
              const { session } = this.#next!;
              const leaving = this.#leaving = this.#pc;
              this.#next = undefined;
              this.#pc = pc;
              this.#session = session;
              return [session, leaving];
            },
            this,
            this.#options,
            this.#link,
          ),
        () => 0,
      ) && waiting()
    ) {
      // Never steady (or the chunk did not load): the current one plays on.
      this.#drop();
    }
  }

  #open(): RTCPeerConnection {
    // #early stays: a broadcaster may send candidates before its offer
    // (close() empties it; a stale one fails harmlessly).
    const pc = this.#link.newConnection();
    // The connection's tracks shown together, as one, whatever streams
    // they were sent in: one, none (`a=msid:- <track>`: another client's
    // `addTrack(track)`) or one each (a client's separate camera and
    // microphone streams). A track its stream loses (a renegotiation took
    // it away) leaves; one sent in none replaces the last of its kind. A
    // track's whole stream at once: the first event (the audio's) then
    // brings the video too, which is shown first.
    const stream = new MediaStream();
    pc.addEventListener("track", ({ track, streams: [sent], receiver }) => {
      // Live, not a movie: play as soon as frames arrive (Chrome, Firefox
      // 123+; elsewhere an unread property).
      (receiver as { jitterBufferTarget?: number }).jitterBufferTarget = 0;
      for (const added of sent?.getTracks() ?? [track]) {
        for (const old of stream.getTracks()) {
          if (!sent && old.kind === added.kind) stream.removeTrack(old);
        }
        stream.addTrack(added);
      }
      if (sent) {
        sent.onremovetrack = (event) => {
          stream.removeTrack(event.track);
          if (this.#pc === pc) this.#options.onStream(stream);
        };
      }
      if (this.#pc === pc) this.#options.onStream(stream);
      else this.#whenDecoding(pc, stream);
    });
    pc.addEventListener("icecandidate", ({ candidate }) => {
      if (!candidate || (this.#pc !== pc && this.#next?.pc !== pc)) return;
      this.#send({
        type: "webrtc-ice-candidate",
        candidate: candidate.toJSON() as IceCandidate,
      });
    });
    pc.addEventListener("connectionstatechange", () => {
      if (this.#pc === pc) this.#options.onConnectionState(pc.connectionState);
      // The new connection failed: the current one plays on.
      else if (this.#next?.pc === pc && pc.connectionState === "failed") {
        this.#drop();
      }
    });
    pc.addEventListener("icecandidateerror", (event) => {
      const { errorCode } = event as RTCPeerConnectionIceErrorEvent;
      // 401 Unauthorized from a TURN server; other codes are routine
      // (an unreachable STUN server, say) and ICE copes with them.
      if (errorCode === 401 && this.#pc === pc) this.#link.turnRefused();
    });
    return pc;
  }

  /**
   * To the broadcaster, with our id as the seed sends it (the server sets
   * it anyway; left out of the frame while undefined).
   */
  #send(
    message:
      | Pick<WebRtcAnswer, "type" | "answer">
      | Pick<WebRtcIceCandidate, "type" | "candidate">,
  ): void {
    this.#link.send({
      ...message,
      streamId: this.#link.streamId!,
      viewerId: this.#link.clientId,
    } as ClientMessage);
  }

  #enqueue(step: () => Promise<void>): void {
    this.#queue = this.#queue.then(step).catch((error) => {
      console.warn("WebRTC step failed", error);
    });
  }
}
