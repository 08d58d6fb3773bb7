/**
 * The data of a stream's SFU topology (see topology.ts): its phase, each
 * viewer's route, the events that happen to it and the effects a step
 * leaves to do. Plain JSON, so a store can keep it.
 *
 * The phases: `p2p -> asked -> publishing -> published`, or back to `p2p`
 * when the broadcaster does not publish in time (a seed broadcaster never
 * will; it is not asked again), Janus refuses, or Janus is lost. A stream
 * never goes back because viewers left: a second switch costs more than it
 * saves.
 *
 * A viewer's route: from the broadcaster (`p2p`), waiting for the stream to
 * publish (`held`), from the SFU while its peer-to-peer video still plays
 * (`switching`: it said `overlap`, make before break), or from the SFU alone
 * (`sfu`).
 */
import type { ServerMessage } from "../../protocol/messages.ts";
import type { Seat, ViewerSeat } from "../signaling/directory.ts";

export type SfuPhase = "p2p" | "asked" | "publishing" | "published";
export type ViewerRoute = "p2p" | "held" | "switching" | "sfu";

/** The phase moves a step may make; anything else is a bug (it throws). */
export const PHASE_MOVES: Readonly<Record<SfuPhase, readonly SfuPhase[]>> = {
  p2p: ["asked"],
  asked: ["p2p", "publishing"],
  // Back to asked: its Janus instance was lost, another takes it.
  publishing: ["p2p", "published", "asked"],
  published: ["p2p", "asked"],
};

export interface ViewerEntry {
  readonly seat: ViewerSeat;
  /** It keeps its connection until a new one plays (`join-stream.overlap`). */
  readonly overlap: boolean;
  /** It watches through the SFU only (WHEP): its stream goes there for it. */
  readonly sfuOnly: boolean;
  readonly route: ViewerRoute;
  /** Its current subscription (answers to older ones are stale). */
  readonly attempt?: number;
  /** Janus's offer to it closes its broadcaster's connection (a seed viewer). */
  readonly movesOnOffer?: boolean;
  /** The SDP session of Janus's offer to it. */
  readonly janusSession?: string;
  /** Its broadcaster counted it as an SFU viewer (`viewer-joined`, `sfu`). */
  readonly told?: boolean;
  /** A subscription of it failed once already (the next failure falls back). */
  readonly retried?: boolean;
}

export interface StreamTopology {
  readonly streamId: string;
  readonly phase: SfuPhase;
  readonly broadcaster?: Seat;
  /** Its broadcaster did not publish when asked: peer to peer it stays. */
  readonly declined: boolean;
  /** Its broadcaster publishes through the SFU only (WHIP). */
  readonly sfuOnly: boolean;
  /** By client id, in the order they came. */
  readonly viewers: Readonly<Record<string, ViewerEntry>>;
  /** Subscriptions made so far (numbers each one). */
  readonly attempts: number;
  /** The publish under way or done (answers to older ones are stale). */
  readonly publication?: number;
  /**
   * Its broadcaster encrypts end to end (`broadcaster-ready.e2ee`): its
   * publish asks for a room that requires it. Absent when not (and in
   * states saved before there was such a flag).
   */
  readonly e2ee?: true;
  /**
   * Published: the simulcast rids of its offer, smallest first, so that a
   * node taking the stream over starts its layer choice with them.
   */
  readonly rids?: readonly string[];
}

export interface TopologyConfig {
  /** A stream with more viewers than this goes to the SFU (0: every stream). */
  readonly afterViewers: number;
  /**
   * Peer to peer (Janus down, or a broadcaster that does not publish), the
   * most viewers a broadcaster is told to connect to; the rest wait, held.
   */
  readonly directMax: number;
}

/** What happened to a stream. `sfuUp`: Janus is linked now. */
export type TopologyEvent =
  | {
    kind: "announce";
    broadcaster: Seat;
    viewers: readonly ViewerSeat[];
    sfuOnly: boolean;
    sfuUp: boolean;
    /** It encrypts end to end; `viewers` are only those that decrypt. */
    e2ee?: true;
  }
  | {
    kind: "join";
    viewer: ViewerSeat;
    restart: boolean;
    overlap: boolean;
    sfuOnly: boolean;
    sfuUp: boolean;
    /** Janus holds a subscription for it already. */
    subscribed: boolean;
  }
  | { kind: "depart"; clientId: string; role: "broadcaster" | "viewer" }
  | { kind: "offer"; from: string; sdp: string }
  /** Janus answered the offer of `from` (the broadcaster it was asked of). */
  | {
    kind: "published";
    from: string;
    publication: number;
    sdp: string;
    /** The simulcast rids of the broadcaster's offer, smallest first. */
    rids?: readonly string[];
  }
  | { kind: "publish-failed"; from: string; publication: number }
  | { kind: "offer-timeout" }
  | { kind: "subscribed"; viewerId: string; attempt: number; sdp: string }
  | { kind: "playing"; viewerId: string; session?: string }
  | { kind: "switch-timeout"; viewerId: string }
  /** Janus did not subscribe it (that attempt). */
  | { kind: "subscribe-failed"; viewerId: string; attempt: number }
  /** Its subscription's instance was lost (an edge): subscribe it anew. */
  | { kind: "resubscribe"; viewerId: string }
  /** Its Janus instance was lost; `sfuUp`: another is linked. */
  | { kind: "sfu-lost"; sfuUp: boolean }
  /**
   * The broadcaster's connection to Janus failed and Janus refused its ICE
   * restart: it publishes anew.
   */
  | { kind: "publisher-lost" }
  | { kind: "sfu-up" };

/** Why a stream went back to peer to peer (a metric label). */
export type FallbackWhy =
  | "janus-down"
  | "no-sfu-offer"
  | "publish-failed"
  | "switch-timeout"
  | "subscribe-failed";

/** What the relay does after a step, in order. */
export type Effect =
  | { kind: "send"; to: Seat; message: ServerMessage }
  | {
    kind: "publish";
    from: string;
    sdp: string;
    publication: number;
    /** An end-to-end encrypted stream: its room requires it. */
    e2ee?: true;
  }
  /** Published again elsewhere: its Janus instance was lost. */
  | { kind: "republish" }
  | { kind: "subscribe"; viewerId: string; attempt: number }
  | { kind: "unsubscribe"; viewerId: string }
  /** Janus's side of the stream ends. */
  | { kind: "end" }
  | { kind: "start-timer"; timer: "offer" }
  | { kind: "start-timer"; timer: "switch"; viewerId: string }
  | { kind: "stop-timer"; timer: "offer" }
  | { kind: "stop-timer"; timer: "switch"; viewerId: string }
  /** Its simulcast layer choice starts over (a new subscription). */
  | { kind: "forget-layers"; viewerId: string }
  /** The stream's layer choice starts over with these rids (published). */
  | { kind: "layers"; rids: readonly string[] }
  | { kind: "fallback"; why: FallbackWhy; viewerId?: string }
  | { kind: "moved"; viewerId: string; overlap: boolean }
  | { kind: "restart-not-needed"; viewerId: string };

export type Step =
  | {
    ok: true;
    state: StreamTopology;
    effects: readonly Effect[];
    /** `join`: the SFU takes the viewer (the broadcaster is not told to connect). */
    taken?: boolean;
    /** `announce`: the viewers the broadcaster connects to itself. */
    direct?: readonly ViewerSeat[];
  }
  | { ok: false; why: string };

/** A stream nothing has happened to yet. */
export function emptyTopology(streamId: string): StreamTopology {
  return {
    streamId,
    phase: "p2p",
    declined: false,
    sfuOnly: false,
    viewers: {},
    attempts: 0,
  };
}

/** No broadcaster and no viewer: nothing to keep. */
export function isEmpty(state: StreamTopology): boolean {
  return !state.broadcaster && Object.keys(state.viewers).length === 0;
}

/** Whether the stream should be on the SFU (Janus permitting). */
export function wanted(state: StreamTopology, config: TopologyConfig): boolean {
  if (state.phase !== "p2p" || !state.broadcaster || state.declined) {
    return false;
  }
  const viewers = Object.values(state.viewers);
  return state.sfuOnly || config.afterViewers === 0 ||
    viewers.some((viewer) => viewer.sfuOnly) ||
    // Past what a broadcaster connects to itself, whatever the threshold.
    viewers.length > Math.min(config.afterViewers, config.directMax);
}
