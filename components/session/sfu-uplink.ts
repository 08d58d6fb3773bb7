/**
 * The broadcaster's one connection to the SFU, made when the server asks
 * (`sfu-publish`): the camera goes up once, whatever the number of viewers,
 * and the SFU sends it on to each. Video is simulcast in up to three layers,
 * as many as the browser sends for the picture's size, so the SFU can give
 * each viewer the one its network carries; the upload budget is this
 * connection's. The server says which layers its viewers need
 * (`sfu-layers`): the others are paused. A connection that fails, or whose
 * path falls silent (our address changed), restarts its ICE (an `sfu-offer`
 * while published): Janus answers on the same publisher, and the viewers
 * keep their subscriptions.
 */
import type {
  IceCandidate,
  SessionDescription,
  SfuAnswer,
  SfuPublish,
} from "../../protocol/messages.ts";
// Types only: a value from the bundle would make a chunk it loads at once.
import type { BitrateBudget } from "../media/bitrate-budget.ts";
import type { PathCount } from "./path-silence.ts";
import type { PeerLink } from "./stream-session.ts";

export interface SfuUplinkOptions {
  /** The camera's stream. */
  stream(): MediaStream;
  /** The upload budget, shared by the layers. */
  budget(): BitrateBudget;
  /** The connection's state changed (for rendering). */
  onChange(): void;
  /** path-silence.ts's, passed in (see the imports). */
  fellSilent(
    holder: { path?: PathCount },
    received: number,
    sent: number,
    now: number,
    silentMs: number,
  ): boolean;
  /** The path fell silent: is the socket alive? (Our offer goes by it.) */
  onPathLost(): void;
}

/**
 * Nothing back from Janus this long while sending: silent. Janus answers
 * the camera's packets with congestion feedback every 200 ms (its
 * `twcc_period`; measured: never more than 250 ms apart). Each packet the
 * camera sends before the restart's hold goes into the void, and Janus asks
 * for every one again once the path is back (see #hold): at 1 s, ~85 of
 * them held the picture 0.3-0.5 s after its first frames.
 */
const SILENT_MS = 500;
const SILENCE_CHECK_MS = 125;
/** `disconnected` this long: restarted (it may come back by itself first). */
const DISCONNECTED_GRACE_MS = 2_000;
/** Sending held this long at most while a restart finds a path (see #hold). */
const HOLD_MAX_MS = 5_000;
/** Sending again refused three times in a row: tried again this much later. */
const RESEND_RETRY_MS = 1_000;

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
  /**
   * Bumped with each wish for the layers (or the hold), and after each
   * description applied (see #wishAgain); never reset.
   */
  #wish = 0;
  /** The wish last applied (0: none on this connection). */
  #applied = 0;
  /** Sending held while a restart finds a path (see #hold). */
  #held = false;
  #holdTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** The path's packet counts (path-silence.ts). */
  #path: { path?: PathCount } = {};
  #silenceTimer: ReturnType<typeof setInterval> | undefined;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** An ICE restart's offer is being made. */
  #restarting = false;
  /**
   * What our offer still unanswered is: the first one (`publish`: the
   * server's publish decides what comes of it) or a restart's.
   */
  #unanswered: "publish" | "restart" | undefined;

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
    this.#applied = this.#wish;
    addCamera(pc, this.#options.stream(), this.#options.budget());
    pc.onicecandidate = ({ candidate }) => {
      if (!candidate || this.#pc !== pc) return;
      this.#link.send({
        type: "sfu-ice-candidate",
        streamId,
        candidate: candidate.toJSON() as IceCandidate,
      });
    };
    pc.onconnectionstatechange = () => {
      this.#onState(pc);
      this.#options.onChange();
    };
    this.#path = {};
    this.#silenceTimer ??= setInterval(
      // A connection closed while its statistics were asked for: let go.
      () => void this.#checkPath().catch(() => {}),
      SILENCE_CHECK_MS,
    );
    await pc.setLocalDescription(await pc.createOffer());
    if (this.#pc !== pc) return;
    // Chromium stays `connected` through a restart: the new path shows as
    // a selected pair of the restart's credentials (the old ones' pairs are
    // selected in turn as they die). Firefox goes through `disconnected`.
    const ice = pc.getSenders()[0]?.transport?.iceTransport;
    ice?.addEventListener("selectedcandidatepairchange", () => {
      const ufrag = /a=ice-ufrag:(\S+)/.exec(pc.localDescription!.sdp)?.[1];
      if (
        this.#pc === pc &&
        ice.getSelectedCandidatePair?.()?.local?.usernameFragment === ufrag
      ) this.#hold(false);
    });
    this.#unanswered = "publish";
    this.#offer(pc);
  }

  /**
   * Sends `pc`'s offer (again: a restart's that the socket lost on the way,
   * its address gone with ours, once the stream has us back).
   */
  #offer(pc: RTCPeerConnection): void {
    const streamId = this.#link.streamId;
    if (this.#pc !== pc || !streamId) return;
    this.#link.send({
      type: "sfu-offer",
      streamId,
      offer: { type: "offer", sdp: pc.localDescription?.sdp ?? "" },
    });
  }

  /**
   * An ICE restart, on the same connection: new candidates (our address
   * changed), the same publisher on Janus. A restart's offer still
   * unanswered is sent again instead; none before the first answer (the
   * server's publish under way decides: it asks again if it must).
   */
  async restart(): Promise<void> {
    const pc = this.#pc;
    if (!pc || this.#restarting || pc.signalingState === "closed") return;
    clearTimeout(this.#graceTimer);
    if (this.#unanswered === "publish") return;
    this.#hold(true);
    if (this.#unanswered) return this.#offer(pc);
    this.#restarting = true;
    try {
      await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
    } catch (error) {
      // Closed meanwhile (replaced, the element gone): nothing to restart.
      if (this.#pc === pc) {
        console.warn("live-broadcaster: the SFU ICE restart failed", error);
      }
      return;
    } finally {
      this.#restarting = false;
    }
    if (this.#pc !== pc) return;
    this.#wishAgain();
    this.#unanswered = "restart";
    this.#offer(pc);
  }

  /**
   * The stream has us again after our socket came back: a restart's offer
   * the old socket lost goes again; after a silence (our network may have
   * changed) the connection restarts unless it is known to work.
   */
  rejoined(networkSuspect: boolean): void {
    const pc = this.#pc;
    if (
      pc && (this.#unanswered === "restart" ||
        !this.#unanswered && networkSuspect &&
          pc.connectionState !== "connected")
    ) void this.restart();
  }

  #onState(pc: RTCPeerConnection): void {
    if (this.#pc !== pc) return;
    clearTimeout(this.#graceTimer);
    const state = pc.connectionState;
    if (state === "connected") this.#hold(false);
    if (state === "failed") void this.restart();
    else if (state === "disconnected") {
      this.#graceTimer = setTimeout(
        () => void this.restart(),
        DISCONNECTED_GRACE_MS,
      );
    }
  }

  /** Sends and hears nothing back from Janus: restarted at once. */
  async #checkPath(): Promise<void> {
    const pc = this.#pc;
    if (pc?.connectionState !== "connected" || this.#restarting) return;
    let received = 0;
    let sent = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.type === "transport") {
        received += s.packetsReceived ?? 0;
        sent += s.packetsSent ?? 0;
      }
    });
    if (
      this.#pc === pc &&
      this.#options.fellSilent(
        this.#path,
        received,
        sent,
        performance.now(),
        SILENT_MS,
      )
    ) {
      console.info("live-broadcaster: the SFU path went silent: ICE restart");
      this.#options.onPathLost();
      void this.restart();
    }
  }

  /** The SFU's answer to our offer. */
  async answer(answer: SessionDescription<"answer">): Promise<void> {
    const pc = this.#pc;
    if (pc?.signalingState !== "have-local-offer") return;
    this.#unanswered = undefined;
    await pc.setRemoteDescription(answer);
    // Layers asked for before the answer: applied to what was negotiated.
    this.#wishAgain();
  }

  /**
   * Applies the wish (new, or the same again). Again after each description:
   * Chromium sets each layer's `active` from one it applies (the offer's
   * `a=simulcast`, made from the layers as they were when it was created,
   * and the answer's), so a restart's offer made while the hold's
   * `setParameters` was under way, or its answer, sent the layers again
   * (seen: the camera sent into the void through every restart, layers no
   * viewer wanted sent after it).
   */
  #wishAgain(): void {
    this.#wish++;
    void this.#applyLayers();
  }

  /** The server's `sfu-layers`: send these rids, pause the others. */
  layers(rids: string[]): void {
    this.#rids = rids;
    this.#wishAgain();
  }

  /**
   * Nothing sent while the path is down and a restart finds another: what
   * the camera sent into the void, Janus asks for again once the path is
   * back (NACKs, up to 160 packets a layer; its reset of them on a key
   * frame never fires, Janus 1.1.2), and the browser sends those
   * retransmissions ahead of the frames that follow the key frame (seen:
   * a 0.3-0.8 s stall after the first frames). So the fewer sent before
   * the hold, the shorter that (see SILENT_MS). Sent again once a path
   * works (see publish and #onState). At most {@link HOLD_MAX_MS}.
   */
  #hold(held: boolean): void {
    if (held === this.#held) return;
    this.#held = held;
    clearTimeout(this.#holdTimer);
    if (held) {
      this.#holdTimer = setTimeout(() => this.#hold(false), HOLD_MAX_MS);
    }
    this.#wishAgain();
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
      let refused = 0;
      while (this.#applied !== this.#wish && refused < 3) {
        const wish = this.#wish;
        const rids = this.#rids;
        const pc = this.#pc;
        let done: boolean | undefined;
        for (const sender of pc?.getSenders() ?? []) {
          const parameters = sender.getParameters();
          // Before the answer there is nothing negotiated to pause.
          if (!parameters.encodings?.length) continue;
          const video = sender.track?.kind === "video";
          let change = false;
          for (const encoding of parameters.encodings) {
            const active = !this.#held &&
              (!video || !rids || rids.includes(encoding.rid!));
            change ||= encoding.active !== active;
            encoding.active = active;
          }
          // As wished already (most answers): nothing to set.
          done = !change ? done ?? true : await sender.setParameters(
            parameters,
          ).then(() => done ?? true, () => false);
        }
        if (done === undefined) return;
        // Applied to a connection replaced meanwhile: the new one's turn.
        if (done) this.#applied = this.#pc === pc ? wish : this.#applied;
        else refused++;
      }
      // Never left silent: sending again is tried until it is done.
      if (this.#applied !== this.#wish && !this.#held && this.#pc) {
        this.#retryTimer = setTimeout(
          () => void this.#applyLayers(),
          RESEND_RETRY_MS,
        );
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
    clearInterval(this.#silenceTimer);
    clearTimeout(this.#graceTimer);
    clearTimeout(this.#holdTimer);
    clearTimeout(this.#retryTimer);
    this.#held = false;
    this.#silenceTimer = undefined;
    this.#unanswered = undefined;
    this.#pc?.close();
    this.#pc = undefined;
  }
}
