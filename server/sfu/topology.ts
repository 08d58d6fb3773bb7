/**
 * A stream's SFU topology as data: one `transition(state, event) → { state,
 * effects }` that says what changes and what to do about it (the data and
 * what the phases and routes mean: topology-model.ts). Pure: no timers, no
 * Janus, no sockets, no clock. The relay (sfu-relay.ts) keeps the states,
 * feeds it events and runs the effects; the state is plain JSON so a store
 * can keep it and apply a step atomically (the next step puts the SFU on
 * every node).
 */
import { sessionIdOf } from "../../protocol/sdp-session.ts";
import { janusConnects } from "./dtls-role.ts";
import {
  type Step,
  type StreamTopology,
  type TopologyConfig,
  type TopologyEvent,
  type ViewerEntry,
  wanted,
} from "./topology-model.ts";
import { DraftBase } from "./topology-draft.ts";

export * from "./topology-model.ts";

/**
 * The one place a stream's topology changes. Refuses (`ok: false`) an
 * event that does not apply in this state: a stale answer from Janus, a
 * timer that lost its race, an offer nobody asked for.
 */
export function transition(
  state: StreamTopology,
  event: TopologyEvent,
  config: TopologyConfig,
): Step {
  const step = new Draft(state, config);
  const why = step.apply(event);
  if (why !== undefined) return { ok: false, why };
  return {
    ok: true,
    state: step.state,
    effects: step.effects,
    ...(step.taken === undefined ? {} : { taken: step.taken }),
    ...(step.direct === undefined ? {} : { direct: step.direct }),
  };
}

/** A step under way: a copy of the state, changed in place, and its effects. */
class Draft extends DraftBase {
  /** Applies `event`; returns why it is refused, if it is. */
  apply(event: TopologyEvent): string | undefined {
    const { phase } = this.state;
    switch (event.kind) {
      case "announce":
        return this.#announce(event);
      case "join":
        return this.#join(event);
      case "depart":
        return this.#depart(event.clientId, event.role);
      case "offer":
        if (phase !== "asked") return `no offer is asked for in ${phase}`;
        if (this.state.broadcaster?.id !== event.from) {
          return "the offer is not from the stream's broadcaster";
        }
        this.effects.push({ kind: "stop-timer", timer: "offer" });
        this.phase("publishing");
        // Those it has not counted yet (a new publish after a lost
        // instance counted the rest before).
        for (const viewer of Object.values(this.viewers)) {
          if (viewer.route !== "p2p" && !viewer.told) {
            this.tellBroadcaster(viewer);
          }
        }
        this.state.publication = ++this.state.attempts;
        this.effects.push({
          kind: "publish",
          from: event.from,
          sdp: event.sdp,
          publication: this.state.publication,
          ...(this.state.e2ee ? { e2ee: true } : {}),
        });
        return;
      case "published":
        if (phase !== "publishing") return `not publishing (${phase})`;
        if (
          this.state.broadcaster?.id !== event.from ||
          this.state.publication !== event.publication
        ) return "a stale publish";
        this.send(this.state.broadcaster!, {
          type: "sfu-answer",
          streamId: this.state.streamId,
          answer: { type: "answer", sdp: event.sdp },
        });
        this.phase("published");
        if (event.rids) {
          this.state.rids = event.rids;
          this.effects.push({ kind: "layers", rids: event.rids });
        }
        for (const viewer of Object.values(this.viewers)) {
          this.#subscribe(viewer);
        }
        return;
      case "publish-failed":
        if (phase !== "publishing") return `not publishing (${phase})`;
        if (
          this.state.broadcaster?.id !== event.from ||
          this.state.publication !== event.publication
        ) return "a stale publish";
        return this.toPeerToPeer("publish-failed");
      case "offer-timeout":
        if (phase !== "asked") return `not asked (${phase})`;
        return this.toPeerToPeer("no-sfu-offer");
      case "sfu-lost":
        if (phase === "p2p") return "peer to peer already";
        // A WHIP sender cannot be asked again: it is told, as on a fallback.
        if (!event.sfuUp || this.state.sfuOnly) {
          return this.toPeerToPeer("janus-down");
        }
        // Asked: its offer goes to a linked instance when it comes.
        if (phase === "asked") return;
        return this.#republish();
      case "publisher-lost":
        if (phase !== "published") return `not published (${phase})`;
        return this.#republish();
      case "sfu-up":
        if (phase !== "p2p") return `on the SFU already (${phase})`;
        if (wanted(this.state, this.config)) this.#ask(true);
        return;
      case "subscribe-failed":
        return this.#subscribeFailed(event.viewerId, event.attempt);
      case "subscribed":
        return this.#subscribed(event.viewerId, event.attempt, event.sdp);
      case "playing": {
        const viewer = this.viewers[event.viewerId];
        if (viewer?.route !== "switching") return "not switching";
        if (
          viewer.janusSession !== undefined &&
          viewer.janusSession !== event.session
        ) return "it plays another connection";
        return this.#moved(viewer);
      }
      case "resubscribe": {
        const viewer = this.viewers[event.viewerId];
        if (phase !== "published") return `not published (${phase})`;
        if (viewer?.route !== "sfu" && viewer?.route !== "switching") {
          return "not on the SFU";
        }
        // Still switching: its own connection plays on while it does again.
        return void this.#subscribe(
          viewer.route === "switching"
            ? this.put(viewer, { route: "p2p" })
            : viewer,
        );
      }
      case "switch-timeout": {
        const viewer = this.viewers[event.viewerId];
        if (viewer?.route !== "switching") return "not switching";
        this.put(viewer, { route: "p2p" });
        this.effects.push(
          { kind: "fallback", why: "switch-timeout", viewerId: event.viewerId },
          { kind: "unsubscribe", viewerId: event.viewerId },
        );
        return;
      }
    }
  }

  #announce(
    event: TopologyEvent & { kind: "announce" },
  ): string | undefined {
    const { broadcaster, viewers } = event;
    const e2ee = event.e2ee === true;
    // The same broadcaster again (it reconnected and resumed): its
    // connection to the SFU carries on, and so does every viewer's. Not if
    // it turned encryption on or off: a Janus room requires E2EE or not for
    // good (VideoRoom's `edit` cannot change it), so it publishes anew.
    if (
      this.state.broadcaster?.id === broadcaster.id &&
      this.state.phase === "published" && (this.state.e2ee === true) === e2ee
    ) {
      this.state.broadcaster = broadcaster;
      this.direct = [];
      return;
    }
    this.reset();
    this.state.broadcaster = broadcaster;
    this.state.declined = false;
    this.state.sfuOnly = event.sfuOnly;
    if (e2ee) {
      this.state.e2ee = true;
      // Viewers it had while it did not encrypt: they cannot decrypt, and
      // are not paired (the router told them `stream-encrypted`).
      for (const viewer of Object.values(this.viewers)) {
        if (viewer.seat.e2ee) continue;
        delete this.viewers[viewer.seat.id];
        this.effects.push({ kind: "forget-layers", viewerId: viewer.seat.id });
      }
    } else delete this.state.e2ee;
    for (const seat of viewers) {
      const known = this.viewers[seat.id];
      this.viewers[seat.id] = {
        seat,
        overlap: known?.overlap ?? false,
        sfuOnly: known?.sfuOnly ?? false,
        route: "p2p",
      };
    }
    if (wanted(this.state, this.config) && this.#ask(event.sfuUp)) {
      // Those that hold a connection switch make before break; the rest
      // wait for the publisher.
      for (const viewer of Object.values(this.viewers)) {
        if (!viewer.seat.session) this.put(viewer, { route: "held" });
      }
      this.direct = viewers.filter((seat) => seat.session);
      return;
    }
    this.direct = this.directOnly(viewers);
  }

  #join(event: TopologyEvent & { kind: "join" }): string | undefined {
    const { viewer: seat, overlap, sfuOnly } = event;
    const known = this.viewers[seat.id];
    let viewer: ViewerEntry = {
      ...(known ?? { route: "p2p" }),
      seat,
      overlap,
      sfuOnly,
    };
    this.viewers[seat.id] = viewer;
    const { phase } = this.state;
    if (phase === "p2p") {
      if (
        !known && wanted(this.state, this.config) && this.#ask(event.sfuUp)
      ) {
        this.put(viewer, { route: "held" });
        this.taken = true;
        return;
      }
      // Not live yet (the join's reply says so), or peer to peer: an
      // SFU-only viewer is told, not handed to the broadcaster.
      if (this.state.broadcaster === undefined) {
        this.taken = false;
      } else if (sfuOnly) {
        this.taken = true;
        this.cannotServe(seat);
      } else {
        // Past what a broadcaster uploads to, it waits for the SFU.
        this.taken = this.directOnly([seat]).length === 0;
      }
      return;
    }
    if (!known) viewer = this.put(viewer, { route: "held" });
    // Watching peer to peer while the stream moves: the broadcaster
    // answers it (a restart, say) until the viewer is switched.
    this.taken = viewer.route !== "p2p";
    if (!this.taken || phase === "asked") return;
    // It publishes, so it knows the SFU: it counts the viewer, no more.
    if (!known) this.tellBroadcaster(viewer);
    if (phase !== "published") return;
    // It holds its connection to the SFU: keep it. A frozen picture is
    // nearly always the broadcaster's upload (its own link to Janus is
    // fine), and comes back by itself; a viewer whose own connection died
    // asks for a fresh one (a join without a session), subscribed anew.
    // (Janus's ICE restart of a subscriber, `configure` with `restart`,
    // was answered with error 469 here: not used yet.)
    if (known && seat.session && event.subscribed) {
      if (event.restart) {
        this.effects.push({ kind: "restart-not-needed", viewerId: seat.id });
      }
      return;
    }
    this.#subscribe(viewer);
  }

  #depart(clientId: string, role: "broadcaster" | "viewer"): undefined {
    if (role === "viewer") {
      const viewer = this.viewers[clientId];
      if (!viewer) return;
      delete this.viewers[clientId];
      this.effects.push(
        { kind: "stop-timer", timer: "switch", viewerId: clientId },
        { kind: "forget-layers", viewerId: clientId },
      );
      if (viewer.route !== "p2p") {
        this.effects.push({ kind: "unsubscribe", viewerId: clientId });
      } else if (this.state.phase === "p2p") this.promoteHeld();
    } else if (this.state.broadcaster?.id === clientId) {
      this.reset();
      // Absent, not undefined: the state stays plain JSON.
      delete this.state.broadcaster;
    }
  }

  /** Janus's offer for a subscription: to its viewer, if still wanted. */
  #subscribed(viewerId: string, attempt: number, sdp: string) {
    const viewer = this.viewers[viewerId];
    if (!viewer || viewer.attempt !== attempt) return "a stale subscription";
    if (viewer.route === "p2p" || viewer.route === "held") {
      return `the viewer is ${viewer.route}`;
    }
    // Subscribed: a later failure is a first one again.
    const { retried: _, ...rest } = viewer;
    const current = { ...rest, janusSession: sessionIdOf(sdp) };
    this.viewers[viewerId] = current;
    // Janus's subscriber jsep is always an offer. An `overlap` viewer (our
    // element, in a browser) takes it with Janus as the DTLS client, ~100 ms
    // sooner connected (dtls-role.ts); any other keeps the offer as Janus
    // made it (aiortc refuses an offer that is not `actpass`).
    this.send(viewer.seat, {
      type: "webrtc-offer",
      streamId: this.state.streamId,
      viewerId,
      offer: { type: "offer", sdp: viewer.overlap ? janusConnects(sdp) : sdp },
      // Our viewer reports its loss on this connection (viewer-loss); a
      // seed viewer gets the seed's offer.
      ...(viewer.overlap ? { sfu: true as const } : {}),
    });
    // A seed viewer drops its connection for a new offer: the
    // broadcaster's is of no use from now on.
    if (current.movesOnOffer) this.#moved(current);
  }

  /**
   * Janus did not subscribe a viewer: asked once more; after a second
   * failure a switching viewer keeps its own connection, one on the SFU
   * alone goes peer to peer (within directMax; held past it).
   */
  #subscribeFailed(viewerId: string, attempt: number): string | undefined {
    const viewer = this.viewers[viewerId];
    if (!viewer || viewer.attempt !== attempt) return "a stale subscription";
    if (viewer.route !== "sfu" && viewer.route !== "switching") {
      return `the viewer is ${viewer.route}`;
    }
    if (!viewer.retried) {
      const again = this.put(viewer, { retried: true });
      return void this.#subscribe(
        again.route === "switching" ? this.put(again, { route: "p2p" }) : again,
      );
    }
    this.effects.push(
      { kind: "fallback", why: "subscribe-failed", viewerId },
      { kind: "unsubscribe", viewerId },
    );
    if (viewer.route === "switching") {
      this.put(viewer, { route: "p2p" });
      this.effects.push({ kind: "stop-timer", timer: "switch", viewerId });
      return;
    }
    this.put(viewer, { route: "p2p", movesOnOffer: false });
    const { broadcaster } = this.state;
    if (broadcaster && this.directOnly([viewer.seat]).length > 0) {
      this.send(broadcaster, {
        type: "viewer-joined",
        streamId: this.state.streamId,
        viewerId,
        viewerCount: Object.keys(this.viewers).length,
        ...(viewer.seat.session ? { session: viewer.seat.session } : {}),
      });
    }
  }

  /** Asks the broadcaster to publish; whether it was asked. */
  #ask(sfuUp: boolean): boolean {
    if (!sfuUp) {
      this.effects.push({ kind: "fallback", why: "janus-down" });
      return false;
    }
    this.phase("asked");
    this.effects.push({ kind: "start-timer", timer: "offer" });
    this.send(this.state.broadcaster!, {
      type: "sfu-publish",
      streamId: this.state.streamId,
    });
    return true;
  }

  #subscribe(viewer: ViewerEntry): void {
    const fromBroadcaster = viewer.route === "p2p";
    const attempt = ++this.state.attempts;
    const viewerId = viewer.seat.id;
    // Watching peer to peer: its video plays on until the SFU's does.
    const route = fromBroadcaster && viewer.overlap ? "switching" : "sfu";
    // A new subscription: Janus's offer to it is still to come.
    const { janusSession: _, ...rest } = viewer;
    this.viewers[viewerId] = {
      ...rest,
      route,
      attempt,
      movesOnOffer: fromBroadcaster && !viewer.overlap,
    };
    // Janus starts a new subscription on its best layer.
    this.effects.push(
      { kind: "forget-layers", viewerId },
      { kind: "stop-timer", timer: "switch", viewerId },
    );
    if (route === "switching") {
      this.effects.push({ kind: "start-timer", timer: "switch", viewerId });
    }
    this.effects.push({ kind: "subscribe", viewerId, attempt });
  }

  /**
   * The viewer watches through the SFU now: the broadcaster closes its own
   * connection to it (no recovery) and keeps counting it.
   */
  #moved(viewer: ViewerEntry): undefined {
    const viewerId = viewer.seat.id;
    this.put(viewer, { route: "sfu", movesOnOffer: false });
    this.effects.push(
      { kind: "stop-timer", timer: "switch", viewerId },
      { kind: "moved", viewerId, overlap: viewer.overlap },
    );
    if (this.state.broadcaster) {
      this.send(this.state.broadcaster, {
        type: "viewer-moved",
        streamId: this.state.streamId,
        viewerId,
      });
    }
  }

  /**
   * The stream's Janus instance was lost (another is linked), or its
   * connection to the broadcaster could not be restarted: the broadcaster
   * publishes again, and once it has, every viewer the SFU served is
   * subscribed anew; one still switching keeps its own connection.
   */
  #republish(): undefined {
    this.effects.push({ kind: "republish" }, { kind: "end" });
    for (const viewer of Object.values(this.viewers)) {
      const viewerId = viewer.seat.id;
      if (viewer.route === "p2p") continue;
      const { janusSession: _, attempt: __, ...rest } = viewer;
      this.viewers[viewerId] = {
        ...rest,
        route: viewer.route === "switching" ? "p2p" : "held",
      };
      this.effects.push(
        { kind: "stop-timer", timer: "switch", viewerId },
        { kind: "forget-layers", viewerId },
      );
    }
    delete this.state.publication;
    this.phase("asked");
    this.effects.push({ kind: "start-timer", timer: "offer" });
    this.send(this.state.broadcaster!, {
      type: "sfu-publish",
      streamId: this.state.streamId,
    });
  }
}
