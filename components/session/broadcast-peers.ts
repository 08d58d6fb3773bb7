/**
 * The broadcaster's side of WebRTC: one RTCPeerConnection per viewer, in a
 * map keyed by viewer id (the seed's key design decision). Each viewer is
 * negotiated, recovered and closed on its own; nothing here touches another
 * viewer's connection. An answer the browser refuses is reported, then that
 * viewer gets a new connection after a backoff, and past the bound none
 * (negotiation-retry.ts) until it leaves and comes back.
 */
import {
  type IceCandidate,
  MAX_NEGOTIATION_REASON_LENGTH,
  type SessionDescription,
} from "../../protocol/messages.ts";
import type { PeerLink } from "./stream-session.ts";
import { sessionIdOf } from "../../protocol/sdp-session.ts";
import { ViewerReplay } from "./viewer-replay.ts";
import { fellSilent, type PathCount } from "./path-silence.ts";
import type { NegotiationRetry } from "./negotiation-retry.ts";

export interface BroadcastPeersOptions {
  /** The stream whose tracks every viewer gets. */
  stream(): MediaStream;
  /** Video bits per second for each viewer when there are `viewers`. */
  bitrateFor(viewers: number): number;
  /** A viewer's connection state changed (for rendering). */
  onChange(): void;
  /** A connection lost its path: the network may have changed under us. */
  onPathLost(): void;
  /** The browser refused a viewer's answer (the server has been told). */
  onRefused(viewerId: string, error: unknown): void;
  /**
   * A viewer the server will not name again is gone: one not named after
   * our reconnection, or an id of ours it replaced (a refused claim).
   */
  onGone(viewerId: string): void;
}

/** How long `disconnected` may last before it is treated as `failed`. */
const DISCONNECTED_GRACE_MS = 4_000;
/**
 * Above 360 lines the encoder starts at 360 lines: from WebRTC's low start
 * bitrate it would scale down anyway, slowly, frame by frame; given 360
 * lines at once its first frame comes ~100 ms sooner at 720p (measured:
 * bench/time-to-first-frame.ts). Full resolution follows with the budget.
 */
function startEncoding(track: MediaStreamTrack): RTCRtpEncodingParameters {
  const height = track.getSettings().height ?? 0;
  return { scaleResolutionDownBy: height > 360 ? height / 360 : 1 };
}

/** How often connected paths are checked for silence (path-silence.ts). */
const SILENCE_CHECK_MS = 200;

/** How long after `connected` a viewer's share of the upload budget is set. */
const BUDGET_DELAY_MS = 1_000;
/** Fresh connections tried for one viewer after an ICE restart did not help. */
const MAX_REBUILDS = 3;
/**
 * How long a connection the server did not name after our reconnection is
 * kept: after a restart, a viewer's own reconnection may back off for a
 * while (the server was down), and its connection still works meanwhile.
 */
const STALE_GRACE_MS = 30_000;

interface Peer {
  readonly viewerId: string;
  readonly pc: RTCPeerConnection;
  /** Serializes negotiation steps: each waits for the one before. */
  queue: Promise<void>;
  /** Candidates that arrived before the answer was applied. */
  early: IceCandidate[];
  iceRestarts: number;
  rebuilds: number;
  graceTimer?: ReturnType<typeof setTimeout>;
  /** Set while the server has not named this viewer after our reconnection. */
  staleTimer?: ReturnType<typeof setTimeout>;
  /**
   * Not named after a reconnection that gave us a new id: the viewer comes
   * back under a new id too, naming this connection's session. It plays
   * until that viewer's new connection replaces it; never repaired.
   */
  orphan?: boolean;
  /** The orphan's viewer under its new id, once it named this connection. */
  replacedBy?: string;
  /**
   * The session of ours its viewer named when this connection was made to
   * replace that one: the server goes on naming it (a viewer's `join-stream`
   * says what it holds, and it has not joined since), so it names this one.
   */
  replaces?: string;
  /** Our SDP session id (`o=` line), once the first offer is set. */
  session?: string;
  /** Set once video has had time to start; before that no maxBitrate is set. */
  budgeted: boolean;
  budgetTimer?: ReturnType<typeof setTimeout>;
  /** Its answer was refused: a fresh connection when this fires. */
  retryTimer?: ReturnType<typeof setTimeout>;
  /** Its packet counts, for path-silence.ts. */
  path?: PathCount;
}

export class BroadcastPeers {
  #link: PeerLink;
  #options: BroadcastPeersOptions;
  #peers = new Map<string, Peer>();
  /** Refused answers per viewer since its connection last connected. */
  #refusals = new Map<string, NegotiationRetry>();
  #replay: ViewerReplay | undefined;
  /** The server gave us a new id: connections it does not name are orphans. */
  #newIds = false;
  /** Whether the replay restarts every named connection (our network may have changed). */
  #restartReplayed = false;
  #silenceTimer: ReturnType<typeof setInterval> | undefined;

  constructor(link: PeerLink, options: BroadcastPeersOptions) {
    this.#link = link;
    this.#options = options;
  }

  get size(): number {
    return this.#peers.size;
  }

  /** Each viewer's id and connection state, in join order. */
  states(): { viewerId: string; state: RTCPeerConnectionState }[] {
    // A replaced orphan's viewer is listed once, under its new id.
    return [...this.#peers.values()].filter((peer) => !peer.replacedBy).map((
      peer,
    ) => ({
      viewerId: peer.viewerId,
      state: peer.pc.connectionState,
    }));
  }

  /**
   * Accepted as the broadcaster: `viewerCount` `viewer-joined` follow, one
   * per viewer the server has. Connections to viewers it does not name are
   * closed {@link STALE_GRACE_MS} later unless named by then: viewers may
   * come back after us (after a restart, say). When the server gave us a
   * new client id (a rotated key refused our claim) they come back under
   * new ids too: each such connection plays until the new one of the viewer
   * naming its session replaces it (make before break).
   */
  accepted(
    viewerCount: number,
    { resumed, restart }: { resumed: boolean; restart: boolean },
  ): void {
    this.#replay = new ViewerReplay(viewerCount);
    this.#newIds = !resumed;
    this.#restartReplayed = restart;
    this.#endReplay();
  }

  /**
   * A `viewer-joined`. `session` is the SDP session of ours the viewer still
   * holds: that connection is kept, and its ICE restarted when there is a
   * reason (the viewer asks with `restart`, it does not work, or our own
   * network may have changed); never rebuilt. Without it the viewer needs a
   * fresh connection, except a seed viewer named again after our
   * reconnection whose connection still works. `keyFrame`: media arrives on
   * it but its picture does not decode: a key frame instead, if it works.
   */
  join(
    viewerId: string,
    session?: string,
    restart = false,
    keyFrame = false,
  ): void {
    const peer = this.#peers.get(viewerId);
    const replaying = this.#replay !== undefined;
    this.#replay?.name(viewerId);
    clearTimeout(peer?.staleTimer);
    // Given up on: its browser refuses ours; nothing new until it leaves.
    if (this.#refusals.get(viewerId)?.phase === "gave-up") {
      this.#endReplay();
      return;
    }
    if (
      peer && session !== undefined &&
      (session === peer.session || session === peer.replaces)
    ) {
      const working = peer.pc.connectionState === "connected" &&
        peer.pc.signalingState === "stable";
      // Media arrives but its picture does not decode: the path works, the
      // decoder waits for a key frame (its own request may have been lost
      // with an old path; Chromium asks again only ~3 s later).
      if (keyFrame && working) askKeyFrame(peer.pc);
      else if (restart || !working || (replaying && this.#restartReplayed)) {
        this.#restartIce(peer);
      }
    } else if (
      !(peer && session === undefined && replaying && this.#isHealthy(peer))
    ) {
      // Our connection, under its viewer's old id (ours and its claims were
      // refused): it plays until this one does. During the replay it is not
      // an orphan yet; once complete it is.
      let replaces: string | undefined;
      for (const old of this.#peers.values()) {
        if (session && old.session === session) {
          old.replacedBy = viewerId;
          replaces = session;
        }
      }
      this.#connect(viewerId);
      // After a later reconnection of ours the server names the old one.
      this.#peers.get(viewerId)!.replaces = replaces;
    }
    this.#endReplay();
  }

  /**
   * The device is back online: every connection not known to work restarts
   * its ICE now instead of waiting out its own timers. An offer that cannot
   * go out (the socket is still down) is sent again when the viewer is
   * named after the reconnection.
   */
  restartBroken(): void {
    for (const peer of this.#peers.values()) {
      if (peer.pc.connectionState !== "connected" && !peer.orphan) {
        this.#restartIce(peer);
      }
    }
  }

  /** Once the replay is complete: viewers it did not name leave soon. */
  #endReplay(): void {
    const replay = this.#replay;
    if (!replay?.complete) return;
    this.#replay = undefined;
    for (const viewerId of replay.stale(this.#peers.keys())) {
      const peer = this.#peers.get(viewerId)!;
      clearTimeout(peer.staleTimer);
      peer.orphan = this.#newIds;
      peer.staleTimer = setTimeout(() => this.#gone(viewerId), STALE_GRACE_MS);
    }
  }

  #isHealthy(peer: Peer): boolean {
    const state = peer.pc.connectionState;
    return state === "connected" || state === "connecting" || state === "new";
  }

  #restartIce(peer: Peer): void {
    if (peer.pc.signalingState === "closed") return;
    clearTimeout(peer.graceTimer);
    peer.iceRestarts++;
    this.#negotiate(peer, true);
  }

  /** A fresh connection to `viewerId`, replacing any earlier one. */
  #connect(viewerId: string, counters = { iceRestarts: 0, rebuilds: 0 }): void {
    this.#drop(viewerId);
    const pc = this.#link.newConnection();
    const peer: Peer = {
      viewerId,
      pc,
      queue: Promise.resolve(),
      early: [],
      budgeted: false,
      ...counters,
    };
    this.#peers.set(viewerId, peer);
    const stream = this.#options.stream();
    for (const track of stream.getTracks()) {
      pc.addTransceiver(track, {
        direction: "sendonly",
        streams: [stream],
        ...(track.kind === "video"
          ? { sendEncodings: [startEncoding(track)] }
          : {}),
      });
    }
    pc.addEventListener("icecandidate", ({ candidate }) => {
      // A null candidate marks the end of gathering; the seed never sent it.
      if (!candidate || this.#peers.get(viewerId) !== peer) return;
      this.#link.send({
        type: "webrtc-ice-candidate",
        streamId: this.#link.streamId!,
        viewerId,
        candidate: candidate.toJSON() as IceCandidate,
      });
    });
    pc.addEventListener(
      "connectionstatechange",
      () => this.#onConnectionState(peer),
    );
    pc.addEventListener("signalingstatechange", () => {
      // A restart answered on a connection that never dropped: it worked.
      if (
        pc.signalingState === "stable" && pc.connectionState === "connected"
      ) {
        peer.iceRestarts = 0;
      }
    });
    pc.addEventListener("icecandidateerror", (event) => {
      const { errorCode } = event as RTCPeerConnectionIceErrorEvent;
      // 401 Unauthorized from a TURN server; other codes are routine
      // (an unreachable STUN server, say) and ICE copes with them.
      if (errorCode === 401) this.#link.turnRefused();
    });
    this.#negotiate(peer, false);
    this.applyBitrates();
    this.#options.onChange();
    // Closed while its statistics were asked for: checked again next time.
    this.#silenceTimer ??= setInterval(
      () => this.#checkPaths().catch(() => {}),
      SILENCE_CHECK_MS,
    );
  }

  /**
   * A path that went silent (our address changed, say): is the socket
   * alive? If not, it reconnects at once and every viewer's ICE restarts
   * (seconds before the socket's heartbeat or ICE would notice).
   */
  async #checkPaths(): Promise<void> {
    let silent = false;
    for (const peer of this.#peers.values()) {
      if (peer.pc.connectionState !== "connected") continue;
      let received = 0;
      let sent = 0;
      (await peer.pc.getStats()).forEach((s) => {
        if (s.type === "transport") {
          received += s.packetsReceived;
          sent += s.packetsSent;
        }
      });
      silent = fellSilent(peer, received, sent, performance.now()) || silent;
    }
    if (silent) this.#options.onPathLost();
  }

  /** The viewer is gone (or no longer ours): its connection and its count. */
  close(viewerId: string): void {
    this.#refusals.delete(viewerId);
    this.#drop(viewerId);
  }

  /** `viewerId` left while nobody could tell us: closed, and said. */
  #gone(viewerId: string): void {
    this.close(viewerId);
    this.#options.onGone(viewerId);
  }

  /** Closes the connection to `viewerId`, keeping its count of refusals. */
  #drop(viewerId: string): void {
    const peer = this.#peers.get(viewerId);
    if (!peer) return;
    clearTimeout(peer.graceTimer);
    clearTimeout(peer.budgetTimer);
    clearTimeout(peer.staleTimer);
    clearTimeout(peer.retryTimer);
    this.#peers.delete(viewerId);
    peer.pc.close();
    if (!this.#peers.size) {
      clearInterval(this.#silenceTimer);
      this.#silenceTimer = undefined;
    }
    this.applyBitrates();
    this.#options.onChange();
  }

  closeAll(): void {
    this.#replay = undefined;
    this.#refusals.clear();
    for (const viewerId of [...this.#peers.keys()]) this.close(viewerId);
  }

  handleAnswer(viewerId: string, answer: SessionDescription<"answer">): void {
    const peer = this.#peers.get(viewerId);
    if (!peer) return;
    this.#enqueue(peer, async () => {
      if (peer.pc.signalingState !== "have-local-offer") return;
      try {
        await peer.pc.setRemoteDescription(answer);
      } catch (error) {
        return this.#refused(peer, error);
      }
      // One stale candidate (an earlier session's) fails alone.
      for (const candidate of peer.early.splice(0)) {
        await peer.pc.addIceCandidate(candidate).catch(() => {});
      }
      this.#applyBitrate(peer);
    });
  }

  handleCandidate(viewerId: string, candidate: IceCandidate): void {
    const peer = this.#peers.get(viewerId);
    if (!peer) return;
    this.#enqueue(peer, async () => {
      if (!peer.pc.remoteDescription) peer.early.push(candidate);
      else await peer.pc.addIceCandidate(candidate);
    });
  }

  /** Swaps a track on every viewer's sender: no renegotiation. */
  async replaceTrack(
    kind: string,
    track: MediaStreamTrack,
  ): Promise<void> {
    await Promise.all(
      [...this.#peers.values()].map((peer) => {
        const sender = peer.pc.getSenders().find((s) => s.track?.kind === kind);
        return sender?.replaceTrack(track).catch((error) => {
          console.warn(`replaceTrack failed for ${peer.viewerId}`, error);
        });
      }),
    );
  }

  /** Shares the upload budget across the current viewers; settles once applied. */
  applyBitrates(): Promise<void> {
    return Promise.all(
      [...this.#peers.values()].map((peer) => this.#applyBitrate(peer)),
    ).then(() => undefined);
  }

  async #applyBitrate(peer: Peer): Promise<void> {
    // Any maxBitrate during start-up makes Chromium's first frame ~55 ms later
    // and half the resolution (measured: bench/time-to-first-frame.ts).
    if (!peer.budgeted) return;
    const sender = peer.pc.getSenders().find((s) => s.track?.kind === "video");
    if (!sender) return;
    const parameters = sender.getParameters();
    // Before negotiation there are no encodings to limit; called again after.
    if (!parameters.encodings?.length) return;
    // A replaced orphan's viewer is counted once, by its new connection.
    const bitrate = this.#options.bitrateFor(this.states().length);
    const encoding = parameters.encodings[0];
    if (
      encoding.maxBitrate === bitrate && encoding.scaleResolutionDownBy === 1
    ) return;
    encoding.maxBitrate = bitrate;
    // Full resolution once started (see startEncoding).
    encoding.scaleResolutionDownBy = 1;
    await sender.setParameters(parameters).catch(() => {
      // A connection closing meanwhile; the next change applies again.
    });
  }

  #negotiate(peer: Peer, iceRestart: boolean): void {
    this.#enqueue(peer, async () => {
      // An offer still unanswered (lost while the viewer was away) is sent
      // again: a second one would make its late answer a mismatch.
      if (peer.pc.signalingState !== "have-local-offer") {
        const offer = await peer.pc.createOffer({ iceRestart });
        await peer.pc.setLocalDescription(offer);
      }
      peer.session ??= sessionIdOf(peer.pc.localDescription!.sdp);
      this.#link.send({
        type: "webrtc-offer",
        streamId: this.#link.streamId!,
        viewerId: peer.viewerId,
        offer: { type: "offer", sdp: peer.pc.localDescription!.sdp },
      });
    });
  }

  /**
   * The browser refused `peer`'s answer: reported, then a fresh connection
   * after the backoff (its entry stays, closed, meanwhile), or past the
   * bound none: its slot and share of the budget go to the others.
   */
  async #refused(peer: Peer, error: unknown): Promise<void> {
    const { viewerId } = peer;
    if (peer.pc.signalingState === "closed") return;
    // The server logs it (the viewer's own report: viewer-refusal.ts).
    const { streamId } = this.#link;
    if (streamId) {
      this.#link.send({
        type: "negotiation-failed",
        streamId,
        stage: "set-remote-answer",
        reason: String(error).slice(0, MAX_NEGOTIATION_REASON_LENGTH),
        viewerId,
      });
    }
    // Rare: the policy is a chunk (the socket that brought the answer is up).
    const { NEGOTIATION_CLEAN, negotiationStep } = await import(
      "./negotiation-retry.ts"
    );
    // Left or replaced while it loaded: nothing to retry.
    if (this.#peers.get(viewerId) !== peer) return;
    const step = negotiationStep(
      this.#refusals.get(viewerId) ?? NEGOTIATION_CLEAN,
      { kind: "refused", playing: false },
    );
    this.#refusals.set(viewerId, step.state);
    this.#options.onRefused(viewerId, error);
    if (step.effect.do === "retry") {
      peer.pc.close();
      peer.retryTimer = setTimeout(
        () => this.#connect(viewerId),
        step.effect.afterMs,
      );
      this.#options.onChange();
    } else this.#drop(viewerId);
  }

  #onConnectionState(peer: Peer): void {
    if (this.#peers.get(peer.viewerId) !== peer) return;
    clearTimeout(peer.graceTimer);
    const state = peer.pc.connectionState;
    // Nobody to repair it with; once replaced, its viewer closed it.
    if (
      peer.orphan &&
      (state === "failed" || (peer.replacedBy && state !== "connected"))
    ) return this.#gone(peer.viewerId);
    switch (state) {
      case "connected":
        this.#refusals.delete(peer.viewerId);
        peer.iceRestarts = 0;
        if (!peer.budgeted) {
          clearTimeout(peer.budgetTimer);
          peer.budgetTimer = setTimeout(() => {
            peer.budgeted = true;
            this.#applyBitrate(peer);
          }, BUDGET_DELAY_MS);
        } else this.#applyBitrate(peer);
        break;
      case "disconnected":
        this.#options.onPathLost();
        // Often recovers by itself (a Wi-Fi blip): give it a moment first.
        peer.graceTimer = setTimeout(
          () => this.#recover(peer),
          DISCONNECTED_GRACE_MS,
        );
        break;
      case "failed":
        this.#options.onPathLost();
        this.#recover(peer);
        break;
    }
    this.#options.onChange();
  }

  /** ICE restart first; if that does not help, a fresh connection. */
  #recover(peer: Peer): void {
    if (this.#peers.get(peer.viewerId) !== peer) return;
    // No way to reach the viewer now: once the socket is back, the server
    // names it again and join() restarts its ICE; a rebuild here would be
    // a connection the viewer never hears of.
    if (this.#link.signalingState !== "open") return;
    // Our offer is out: its answer, or the viewer coming back (it asks again
    // with its session), decides; a viewer that cannot answer cannot be
    // rebuilt to either.
    if (peer.pc.signalingState === "have-local-offer") return;
    if (peer.iceRestarts === 0) {
      peer.iceRestarts++;
      this.#negotiate(peer, true);
    } else if (peer.rebuilds < MAX_REBUILDS) {
      this.#connect(peer.viewerId, {
        iceRestarts: 0,
        rebuilds: peer.rebuilds + 1,
      });
    }
    // Past that the viewer stays failed until it joins again.
  }

  #enqueue(peer: Peer, step: () => Promise<void>): void {
    peer.queue = peer.queue.then(step).catch((error) => {
      if (peer.pc.signalingState === "closed") return;
      console.warn(`WebRTC step failed for viewer ${peer.viewerId}`, error);
    });
  }
}

/**
 * Asks `pc`'s video encoder for a key frame: `setParameters`' key-frame
 * option, which Chromium has (elsewhere an unread option: the viewer's own
 * request ~3 s later, as before).
 */
function askKeyFrame(pc: RTCPeerConnection): void {
  for (const sender of pc.getSenders()) {
    if (sender.track?.kind !== "video") continue;
    const parameters = sender.getParameters();
    (sender.setParameters as (
      parameters: RTCRtpSendParameters,
      options: { encodingOptions: { keyFrame: boolean }[] },
    ) => Promise<void>)(parameters, {
      encodingOptions: parameters.encodings.map(() => ({ keyFrame: true })),
    }).catch(() => {});
  }
}
