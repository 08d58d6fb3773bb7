/**
 * This node's links to the other nodes, one per node it sends to, opened
 * on the first frame (its address is the node's registry entry in Redis),
 * and the listener where theirs arrive. Redis pub/sub stays as the way
 * round while a link is not open (no address, unreachable, refused, or
 * broken, until NODE_LINK_RETRY_MS has passed): a node whose link cannot
 * be made is still reached, as before links existed.
 *
 * Frames to one node are numbered (seq) across both ways, and the
 * receiver drops one numbered below the last it took: a frame is never
 * delivered after a later one from the same node (at most once, in order).
 */
import type { Envelope } from "../signaling/delivery.ts";
import type { LocalPlace } from "../signaling/local-clients.ts";
import type { Logger } from "../observe/logger.ts";
import type { Metrics } from "../observe/metrics.ts";
import { fields, linkKey } from "./link-wire.ts";
import { encode, legacy } from "./pubsub-frames.ts";
import { LinkListener } from "./link-listener.ts";
import { type LinkLimits, OutLink } from "./node-link.ts";

export interface NodeLinksOptions {
  /** This node's current id. */
  self(): string;
  /** Where links arrive: NODE_LINK_HOST, NODE_LINK_PORT (0: any). */
  hostname: string;
  port: number;
  /** NODE_LINK_URL: the address other nodes are given, if not ours as bound. */
  url?: string;
  limits: LinkLimits;
  /** NODE_LINK_RETRY_MS: a link that failed is tried again after this. */
  retryMs: number;
  logger: Logger;
  metrics: Metrics;
  /** Node `node`'s link address from its registry entry (none: no link). */
  address(node: string): Promise<string | undefined>;
  /** Sends `payload` through Redis pub/sub to `node`'s channel. */
  publish(node: string, payload: string): void;
  /** A frame or an eviction for one of this node's clients. */
  deliver(envelope: Envelope): void;
  /** The place a local client holds: a routed frame's check. */
  placeOf(clientId: string): LocalPlace | undefined;
}

/** What the route cache (frame-routes.ts) hears from the links. */
export interface RouteListener {
  /** Client `target` (the `key` route's end) is on node `node`. */
  learned(key: string, target: string, node: string): void;
  /** A routed frame node `node` sent back: `target` is not there. */
  missed(node: string, missed: RoutedFrame): void;
}

/** A frame sent along a cached route (`R`), or sent back (`M`). */
export interface RoutedFrame {
  from: string;
  /** The sender's role: `b` broadcaster, `v` viewer. */
  role: "b" | "v";
  streamId: string;
  target: string;
  text: string;
}

/** The cache key of the route a frame from `role` takes. */
export function routeKey(
  role: "b" | "v",
  streamId: string,
  target: string,
): string {
  return role === "b" ? `v ${streamId} ${target}` : `b ${streamId}`;
}

/** How long a node's link stays quiet in the log after a queue-full line. */
export const LINK_DROP_LOG_WINDOW_MS = 10_000;

interface Peer {
  link: OutLink | undefined;
  /** Its registry entry names no link: pub/sub only, as before links. */
  linkless: boolean;
  /** No new link before this (performance.now()). */
  retryAt: number;
  seq: number;
  probes: Map<number, () => void>;
  /** Frames dropped for its full queue since its last log line, and when. */
  dropped: number;
  droppedLoggedAt: number;
}

export class NodeLinks {
  /** The cluster key; links wait for it (registration brings it). */
  key: CryptoKey | undefined;
  #secret: string | undefined;
  routes: RouteListener | undefined;
  #options: NodeLinksOptions;
  #listener: LinkListener;
  #peers = new Map<string, Peer>();
  /** The last seq taken from each node. */
  #taken = new Map<string, number>();
  #nextProbe = 0;
  #closed = false;

  constructor(options: NodeLinksOptions) {
    this.#options = options;
    this.#listener = new LinkListener({
      hostname: options.hostname,
      port: options.port,
      self: options.self,
      key: () => this.key,
      limits: options.limits,
      logger: options.logger,
      frame: (from, text, reply) => this.receive(from, text, reply),
      accepted: () => options.metrics.clusterLinksAccepted++,
    });
  }

  /** Links are authenticated with `secret` (CLUSTER_SECRET, or Redis's). */
  async useSecret(secret: string): Promise<void> {
    if (secret === this.#secret) return;
    this.#secret = secret;
    const key = await linkKey(secret);
    if (this.#secret === secret) this.key = key;
  }

  /** The address other nodes are given (this node's registry entry). */
  get url(): string {
    return this.#options.url ??
      `tcp://${bracket(this.#options.hostname)}:${this.#listener.port}`;
  }

  /** Whether the link to `node` is open (frames go on it as they come). */
  open(node: string): boolean {
    return this.#peers.get(node)?.link?.state === "open";
  }

  /** A server message or an eviction for a client of `node`. */
  send(node: string, envelope: Envelope): void {
    if (envelope.kind === "text") {
      this.#send(
        node,
        (seq) => `T ${seq} ${envelope.to} ${envelope.text}`,
        envelope,
      );
    } else {
      this.#send(
        node,
        (seq) => `E ${seq} ${JSON.stringify(envelope)}`,
        envelope,
      );
    }
  }

  /** A `viewer-joined` for broadcaster `to`, from viewer `viewer` here. */
  tell(
    node: string,
    to: string,
    streamId: string,
    viewer: string,
    text: string,
  ): void {
    this.#send(
      node,
      (seq) => `L ${seq} ${to} ${streamId} ${viewer} ${text}`,
      { kind: "text", to, text },
    );
  }

  /**
   * Sends a frame along a cached route over the link to `node`, open or
   * opening (false: no link may be tried now; the caller asks the store).
   * A link that never opens sends its routed frames back as misses.
   */
  route(node: string, frame: RoutedFrame): boolean {
    const peer = this.#peer(node);
    const link = this.#link(node, peer);
    if (!link) return false;
    const { from, role, streamId, target, text } = frame;
    const seq = ++peer.seq;
    if (!link.send(`R ${seq} ${from} ${role} ${streamId} ${target} ${text}`)) {
      this.#queueFull(node, peer);
    } else if (link.state === "open") {
      this.#options.metrics.clusterLinkFrames++;
    }
    return true;
  }

  /**
   * Resolves once node `node` has handled every frame sent to it before,
   * or the link is gone (then what was in flight is lost), or after
   * NODE_LINK_CONNECT_TIMEOUT_MS (the link is closed as stuck).
   */
  probe(node: string): Promise<void> {
    const peer = this.#peers.get(node);
    if (peer?.link?.state !== "open") return Promise.resolve();
    const id = ++this.#nextProbe;
    const { promise, resolve } = Promise.withResolvers<void>();
    const link = peer.link;
    const timer = setTimeout(
      () => link.close("probe unanswered"),
      this.#options.limits.connectTimeoutMs,
    );
    peer.probes.set(id, () => {
      clearTimeout(timer);
      resolve();
    });
    link.send(`P ${id}`);
    return promise;
  }

  /** A frame from node `from`; `reply` answers on its link (none: pub/sub). */
  receive(
    from: string,
    text: string,
    reply?: (text: string) => boolean,
  ): void {
    const kind = text.charCodeAt(0);
    if (kind === 80 /* P */) return void reply?.(`A ${text.slice(2)}`);
    const metrics = this.#options.metrics;
    const space = text.indexOf(" ", 2);
    const seq = Number(text.slice(2, space));
    if (space < 0 || !(seq > (this.#taken.get(from) ?? 0))) {
      return metrics.countLinkDrop("late");
    }
    this.#taken.set(from, seq);
    const rest = text.slice(space + 1);
    metrics.clusterReceived++;
    if (kind === 84 /* T */) {
      const [to, body] = fields(rest, 1) ?? [];
      if (body !== undefined) {
        this.#options.deliver({ kind: "text", to, text: body });
      }
    } else if (kind === 82 /* R */) this.#routed(from, rest, reply);
    else if (kind === 76 /* L */) {
      const [to, streamId, viewer, body] = fields(rest, 3) ?? [];
      if (body === undefined) return;
      this.routes?.learned(routeKey("b", streamId, viewer), viewer, from);
      this.#options.deliver({ kind: "text", to, text: body });
    } else if (kind === 69 /* E */) {
      try {
        const envelope = JSON.parse(rest);
        if (envelope?.kind === "evict") this.#options.deliver(envelope);
      } catch {
        // Not from a node of ours.
      }
    }
  }

  /**
   * A pub/sub message in the links' format (`@<node> <frame>`); false when
   * it is not one.
   */
  published(payload: string): boolean {
    if (!payload.startsWith("@")) return false;
    const space = payload.indexOf(" ");
    if (space < 0) return true;
    this.receive(payload.slice(1, space), payload.slice(space + 1));
    return true;
  }

  /** This node has a new id: links opened under the old one start over. */
  renamed(): void {
    for (const peer of this.#peers.values()) {
      peer.link?.close("this node has a new id");
    }
  }

  /** Nodes found dead: their links and numbering are dropped. */
  forget(nodes: readonly string[]): void {
    for (const node of nodes) {
      this.#peers.get(node)?.link?.close("node gone");
      this.#peers.delete(node);
      this.#taken.delete(node);
      this.#listener.drop(node);
    }
  }

  close(): void {
    this.#closed = true;
    for (const peer of this.#peers.values()) peer.link?.close("stopping");
    this.#listener.close();
  }

  /** A routed frame: delivered if its target is here, else sent back. */
  #routed(
    from: string,
    rest: string,
    reply: ((text: string) => boolean) | undefined,
  ): void {
    const [sender, role, streamId, target, body] = fields(rest, 4) ?? [];
    if (body === undefined) return;
    const place = this.#options.placeOf(target);
    const wanted = role === "b" ? "viewer" : "broadcaster";
    if (place?.streamId !== streamId || place.role !== wanted) {
      reply?.(`M ${rest}`);
      return;
    }
    // The way back to the sender: the same link's node.
    this.routes?.learned(
      routeKey(role === "b" ? "v" : "b", streamId, sender),
      sender,
      from,
    );
    this.#options.deliver({ kind: "text", to: target, text: body });
  }

  /**
   * `frame` over the link, or through pub/sub while it is not open: as
   * `envelope` in the format of before links (pubsub-frames.ts) to a node
   * that has no link (NODE_LINKS=off, or a version without links during a
   * rolling deploy), which reads only that.
   */
  #send(
    node: string,
    frame: (seq: number) => string,
    envelope: Envelope,
  ): void {
    const metrics = this.#options.metrics;
    const peer = this.#peer(node);
    const link = this.#link(node, peer);
    if (!link && peer.linkless) {
      metrics.clusterPublished++;
      return this.#options.publish(node, encode(envelope));
    }
    const text = frame(++peer.seq);
    if (!link) {
      metrics.clusterPublished++;
      return this.#options.publish(node, `@${this.#options.self()} ${text}`);
    }
    // Counted once written (or queued to be): a link that is opening may
    // still send its frames through pub/sub.
    if (!link.send(text)) this.#queueFull(node, peer);
    else if (link.state === "open") metrics.clusterLinkFrames++;
  }

  #peer(node: string): Peer {
    let peer = this.#peers.get(node);
    if (!peer) {
      peer = {
        link: undefined,
        linkless: false,
        retryAt: 0,
        seq: 0,
        probes: new Map(),
        dropped: 0,
        droppedLoggedAt: -Infinity,
      };
      this.#peers.set(node, peer);
    }
    return peer;
  }

  /** The link to use now: open, or opening; none while it may not retry. */
  #link(node: string, peer: Peer): OutLink | undefined {
    if (peer.link) return peer.link;
    if (this.#closed || !this.key || performance.now() < peer.retryAt) {
      return undefined;
    }
    const options = this.#options;
    const link: OutLink = new OutLink({
      self: options.self(),
      node,
      address: async () => {
        const address = await options.address(node);
        peer.linkless = !address;
        return address;
      },
      key: this.key,
      limits: options.limits,
      reply: (text) => this.#reply(node, peer, text),
      changed: (state, cause, flushed) => {
        this.#options.metrics.clusterLinkFrames += flushed ?? 0;
        this.#changed(node, peer, link, state, cause);
      },
    });
    peer.link = link;
    return link;
  }

  #changed(
    node: string,
    peer: Peer,
    link: OutLink,
    state: "open" | "closed",
    cause: string,
  ): void {
    const { metrics, logger, retryMs } = this.#options;
    if (state === "open") {
      metrics.clusterLinksOpened++;
      return logger.debug("node-link-open", { node });
    }
    if (peer.link !== link) return;
    peer.link = undefined;
    peer.retryAt = performance.now() + retryMs;
    metrics.clusterLinkFailures++;
    logger.info("node-link-closed", { node, cause });
    // Frames that waited for it go the other way, in their order; routed
    // ones come back as misses (the store finds where they go).
    for (const text of link.takePending()) {
      if (text.startsWith("R ")) {
        this.#reply(node, peer, `M ${text.slice(text.indexOf(" ", 2) + 1)}`);
        continue;
      }
      const payload = peer.linkless
        ? legacy(text)
        : `@${this.#options.self()} ${text}`;
      if (payload === undefined) continue;
      metrics.clusterPublished++;
      this.#options.publish(node, payload);
    }
    const probes = [...peer.probes.values()];
    peer.probes.clear();
    for (const done of probes) done();
  }

  /**
   * A frame for `node` dropped: its link's queue is over NODE_LINK_QUEUE_BYTES
   * (that node reads slower than this one sends, or not at all). Counted, and
   * said in the log at most once per node and LINK_DROP_LOG_WINDOW_MS, with
   * how many were dropped since the last line: lost frames leave handshakes
   * unfinished, which an operator must be able to see.
   */
  #queueFull(node: string, peer: Peer): void {
    this.#options.metrics.countLinkDrop("queue-full");
    peer.dropped++;
    const now = performance.now();
    if (now - peer.droppedLoggedAt < LINK_DROP_LOG_WINDOW_MS) return;
    this.#options.logger.warn("node-link-queue-full", {
      node,
      dropped: peer.dropped,
      limitBytes: this.#options.limits.queueBytes,
    });
    peer.dropped = 0;
    peer.droppedLoggedAt = now;
  }

  #reply(node: string, peer: Peer, text: string): void {
    if (text.startsWith("A ")) {
      const id = Number(text.slice(2));
      const done = peer.probes.get(id);
      peer.probes.delete(id);
      return done?.();
    }
    if (!text.startsWith("M ")) return;
    const [from, role, streamId, target, body] = fields(text.slice(2), 4) ??
      [];
    if (body === undefined || (role !== "b" && role !== "v")) return;
    this.#options.metrics.clusterRouteMisses++;
    this.routes?.missed(node, { from, role, streamId, target, text: body });
  }
}

function bracket(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}
