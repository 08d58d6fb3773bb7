/**
 * One stream's simulcast layers through the SFU, as a pure state machine
 * (times passed in, effects handed back, randomness injected):
 *
 * - which layers arrive: the rids of the publisher's offer (the element
 *   offers only the layers its browser sends of its picture), paused ones
 *   included (asked for again before a viewer is moved there), less any
 *   Janus does not switch a viewer to (not used for a while: a browser
 *   short of CPU sends fewer layers);
 * - which layer each viewer is to get: one down when Janus says its link
 *   loses packets, one up after a quiet while (layer-policy.ts), never to
 *   a layer that does not arrive; not down while Janus itself lost the
 *   broadcaster's video (its viewers miss those packets too: a smaller
 *   layer would not help them, and every viewer would step down at once);
 * - the switches Janus is asked for (`set`): each after a random delay,
 *   at most `switchesPerSecond` per stream, confirmed by Janus's
 *   `substream` events ({@link confirmed}), or followed by a keyframe
 *   request (Janus switches on a keyframe of the new layer);
 * - which layers the broadcaster is to send (`want`, dynacast): those a
 *   viewer gets or moves to, and the top one; the others are paused once
 *   unneeded for `pauseAfterMs` (a broadcaster that does not know it sends
 *   them all, as before).
 *
 * Layers are numbered as Janus's substreams: 0 the smallest.
 */
import { type LayerLimits, LayerPolicy } from "./layer-policy.ts";

/** Why a viewer's switch was asked. */
export type SwitchCause = "slow" | "quiet" | "layers";

export type LayerEffect =
  /** Ask Janus to send `viewerId` layer `layer` (VideoRoom `configure`). */
  | { kind: "set"; viewerId: string; layer: number; cause: SwitchCause }
  /** Tell the broadcaster the rids to send (`sfu-layers`). */
  | { kind: "want"; rids: string[] }
  /** Ask the broadcaster for a keyframe, through Janus (a PLI). */
  | { kind: "keyframe"; layer: number }
  /** A switch to `layer` was never confirmed: it is taken not to arrive. */
  | { kind: "missing"; layer: number }
  /** Janus sends `viewerId` layer `layer` now; `afterMs` since it was asked. */
  | { kind: "confirmed"; viewerId: string; layer: number; afterMs?: number };

interface Pending {
  layer: number;
  due: number;
  /** When it was decided: a step down older than `settleMs` is dropped. */
  since: number;
  cause: SwitchCause;
}

interface Viewer {
  policy: LayerPolicy;
  /** The largest layer its link carries, as far as is known. */
  want: number;
  /** What Janus was last asked to send it (at first its default, the top). */
  target: number;
  /** What Janus says it sends it. */
  current: number | undefined;
  /** The target was asked at, not confirmed yet. */
  askedAt: number | undefined;
  /** Keyframes asked since, for want of Janus's confirmation. */
  nudges: number;
  pending: Pending | undefined;
  /** Drawn at each step: spreads the steps up of viewers lowered together. */
  upJitter: number;
  /** `want` was last raised at (a quiet while). */
  raisedAt: number;
}

/** The most times a missing layer's wait doubles. */
const MAX_MISSING_DOUBLINGS = 4;
/**
 * Keyframes asked for one switch Janus has not confirmed (Janus switches
 * on one; a paused layer starts again with one), then its layer is taken
 * not to arrive.
 */
const MAX_NUDGES = 2;

export class StreamLayers {
  #limits: LayerLimits;
  #random: () => number;
  /** Rid per layer, the smallest first (Janus's substream order). */
  #rids: readonly string[] = [];
  #missing = new Map<number, { until: number; count: number }>();
  /** What the broadcaster was last asked to send. */
  #wanted = new Set<number>();
  #unneededSince = new Map<number, number>();
  #viewers = new Map<string, Viewer>();
  #tokens: number;
  #refilledAt = Number.NEGATIVE_INFINITY;
  /**
   * Published through another node, which chose the layers until this one
   * took the stream over: which layer a viewer gets is known here only
   * once Janus says (`substream`) or this node asks. Until the next
   * publish no layer is paused (pausing one a viewer gets would freeze its
   * picture), a viewer first met in Janus's report takes that layer as
   * its target, and one first met lossy goes to the smallest layer.
   */
  #adopted = false;
  /** Janus last said it lost the broadcaster's video at. */
  #upstreamLossAt = Number.NEGATIVE_INFINITY;

  constructor(limits: LayerLimits, random: () => number = Math.random) {
    this.#limits = limits;
    this.#random = random;
    this.#tokens = 1;
  }

  /** The largest layer (-1 before a publish with simulcast). */
  get top(): number {
    return this.#rids.length - 1;
  }

  /** The rids the broadcaster was last asked to send. */
  get wanted(): string[] {
    return [...this.#wanted].sort((a, b) => a - b).map((layer) =>
      this.#rids[layer]
    );
  }

  /** The layer Janus says it sends `viewerId`. */
  layerOf(viewerId: string): number | undefined {
    return this.#viewers.get(viewerId)?.current;
  }

  /** Viewers known here (for a gauge). */
  get viewers(): number {
    return this.#viewers.size;
  }

  /**
   * The publisher's offer carried these rids, the smallest first: all of
   * them sent for now. Starts over: its viewers subscribe again.
   */
  published(rids: readonly string[], adopted = false): void {
    this.#adopted = adopted;
    this.#rids = rids.length > 1 ? [...rids] : [];
    this.#missing.clear();
    this.#viewers.clear();
    this.#unneededSince.clear();
    this.#wanted = new Set(this.#rids.keys());
  }

  /**
   * Janus lost some of the broadcaster's video (its publisher's slowlink: a
   * path change, a lossy uplink; its ICE restarted, its media back). Its
   * viewers miss those packets too, for up to `upstreamQuietMs` after:
   * their reports then say nothing of their own links, and steps down they
   * caused are dropped.
   */
  upstreamLoss(now: number): LayerEffect[] {
    this.#upstreamLossAt = now;
    for (const viewer of this.#viewers.values()) {
      if (viewer.pending?.cause === "slow") viewer.pending = undefined;
    }
    return this.tick(now);
  }

  /** Janus says `viewerId`'s link loses what it sends. */
  slow(viewerId: string, now: number): LayerEffect[] {
    if (this.top < 1) return [];
    if (now - this.#upstreamLossAt < this.#limits.upstreamQuietMs) return [];
    const unknown = this.#adopted && !this.#viewers.has(viewerId);
    const viewer = this.#viewer(viewerId);
    viewer.policy.lost(now);
    if (viewer.pending?.cause !== "slow" && viewer.policy.canStepDown(now)) {
      const from = unknown
        ? 1
        : Math.min(viewer.current ?? viewer.target, viewer.target);
      const below = this.#highestUsable(from - 1, now);
      if (below !== undefined) {
        viewer.pending = {
          layer: below,
          // A paused layer restarts with a keyframe, and Janus switches only
          // on one: asked at once, Janus has the switch before that keyframe
          // (its request takes ~1 ms, the broadcaster's restart tens). After
          // the jitter the keyframe could go by unused, and the browser sends
          // the next only when asked, not within 300 ms of the last: ~1 s lost.
          due: this.#wanted.has(below)
            ? now + this.#random() * this.#limits.jitterMs
            : now,
          since: now,
          cause: "slow",
        };
      }
    }
    return this.#update(now);
  }

  /** Janus sends `viewerId` layer `layer` now (its `substream` event). */
  confirmed(viewerId: string, layer: number, now: number): LayerEffect[] {
    if (this.top < 1 || !(layer >= 0 && layer <= this.top)) return [];
    if (this.#adopted && !this.#viewers.has(viewerId)) {
      const viewer = this.#viewer(viewerId);
      viewer.target = viewer.want = layer;
      // Its quiet while (before a step up) counts from now.
      viewer.policy.lost(now);
    }
    const viewer = this.#viewer(viewerId);
    viewer.current = layer;
    this.#missing.delete(layer);
    const effect: LayerEffect = { kind: "confirmed", viewerId, layer };
    if (layer === viewer.target) {
      if (viewer.askedAt !== undefined) effect.afterMs = now - viewer.askedAt;
      viewer.askedAt = undefined;
      viewer.nudges = 0;
    } else if (layer < viewer.target && viewer.askedAt === undefined) {
      // Janus began (or fell) below its target unasked: the target's
      // keyframe went by before it, and a browser sends the next only when
      // asked. Waited for as a switch: keyframes, then taken not to arrive.
      // Not at once: Janus sends one PLI a second per publisher, and its
      // subscription's own just went.
      viewer.askedAt = now;
    }
    return [effect, ...this.#update(now)];
  }

  /** The viewer's subscription ended (or starts over). */
  leave(viewerId: string, now: number): LayerEffect[] {
    if (!this.#viewers.delete(viewerId)) return [];
    return this.#update(now);
  }

  /** Time passed: switches due, steps up, deadlines, pauses. */
  tick(now: number): LayerEffect[] {
    return this.top < 1 ? [] : this.#update(now);
  }

  /** When after `now` {@link tick} has something to do, if ever. */
  nextDue(now: number): number | undefined {
    let next = Infinity;
    const at = (time: number) => {
      if (time > now) next = Math.min(next, time);
    };
    const { confirmMs, pauseAfterMs } = this.#limits;
    for (const viewer of this.#viewers.values()) {
      if (viewer.pending) {
        at(Math.max(viewer.pending.due, this.#tokenAt()));
      }
      if (viewer.askedAt !== undefined) {
        at(viewer.askedAt + confirmMs * (viewer.nudges + 1));
      }
      if (viewer.want < this.top) at(viewer.policy.upAt + viewer.upJitter);
    }
    for (const layer of this.#wanted) {
      const since = this.#unneededSince.get(layer);
      if (since !== undefined) at(since + pauseAfterMs);
    }
    for (const { until } of this.#missing.values()) at(until);
    return next === Infinity ? undefined : next;
  }

  #viewer(viewerId: string): Viewer {
    let viewer = this.#viewers.get(viewerId);
    if (!viewer) {
      viewer = {
        policy: new LayerPolicy(this.#limits),
        want: this.top,
        target: this.top,
        current: undefined,
        askedAt: undefined,
        nudges: 0,
        pending: undefined,
        upJitter: 0,
        raisedAt: Number.NEGATIVE_INFINITY,
      };
      this.#viewers.set(viewerId, viewer);
    }
    return viewer;
  }

  #isMissing(layer: number, now: number): boolean {
    return (this.#missing.get(layer)?.until ?? 0) > now;
  }

  #usable(layer: number, now: number): boolean {
    return layer >= 0 && layer <= this.top && !this.#isMissing(layer, now);
  }

  /** The largest usable layer up to `layer`. */
  #highestUsable(layer: number, now: number): number | undefined {
    for (let l = Math.min(layer, this.top); l >= 0; l--) {
      if (this.#usable(l, now)) return l;
    }
    return undefined;
  }

  #lowestUsable(now: number): number | undefined {
    for (let l = 0; l <= this.top; l++) if (this.#usable(l, now)) return l;
    return undefined;
  }

  /** Where Janus should be taking `viewer`, given what arrives. */
  #fit(viewer: Viewer, now: number): number {
    const { target, current, want } = viewer;
    // Up, within what its link carries, to a layer that arrives.
    const up = this.#highestUsable(want, now);
    if (up !== undefined && up > target) return up;
    if (this.#usable(target, now)) return target;
    const gets = current ?? target;
    // A step down that does not arrive: the next one below that does. (A
    // target above what it gets is harmless: Janus goes on sending that.)
    if (target < gets) return this.#highestUsable(gets - 1, now) ?? target;
    // Its own layer stopped too: whatever arrives.
    if (current !== undefined && !this.#usable(current, now)) {
      return up ?? this.#lowestUsable(now) ?? target;
    }
    return target;
  }

  #markMissing(layer: number, now: number, effects: LayerEffect[]): void {
    // A viewer gets it: it arrives (that switch is Janus's slowness).
    for (const viewer of this.#viewers.values()) {
      if (viewer.current === layer) return;
    }
    const count = Math.min(
      (this.#missing.get(layer)?.count ?? -1) + 1,
      MAX_MISSING_DOUBLINGS,
    );
    this.#missing.set(layer, {
      until: now + this.#limits.missingForMs * 2 ** count,
      count,
    });
    effects.push({ kind: "missing", layer });
  }

  /** When the bucket holds a whole switch again. */
  #tokenAt(): number {
    if (this.#tokens >= 1) return Number.NEGATIVE_INFINITY;
    return this.#refilledAt +
      (1 - this.#tokens) * 1000 / this.#limits.switchesPerSecond;
  }

  #update(now: number): LayerEffect[] {
    const effects: LayerEffect[] = [];
    const limits = this.#limits;
    let keyframe = false;
    for (const viewer of this.#viewers.values()) {
      // Janus has not switched it: a keyframe (Janus switches on one),
      // then the layer is taken not to arrive.
      if (
        viewer.askedAt !== undefined &&
        now >= viewer.askedAt + limits.confirmMs * (viewer.nudges + 1)
      ) {
        if (viewer.nudges < MAX_NUDGES) {
          viewer.nudges++;
          if (!keyframe) {
            effects.push({ kind: "keyframe", layer: viewer.target });
          }
          keyframe = true;
        } else {
          viewer.askedAt = undefined;
          viewer.nudges = 0;
          this.#markMissing(viewer.target, now, effects);
        }
      }
      // A quiet while: its link may carry one layer more.
      if (
        viewer.want < this.top && viewer.pending?.cause !== "slow" &&
        now >= viewer.policy.upAt + viewer.upJitter
      ) {
        viewer.want++;
        viewer.raisedAt = now;
        viewer.policy.stepped(now, true);
        viewer.upJitter = this.#random() * limits.upJitterMs;
      }
    }
    for (const viewer of this.#viewers.values()) {
      if (viewer.pending?.cause === "slow") continue;
      const layer = this.#fit(viewer, now);
      if (layer === viewer.target) viewer.pending = undefined;
      else if (viewer.pending?.layer !== layer) {
        const quiet = viewer.raisedAt === now;
        viewer.pending = {
          layer,
          due: now + (quiet ? 0 : this.#random() * limits.jitterMs),
          since: now,
          cause: quiet ? "quiet" : "layers",
        };
      }
    }
    this.#applyDue(now, effects);
    this.#dynacast(now, effects);
    return effects;
  }

  /** Asks Janus for the switches due, steps down first, within the cap. */
  #applyDue(now: number, effects: LayerEffect[]): void {
    const limits = this.#limits;
    // One switch per 1/switchesPerSecond s, no saving up: never more than
    // switchesPerSecond (+1) in any second.
    this.#tokens = Math.min(
      1,
      this.#tokens +
        Math.max(0, now - this.#refilledAt) * limits.switchesPerSecond / 1000,
    );
    this.#refilledAt = now;
    const due = [...this.#viewers].filter(([, v]) =>
      v.pending && v.pending.due <= now
    ).sort(([, a], [, b]) =>
      Number(b.pending!.cause === "slow") -
        Number(a.pending!.cause === "slow") ||
      a.pending!.due - b.pending!.due
    );
    for (const [viewerId, viewer] of due) {
      const pending = viewer.pending!;
      // Stale (Janus says it again while the loss lasts), or gone.
      if (
        (pending.cause === "slow" && now - pending.since > limits.settleMs) ||
        !this.#usable(pending.layer, now)
      ) {
        viewer.pending = undefined;
        continue;
      }
      if (this.#tokens < 1) break;
      this.#tokens--;
      viewer.pending = undefined;
      if (pending.cause === "slow") {
        viewer.want = pending.layer;
        viewer.policy.stepped(now, false);
        viewer.upJitter = this.#random() * limits.upJitterMs;
      }
      viewer.target = pending.layer;
      // Janus says nothing when it already sends that one.
      viewer.askedAt = pending.layer === viewer.current ? undefined : now;
      viewer.nudges = 0;
      effects.push({
        kind: "set",
        viewerId,
        layer: pending.layer,
        cause: pending.cause,
      });
    }
  }

  /** The layers to send: needed ones, and the rest until unneeded a while. */
  #dynacast(now: number, effects: LayerEffect[]): void {
    if (this.#adopted) return;
    const needed = new Set([this.top]);
    for (const viewer of this.#viewers.values()) {
      needed.add(viewer.target);
      if (viewer.current !== undefined) needed.add(viewer.current);
      if (viewer.pending) needed.add(viewer.pending.layer);
    }
    const next = new Set<number>();
    for (let layer = 0; layer <= this.top; layer++) {
      if (needed.has(layer)) {
        this.#unneededSince.delete(layer);
        next.add(layer);
        continue;
      }
      const since = this.#unneededSince.get(layer) ?? now;
      this.#unneededSince.set(layer, since);
      if (this.#wanted.has(layer) && now - since < this.#limits.pauseAfterMs) {
        next.add(layer);
      }
    }
    if (
      next.size === this.#wanted.size &&
      [...next].every((layer) => this.#wanted.has(layer))
    ) return;
    this.#wanted = next;
    effects.push({ kind: "want", rids: this.wanted });
  }
}

/**
 * The video's simulcast rids in `sdp` (its `a=simulcast:send` line), the
 * smallest first: Janus's substream order, which takes the first rid
 * listed as the largest (as browsers list them for `h;m;l`).
 */
export function simulcastRids(sdp: string): string[] {
  const line = /^a=simulcast:\s*send\s+(\S+)/m.exec(sdp);
  if (!line) return [];
  return line[1].split(";")
    .map((alternatives) => alternatives.split(",")[0].replace(/^~/, ""))
    .filter((rid) => /^[A-Za-z0-9_-]{1,16}$/.test(rid))
    .reverse();
}
