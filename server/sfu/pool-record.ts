/**
 * A stream's place in the pool as JSON (origin, edges, each viewer's
 * instance, each instance's Janus part), and the pool taking a stream over
 * from it or letting it go: what the SFU's cluster handover
 * (handover.ts) saves and restores. Functions over the pool's own state,
 * which it hands in as a context.
 */
import type { Logger } from "../observe/logger.ts";
import { JanusUnavailable } from "./janus-client.ts";
import type { SfuGateway } from "./sfu-gateway.ts";
import type { StreamRecord } from "./stream-on-sfu.ts";

/**
 * A stream's place in the pool as JSON: its origin, its edges, where each
 * viewer is, and each instance's part (what another node claims).
 */
export interface PoolRecord {
  origin: string;
  edges: string[];
  viewers: Record<string, string>;
  parts: Record<string, StreamRecord>;
}

/** The pool's state these steps work on. */
export interface PoolContext {
  instances: readonly SfuGateway[];
  assigned: Map<string, SfuGateway>;
  edges: Map<string, Map<SfuGateway, Promise<void>>>;
  viewers: Map<string, Map<string, SfuGateway>>;
  logger: Logger;
  placed(streamId: string): Map<string, SfuGateway>;
  edgeLost(streamId: string, edge: SfuGateway): void;
  /** Drops what the pool knows of the stream; its (linked) edges. */
  forget(streamId: string): SfuGateway[];
}

/** Where `streamId` is, as JSON; undefined if it is on no instance. */
export async function describeStream(
  cx: PoolContext,
  streamId: string,
): Promise<PoolRecord | undefined> {
  const origin = cx.assigned.get(streamId);
  if (!origin) return undefined;
  const edges = [...cx.edges.get(streamId)?.keys() ?? []];
  const parts: Record<string, StreamRecord> = {};
  for (const instance of [origin, ...edges]) {
    const part = await instance.describe(streamId);
    if (part) parts[instance.url] = part;
  }
  const viewers: Record<string, string> = {};
  for (const [viewerId, at] of cx.viewers.get(streamId) ?? []) {
    viewers[viewerId] = at.url;
  }
  return {
    origin: origin.url,
    edges: edges.map((edge) => edge.url).filter((url) => parts[url]),
    viewers,
    parts,
  };
}

/**
 * Takes `streamId` over from another node: claims its session on every
 * instance it uses. Rejects when its origin's session cannot be claimed
 * (the stream is then published anew); a lost edge's viewers go to
 * `edge-lost` as when an edge dies.
 */
export async function adoptStream(
  cx: PoolContext,
  streamId: string,
  record: PoolRecord,
  publisherId?: string,
): Promise<void> {
  const find = (url: string) => cx.instances.find((i) => i.url === url);
  const origin = find(record.origin);
  const part = record.parts[record.origin];
  if (!origin || !part) {
    throw new JanusUnavailable(`No instance ${record.origin} to adopt from`);
  }
  await origin.adopt(streamId, part, publisherId);
  cx.assigned.set(streamId, origin);
  const placed = cx.placed(streamId);
  const edges = new Map<SfuGateway, Promise<void>>();
  cx.edges.set(streamId, edges);
  const lost: SfuGateway[] = [];
  await Promise.all(record.edges.map(async (url) => {
    const edge = find(url);
    try {
      if (!edge) throw new Error(`no instance ${url}`);
      await edge.adopt(streamId, record.parts[url]);
      edges.set(edge, Promise.resolve());
    } catch (error) {
      cx.logger.warn("sfu-edge-not-adopted", {
        streamId,
        edge: url,
        error: String(error),
      });
      if (edge) lost.push(edge);
    }
  }));
  for (const [viewerId, url] of Object.entries(record.viewers)) {
    const at = find(url);
    if (at) placed.set(viewerId, at);
  }
  for (const edge of lost) cx.edgeLost(streamId, edge);
}

/** Stops driving `streamId` here (another node claims it). */
export async function releaseStream(
  cx: PoolContext,
  streamId: string,
): Promise<void> {
  const instances = [
    cx.assigned.get(streamId),
    ...cx.edges.get(streamId)?.keys() ?? [],
  ];
  cx.forget(streamId);
  await Promise.all(instances.map((i) => i?.release(streamId)));
}

/**
 * The rooms (and an edge's remote publisher) a record names, destroyed:
 * its sessions could not be claimed, and rooms outlive sessions.
 */
export async function discardStream(
  cx: PoolContext,
  record: PoolRecord,
): Promise<void> {
  await Promise.all(
    Object.entries(record.parts).map(([url, part]) =>
      cx.instances.find((i) => i.url === url)?.discard(part)
    ),
  );
}
