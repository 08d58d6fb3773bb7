/**
 * A topology step under way (topology.ts's Draft builds on it): a copy of
 * the state, changed in place, the effects so far, and the steps every
 * event shares: send, change a viewer, move the phase (only along
 * PHASE_MOVES), reset to peer to peer, and the peer-to-peer cap.
 */
import type { ServerMessage } from "../../protocol/messages.ts";
import type { Seat, ViewerSeat } from "../signaling/directory.ts";
import {
  type Effect,
  type FallbackWhy,
  PHASE_MOVES,
  type SfuPhase,
  type StreamTopology,
  type TopologyConfig,
  type ViewerEntry,
} from "./topology-model.ts";

export class DraftBase {
  state: {
    -readonly [K in keyof StreamTopology]: StreamTopology[K];
  };
  viewers: Record<string, ViewerEntry>;
  effects: Effect[] = [];
  taken?: boolean;
  direct?: readonly ViewerSeat[];
  protected config: TopologyConfig;

  constructor(state: StreamTopology, config: TopologyConfig) {
    this.viewers = { ...state.viewers };
    this.state = { ...state, viewers: this.viewers };
    this.config = config;
  }

  /**
   * Peer to peer after all: the viewers the broadcaster is to connect to.
   * A viewer that can only be served by the SFU (WHEP) is told it cannot
   * be, never handed to the broadcaster (it cannot answer a browser). Past
   * `directMax` connections (what a broadcaster's uplink carries) the rest
   * are held: served once the SFU is back, or as direct viewers leave.
   */
  protected directOnly(seats: readonly ViewerSeat[]): readonly ViewerSeat[] {
    const told = new Set(seats.map(({ id }) => id));
    let room = this.config.directMax -
      Object.values(this.viewers).filter((viewer) =>
        viewer.route === "p2p" && !viewer.sfuOnly && !told.has(viewer.seat.id)
      ).length;
    return seats.filter((seat) => {
      const viewer = this.viewers[seat.id];
      if (viewer?.sfuOnly) {
        this.cannotServe(seat);
        return false;
      }
      if (room > 0) {
        room--;
        if (viewer?.route === "held") this.put(viewer, { route: "p2p" });
        return true;
      }
      if (viewer) this.put(viewer, { route: "held" });
      return false;
    });
  }

  /**
   * A direct viewer left a peer-to-peer stream: the first one held takes its
   * place, if the broadcaster connects to fewer than `directMax` now (an
   * SFU-only viewer leaving freed none).
   */
  protected promoteHeld(): void {
    const { broadcaster } = this.state;
    const viewers = Object.values(this.viewers);
    const next = viewers.find((viewer) =>
      viewer.route === "held" && !viewer.sfuOnly
    );
    const direct =
      viewers.filter((viewer) => viewer.route === "p2p" && !viewer.sfuOnly)
        .length;
    if (!broadcaster || !next || direct >= this.config.directMax) return;
    this.put(next, { route: "p2p" });
    this.send(broadcaster, {
      type: "viewer-joined",
      streamId: this.state.streamId,
      viewerId: next.seat.id,
      viewerCount: Object.keys(this.viewers).length,
      ...(next.seat.session ? { session: next.seat.session } : {}),
    });
  }

  protected cannotServe(seat: Seat): void {
    this.send(seat, {
      type: "error",
      code: "sfu-unavailable",
      message:
        `The SFU cannot serve stream ${this.state.streamId} now (its broadcaster stays peer to peer)`,
      // Its join is what is refused (not one message of it).
      inReplyTo: "join-stream",
    });
  }

  /** The stream leaves the SFU: Janus's side ended, every viewer peer to peer. */
  protected reset(): void {
    this.effects.push({ kind: "stop-timer", timer: "offer" });
    if (this.state.phase !== "p2p") {
      this.phase("p2p");
      this.effects.push({ kind: "end" });
    }
    delete this.state.rids;
    for (const viewer of Object.values(this.viewers)) {
      if (viewer.route === "switching") {
        this.effects.push({
          kind: "stop-timer",
          timer: "switch",
          viewerId: viewer.seat.id,
        });
      }
      this.viewers[viewer.seat.id] = {
        seat: viewer.seat,
        overlap: viewer.overlap,
        sfuOnly: viewer.sfuOnly,
        route: "p2p",
      };
    }
  }

  /** `viewer-joined` for a broadcaster on the SFU: counted, not connected to. */
  protected tellBroadcaster(viewer: ViewerEntry): void {
    this.put(viewer, { told: true });
    this.send(this.state.broadcaster!, {
      type: "viewer-joined",
      streamId: this.state.streamId,
      viewerId: viewer.seat.id,
      viewerCount: Object.keys(this.viewers).length,
      sfu: true,
    });
  }

  /** Messages name their stream when the relay sends them (it knows the id). */
  protected send(to: Seat, message: ServerMessage): void {
    this.effects.push({ kind: "send", to, message });
  }

  protected put(
    viewer: ViewerEntry,
    change: Partial<ViewerEntry>,
  ): ViewerEntry {
    const next = { ...viewer, ...change };
    this.viewers[viewer.seat.id] = next;
    return next;
  }

  /** The one place the phase changes: a move not in PHASE_MOVES is a bug. */
  protected phase(next: SfuPhase): void {
    const from = this.state.phase;
    if (!PHASE_MOVES[from].includes(next)) {
      throw new Error(`SFU phase ${from} -> ${next} is not a move`);
    }
    this.state.phase = next;
  }

  /**
   * Back to peer to peer: the broadcaster hears of every viewer it does not
   * hold a connection to, as if the SFU had never been asked.
   */
  protected toPeerToPeer(why: FallbackWhy): undefined {
    const { broadcaster } = this.state;
    const orphans = Object.values(this.viewers).filter((viewer) =>
      viewer.route === "held" || viewer.route === "sfu"
    );
    this.reset();
    // A broadcaster that never published will not: do not ask it again.
    if (why === "no-sfu-offer") this.state.declined = true;
    this.effects.push({ kind: "fallback", why });
    if (!broadcaster) return;
    // A WHIP sender cannot go peer to peer: it is told the SFU failed.
    if (this.state.sfuOnly) {
      this.send(broadcaster, {
        type: "error",
        code: "internal-error",
        message: `The SFU could not take the stream (${why})`,
      });
      return;
    }
    const viewerCount = Object.keys(this.viewers).length;
    for (const seat of this.directOnly(orphans.map(({ seat }) => seat))) {
      this.send(broadcaster, {
        type: "viewer-joined",
        streamId: this.state.streamId,
        viewerId: seat.id,
        viewerCount,
        ...(seat.session ? { session: seat.session } : {}),
      });
    }
  }
}
