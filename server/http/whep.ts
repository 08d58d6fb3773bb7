/**
 * WHEP playback (draft-ietf-wish-whep) through Janus: `POST /whep/{streamId}`
 * with the player's offer makes it a viewer (the HTTP side is
 * session-endpoint.ts). Its stream goes to the SFU if it is not there yet (a
 * browser broadcaster cannot answer a WHEP player); Janus's subscriber offer
 * and the player's offer are answered from each other (sfu/sdp-bridge.ts).
 * A POST without an offer gets Janus's offer as it is (a server offer), and
 * the player's answer, by PATCH, goes to Janus as it is: a player that
 * numbers its codecs otherwise than Janus (Firefox, aiortc) answers with
 * Janus's numbers, which every WebRTC stack can.
 */
import type { ClientMessage, ServerMessage } from "../../protocol/messages.ts";
import { HttpSession, type SessionKind } from "./http-session.ts";
import { handOn } from "./session-host.ts";
import { bridge, janusMid, SdpBridgeError } from "../sfu/sdp-bridge.ts";

/**
 * Retry-After of a 409 not-live, in seconds: a player waiting for the
 * broadcaster asks again this soon. Short (the 503s say 5): that refusal
 * costs a join and a leave in the router and nothing in Janus, and a player
 * then starts within ~2 s of the stream going live.
 */
const NOT_LIVE_RETRY_AFTER_S = 2;

/** One WHEP player. */
export class WhepSession extends HttpSession {
  /** Janus's offer, once it came (for mapping trickled candidates). */
  #janusOffer: string | undefined;
  /** The player POSTed no offer: Janus's goes to it, its answer comes back. */
  readonly #serverOffer = this.offer === "";

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
        // The WHEP draft: an endpoint that needs a live publisher answers
        // 409 with Retry-After (players may back off from it).
        if (!message.live) {
          this.refuse(
            409,
            "not-live",
            "The stream is not live",
            NOT_LIVE_RETRY_AFTER_S,
          );
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

  /**
   * The player's answer to Janus's offer (a server offer): to Janus as it
   * is, once.
   */
  override acceptAnswer(
    answer: string,
  ): Promise<{ code: string; message: string } | undefined> {
    if (!this.#serverOffer) return super.acceptAnswer(answer);
    if (this.offer !== "" || this.#janusOffer === undefined) {
      return Promise.resolve({
        code: "answered",
        message: "This session's offer was answered already",
      });
    }
    this.offer = answer;
    return Promise.resolve(this.host.handle(this, {
      type: "webrtc-answer",
      streamId: this.streamId,
      answer: { type: "answer", sdp: answer },
    })).then(() => undefined);
  }

  /**
   * Janus offers anew; the player's new credentials answer it (bridged, or
   * as they are after a server offer: `offer` is then the player's answer
   * with them, and Janus's new offer goes back).
   */
  async restartIce(offer: string): Promise<string> {
    const janusOffer = await this.host.ice.subscriber(this.streamId, this.id);
    if (this.#serverOffer) {
      await this.host.ice.answer(this.streamId, this.id, offer);
      this.#janusOffer = janusOffer;
      return janusOffer;
    }
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
    // Its offer for the player, in the 201; the answer comes by PATCH.
    if (this.#serverOffer) return this.answered(sdp);
    try {
      const { toPlayer, toJanus } = bridge(this.offer, sdp);
      handOn(this.host, this, {
        type: "webrtc-answer",
        streamId: this.streamId,
        answer: { type: "answer", sdp: toJanus },
      });
      this.answered(toPlayer);
    } catch (error) {
      // 400, not 422: players switch to a server offer (a POST without
      // an offer) on exactly that (Eyevinn's webrtc-player).
      if (error instanceof SdpBridgeError) {
        return this.refuse(
          400,
          "unplayable-offer",
          `${error.message}; POST without an offer to get the server's`,
        );
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
  serverOffers: true,
  answersGet: true,
  open: (host, init) => new WhepSession(host, init),
};
