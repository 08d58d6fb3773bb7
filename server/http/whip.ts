/**
 * WHIP ingest (RFC 9725) with Janus behind: `POST /whip/{streamId}` makes
 * the sender that stream's broadcaster, through the SFU (the HTTP side is
 * session-endpoint.ts). Its `broadcaster-ready` and `sfu-offer` come from the
 * POST; the `sfu-answer` goes back in the 201; DELETE ends the stream
 * (viewers hear `broadcaster-left`).
 */
import type { ClientMessage, ServerMessage } from "../../protocol/messages.ts";
import { HttpSession, type SessionKind } from "./http-session.ts";
import { handOn } from "./session-host.ts";

/** One WHIP publisher. */
export class WhipSession extends HttpSession {
  enter(token: string | undefined): ClientMessage {
    return {
      type: "broadcaster-ready",
      streamId: this.streamId,
      ...(token ? { token } : {}),
    };
  }

  send(message: ServerMessage): void {
    switch (message.type) {
      case "broadcaster-accepted":
        this.iceServers = message.iceServers;
        return;
      case "sfu-publish":
        handOn(this.host, this, {
          type: "sfu-offer",
          streamId: this.streamId,
          offer: { type: "offer", sdp: this.offer },
        });
        return;
      case "sfu-answer":
        return this.answered(message.answer.sdp);
      case "error":
        return this.refused(message);
    }
  }

  restartIce(offer: string): Promise<string> {
    return this.host.ice.publisher(this.streamId, offer);
  }

  trickle(candidate: string, mid: string | undefined): void | Promise<void> {
    return this.host.handle(this, {
      type: "sfu-ice-candidate",
      streamId: this.streamId,
      candidate: { candidate, sdpMid: mid ?? "0" },
    });
  }
}

export const WHIP: SessionKind<WhipSession> = {
  name: "whip",
  // A broadcaster sends video.
  usable: (offer) => /^m=video /m.test(offer),
  unusable: "A WHIP offer sends video (an m=video section)",
  publishes: true,
  serverOffers: false,
  answersGet: false,
  open: (host, init) => new WhipSession(host, init),
};
