/**
 * WHEP playback (draft-ietf-wish-whep) through Janus: `POST /whep/{streamId}`
 * with the player's offer makes it a viewer (the HTTP side is
 * session-endpoint.ts). Its stream goes to the SFU if it is not there yet (a
 * browser broadcaster cannot answer a WHEP player); Janus's subscriber offer
 * and the player's offer are answered from each other (sfu/sdp-bridge.ts).
 */
import type { ClientMessage, ServerMessage } from "../../protocol/messages.ts";
import { HttpSession, type SessionKind } from "./http-session.ts";
import { bridge, janusMid, SdpBridgeError } from "../sfu/sdp-bridge.ts";

/** One WHEP player. */
export class WhepSession extends HttpSession {
  /** Janus's offer, once it came (for mapping trickled candidates). */
  #janusOffer: string | undefined;

  enter(token: string | undefined): ClientMessage {
    return {
      type: "join-stream",
      streamId: this.streamId,
      ...(token ? { token } : {}),
    };
  }

  send(message: ServerMessage): void {
    switch (message.type) {
      case "join-accepted":
        this.iceServers = message.iceServers;
        if (!message.live) {
          this.refuse(404, "not-live", "The stream is not live");
        }
        return;
      case "webrtc-offer":
        return this.#offered(message.offer.sdp);
      case "broadcaster-left":
        // A WHEP player cannot wait for the next broadcaster: it ends.
        return this.end("broadcaster-left");
      case "error": {
        // Its join refused: before the answer, the POST says why (the SFU
        // not serving the stream is 503 sfu-unavailable); after it (the
        // stream left the SFU), a WHEP player cannot follow and ends. A
        // refusal of one trickled candidate changes nothing.
        const ofJoin = message.inReplyTo === "join-stream";
        if (this.settled) return ofJoin ? this.end("refused") : undefined;
        return this.refused(message);
      }
    }
  }

  /** Janus offers anew; the player's new credentials answer it (bridged). */
  async restartIce(offer: string): Promise<string> {
    const janusOffer = await this.host.ice.subscriber(this.streamId, this.id);
    const { toPlayer, toJanus } = bridge(offer, janusOffer);
    await this.host.ice.answer(this.streamId, this.id, toJanus);
    this.#janusOffer = janusOffer;
    return toPlayer;
  }

  trickle(candidate: string, mid: string | undefined): void | Promise<void> {
    const sdpMid = this.#janusOffer
      ? janusMid(this.offer, this.#janusOffer, mid ?? "")
      : undefined;
    return this.host.handle(this, {
      type: "webrtc-ice-candidate",
      streamId: this.streamId,
      candidate: { candidate, sdpMid: sdpMid ?? "0" },
    });
  }

  #offered(sdp: string): void {
    // A second offer would need a renegotiation WHEP has no way to carry.
    if (this.#janusOffer !== undefined) return this.end("renegotiation");
    this.#janusOffer = sdp;
    try {
      const { toPlayer, toJanus } = bridge(this.offer, sdp);
      void this.host.handle(this, {
        type: "webrtc-answer",
        streamId: this.streamId,
        answer: { type: "answer", sdp: toJanus },
      });
      this.answered(toPlayer);
    } catch (error) {
      if (error instanceof SdpBridgeError) {
        return this.refuse(422, "unplayable-offer", error.message);
      }
      // Our bug, not the player's: logged, and no detail goes out.
      this.host.logger.error("whep-bridge-failed", { error: String(error) });
      this.refuse(500, "internal-error", "The server failed on this offer");
    }
  }
}

export const WHEP: SessionKind<WhepSession> = {
  name: "whep",
  usable: (offer) => /^m=(video|audio) /m.test(offer),
  unusable:
    "A WHEP offer receives audio or video (an m=audio or m=video section)",
  publishes: false,
  open: (host, init) => new WhepSession(host, init),
};
