/**
 * Cascading (VideoRoom remote publishers) as the pool does it: an edge made
 * on the least-loaded instance not yet carrying the stream, the origin
 * forwarding its publisher there; an edge torn down forward first, then
 * its room. Functions over the pool's state, handed in as a context.
 */
import type { Logger } from "../observe/logger.ts";
import type { SfuGateway } from "./sfu-gateway.ts";

/** The pool's state these steps work on. */
export interface CascadeContext {
  instances: readonly SfuGateway[];
  assigned: Map<string, SfuGateway>;
  edges: Map<string, Map<SfuGateway, Promise<void>>>;
  /** Edges being torn down (by remote id): not picked again until they are. */
  closing: Set<string>;
  logger: Logger;
  leastLoaded(except: ReadonlySet<SfuGateway>): SfuGateway | undefined;
}

/** The name of the origin's forward of `streamId` to `edge`. */
export function remoteIdOf(streamId: string, edge: SfuGateway): string {
  return `${streamId}@${edge.url}`;
}

/**
 * Makes a new edge for `streamId` on the least-loaded instance not yet
 * carrying it: the origin forwards its publisher there. Undefined when
 * there is none.
 */
export function cascade(
  cx: CascadeContext,
  streamId: string,
  origin: SfuGateway,
): SfuGateway | undefined {
  const edges = cx.edges.get(streamId) ?? new Map();
  const closing = cx.instances.filter((instance) =>
    cx.closing.has(remoteIdOf(streamId, instance))
  );
  const edge = cx.leastLoaded(
    new Set([origin, ...edges.keys(), ...closing]),
  );
  if (!edge) return undefined;
  const current = () => cx.edges.get(streamId)?.get(edge) === ready;
  const ready: Promise<void> = (async () => {
    const streams = await origin.publisherStreams(streamId);
    const to = await edge.hostRemote(streamId, streams);
    // The stream ended (or its edge was dropped) while this was made.
    if (!current()) throw new Error(`The cascade of ${streamId} is gone`);
    await origin.forward(streamId, remoteIdOf(streamId, edge), to);
    cx.logger.info("sfu-cascade", {
      streamId,
      origin: origin.url,
      edge: edge.url,
    });
  })();
  ready.catch((error) => {
    cx.logger.warn("sfu-cascade-failed", {
      streamId,
      edge: edge.url,
      error: String(error),
    });
    if (current()) cx.edges.get(streamId)!.delete(edge);
    // What it made on the edge goes, unless a newer cascade took the edge.
    if (!cx.edges.get(streamId)?.has(edge)) {
      edge.end(streamId).catch(() => {});
    }
  });
  edges.set(edge, ready);
  cx.edges.set(streamId, edges);
  return edge;
}

/** Tears down the edge `edge` of `streamId`: the forward, then its room. */
export async function endEdge(
  cx: CascadeContext,
  streamId: string,
  edge: SfuGateway,
): Promise<void> {
  cx.edges.get(streamId)?.delete(edge);
  cx.logger.info("sfu-cascade-ended", { streamId, edge: edge.url });
  // A new cascade to this edge before it is ended would have its room
  // ended below, and its forward share this one's remote id.
  const remoteId = remoteIdOf(streamId, edge);
  cx.closing.add(remoteId);
  try {
    await cx.assigned.get(streamId)
      ?.unforward(streamId, remoteId).catch(() => {});
    await edge.end(streamId);
  } finally {
    cx.closing.delete(remoteId);
  }
}
