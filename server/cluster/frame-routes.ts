/**
 * The directory a node of a cluster with links uses: Redis's (every step
 * that checks and changes a room is still one script there), except that
 * offers, answers and candidates go straight to the target's node along a
 * cached route, without asking Redis, and that node checks the target is
 * there in that stream. Redis is asked for a route only when none is
 * cached, or the cached one missed.
 *
 * A route (per target: a stream's broadcaster, or a viewer of a stream) is
 * learned from the directory's answers (a join names the broadcaster, an
 * announce its viewers), from frames other nodes send, and from Redis.
 * Each is a small machine:
 *
 *   direct --a miss comes back--> draining --probe answered--> resolving
 *   resolving --every lookup answered, target found--> direct
 *   resolving --every lookup answered, no target--> (gone)
 *
 * Draining waits until the node that sent the miss has handled everything
 * sent to it before (a probe on the same link), holding new frames; then
 * the missed frames and the held ones are looked up in Redis in order. A
 * frame thus never overtakes an earlier one to the same target, and a miss
 * ends as Redis says: delivered where the target is now, or the same
 * error to the sender as a lookup would have given.
 */
import type {
  Announced,
  Departure,
  Directory,
  Entrant,
  Eventually,
  Joined,
  Role,
  Route,
  Seat,
} from "../signaling/directory.ts";
import type { Metrics } from "../observe/metrics.ts";
import type { ClusterHandlers } from "./cluster-handlers.ts";
import type { RedisDirectory } from "./redis-directory.ts";
import {
  type NodeLinks,
  type RoutedFrame,
  routeKey,
  type RouteListener,
} from "./node-links.ts";

/** The node's own side: where a routed frame's target is, and its sender told when it has none. */
export interface FrameRoutesOptions
  extends Pick<ClusterHandlers, "placeOf" | "sendLocal" | "unroutable"> {
  store: RedisDirectory;
  links: NodeLinks;
  self(): string;
  /** NODE_LINK_ROUTES: routes kept; the oldest settled one goes first. */
  maxRoutes: number;
  /** Bytes of frames one draining route may hold (NODE_LINK_QUEUE_BYTES). */
  maxHeldBytes: number;
  metrics: Metrics;
}

type RouteState = "direct" | "draining" | "resolving";

interface Held {
  frame: Frame;
  settle: (route: Promise<Route>) => void;
}

interface Entry {
  key: string;
  state: RouteState;
  target: string;
  node: string;
  /** Redis lookups under way for it. */
  pending: number;
  missed: Frame[];
  held: Held[];
  heldBytes: number;
}

/** A frame to route, as the router gives it. */
interface Frame {
  from: { clientId: string; node: string; role: Role };
  streamId: string;
  viewerId: string | undefined;
  text: string;
}

export class FrameRoutes implements Directory, RouteListener {
  #options: FrameRoutesOptions;
  #store: RedisDirectory;
  #routes = new Map<string, Entry>();

  constructor(options: FrameRoutesOptions) {
    this.#options = options;
    this.#store = options.store;
    options.links.routes = this;
  }

  /** Routes cached (tests, metrics). */
  get size(): number {
    return this.#routes.size;
  }

  async announce(
    streamId: string,
    entrant: Entrant & { e2ee?: true },
  ): Promise<Announced> {
    const announced = await this.#store.announce(streamId, entrant);
    if (announced.ok) {
      for (const viewer of announced.viewers) {
        this.learned(
          routeKey("b", streamId, viewer.id),
          viewer.id,
          viewer.node,
        );
      }
    }
    return announced;
  }

  /**
   * Redis seats the viewer; its broadcaster, on another node, is told here
   * over the link (the store does not publish it), which teaches that node
   * the way back. Not a viewer its encrypting broadcaster is not paired with.
   */
  async join(
    streamId: string,
    entrant: Entrant & { session?: string; e2ee?: true },
    cap: number,
    tell: string,
  ): Promise<Joined> {
    const joined = await this.#store.join(streamId, entrant, cap, "");
    if (!joined.ok || !joined.broadcaster) return joined;
    const broadcaster = joined.broadcaster;
    this.learned(routeKey("v", streamId, ""), broadcaster.id, broadcaster.node);
    if (broadcaster.node === this.#options.self()) return joined;
    if (joined.e2ee && !entrant.e2ee) return joined;
    this.#options.links.tell(
      broadcaster.node,
      broadcaster.id,
      streamId,
      entrant.clientId,
      `${tell}${joined.viewerCount}}`,
    );
    return { ...joined, told: true };
  }

  leave(clientId: string, node: string): Promise<Departure | undefined> {
    return this.#store.leave(clientId, node);
  }

  resume(
    clientId: string,
    claimed: { streamId: string; role: Role },
    node: string,
  ): Promise<string | undefined> {
    return this.#store.resume(clientId, claimed, node);
  }

  /**
   * Sent along the cached route when there is one (the target's node
   * checks it), else looked up in Redis. `sent` is true when this sent it.
   */
  route(
    from: { clientId: string; node: string; role: Role },
    streamId: string,
    viewerId: string | undefined,
    text: string,
  ): Eventually<Route> {
    const role = from.role === "broadcaster" ? "b" : "v";
    const frame = { from, streamId, viewerId, text };
    // Ids with a space are nobody's: Redis says so.
    if (role === "b" && (!viewerId || viewerId.includes(" "))) {
      return this.#store.route(from, streamId, viewerId, "");
    }
    const key = routeKey(role, streamId, viewerId ?? "");
    const entry = this.#routes.get(key);
    if (!entry) return this.#lookup(this.#add(key, "resolving"), frame, true);
    if (entry.state === "draining") return this.#hold(entry, frame);
    if (entry.state === "direct") {
      const to: Seat = { id: entry.target, node: entry.node };
      if (entry.node === this.#options.self()) {
        const place = this.#options.placeOf(entry.target);
        const wanted = role === "b" ? "viewer" : "broadcaster";
        if (place?.streamId === streamId && place.role === wanted) {
          return { found: "target", to, sent: false };
        }
      } else if (
        this.#options.links.route(entry.node, {
          from: from.clientId,
          role,
          streamId,
          target: entry.target,
          text,
        })
      ) return { found: "target", to, sent: true };
      entry.state = "resolving";
    }
    return this.#lookup(entry, frame, true);
  }

  /** A route learned: kept unless one is being settled for that target. */
  learned(key: string, target: string, node: string): void {
    const entry = this.#routes.get(key);
    if (!entry) {
      const added = this.#add(key, "direct");
      added.target = target;
      added.node = node;
    } else if (entry.state === "direct") {
      entry.target = target;
      entry.node = node;
    }
  }

  /** Node `node` sent back a frame routed along `key`'s cached route. */
  missed(node: string, missed: RoutedFrame): void {
    const { from, role, streamId, target, text } = missed;
    const entry = this.#routes.get(routeKey(role, streamId, target));
    // Moved on meanwhile (learned elsewhere): a later frame went there,
    // so this one is lost rather than delivered after it.
    if (
      !entry || entry.node !== node ||
      (entry.state !== "direct" && entry.state !== "draining")
    ) return this.#options.metrics.countLinkDrop("moved");
    entry.missed.push({
      from: {
        clientId: from,
        node: this.#options.self(),
        role: role === "b" ? "broadcaster" : "viewer",
      },
      streamId,
      viewerId: role === "b" ? target : undefined,
      text,
    });
    if (entry.state === "draining") return;
    entry.state = "draining";
    this.#options.links.probe(node).then(() => this.#drain(entry));
  }

  /** Nodes found dead: routes to them are forgotten. */
  forgetNodes(nodes: readonly string[]): void {
    const dead = new Set(nodes);
    for (const [key, entry] of this.#routes) {
      if (entry.state === "direct" && dead.has(entry.node)) {
        this.#routes.delete(key);
      }
    }
  }

  /** Everything sent before the miss is handled: look them up, in order. */
  #drain(entry: Entry): void {
    if (entry.state !== "draining") return;
    entry.state = "resolving";
    const { missed, held } = entry;
    entry.missed = [];
    entry.held = [];
    entry.heldBytes = 0;
    for (const frame of missed) {
      this.#lookup(entry, frame, false).catch(() => {});
    }
    for (const { frame, settle } of held) {
      settle(this.#lookup(entry, frame, true));
    }
  }

  #hold(entry: Entry, frame: Frame): Eventually<Route> {
    if (entry.heldBytes + frame.text.length > this.#options.maxHeldBytes) {
      this.#options.metrics.countLinkDrop("queue-full");
      return {
        found: "target",
        to: { id: entry.target, node: entry.node },
        sent: true,
      };
    }
    entry.heldBytes += frame.text.length;
    const { promise, resolve } = Promise.withResolvers<Route>();
    entry.held.push({ frame, settle: resolve });
    return promise;
  }

  /**
   * Asks Redis where `frame` goes and sends it there (here, in the
   * order lookups are answered). A missed frame (`fromRouter` false) that
   * finds no target is refused here; the router refuses its own.
   */
  #lookup(entry: Entry, frame: Frame, fromRouter: boolean): Promise<Route> {
    const { metrics, links, self } = this.#options;
    entry.pending++;
    metrics.clusterRouteLookups++;
    const { from, streamId, viewerId, text } = frame;
    return this.#store.route(from, streamId, viewerId, "").then((route) => {
      entry.pending--;
      let result = route;
      if (route.found === "target") {
        const { to } = route;
        if (to.node === self()) this.#options.sendLocal(to.id, text);
        else links.send(to.node, { kind: "text", to: to.id, text });
        result = { ...route, sent: true };
        entry.target = to.id;
        entry.node = to.node;
      } else if (!fromRouter && route.found === "no-target") {
        this.#options.unroutable(from, streamId, viewerId, text);
      }
      this.#settle(entry, route.found === "target");
      return result;
    }, (error) => {
      entry.pending--;
      this.#settle(entry, false);
      throw error;
    });
  }

  /** The last lookup answered: the route is settled, or gone. */
  #settle(entry: Entry, found: boolean): void {
    if (entry.pending > 0 || entry.state !== "resolving") return;
    if (found) entry.state = "direct";
    else if (this.#routes.get(entry.key) === entry) {
      this.#routes.delete(entry.key);
    }
  }

  #add(key: string, state: RouteState): Entry {
    const entry: Entry = {
      key,
      state,
      target: "",
      node: "",
      pending: 0,
      missed: [],
      held: [],
      heldBytes: 0,
    };
    this.#routes.set(key, entry);
    if (this.#routes.size > this.#options.maxRoutes) this.#evict();
    return entry;
  }

  /** Drops the oldest settled routes (one being settled is kept). */
  #evict(): void {
    let excess = this.#routes.size - this.#options.maxRoutes;
    for (const [key, entry] of this.#routes) {
      if (excess <= 0) return;
      if (entry.state !== "direct") continue;
      this.#routes.delete(key);
      excess--;
    }
  }
}
