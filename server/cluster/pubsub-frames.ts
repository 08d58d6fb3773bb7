/**
 * Frames through Redis pub/sub as the nodes sent them before links (and
 * still do with NODE_LINKS=off, the store's scripts included): `t <to>
 * <text>` for a frame (the text as is: no second JSON encoding on the hot
 * path), `e <json>` for an eviction. The links' own frames through pub/sub
 * are `@<node> <frame>` (node-links.ts).
 */
import type { Envelope } from "../signaling/delivery.ts";

export function encode(envelope: Envelope): string {
  return envelope.kind === "text"
    ? `t ${envelope.to} ${envelope.text}`
    : `e ${JSON.stringify(envelope)}`;
}

export function decode(payload: string): Envelope | undefined {
  if (payload.startsWith("t ")) {
    const space = payload.indexOf(" ", 2);
    if (space < 0) return undefined;
    return {
      kind: "text",
      to: payload.slice(2, space),
      text: payload.slice(space + 1),
    };
  }
  if (payload.startsWith("e ")) {
    try {
      const envelope = JSON.parse(payload.slice(2));
      return envelope?.kind === "evict" ? envelope : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * A link frame (`T`, `L` or `E`, node-links.ts) in the format of before
 * links, for a node without links; undefined for any other frame.
 */
export function legacy(frame: string): string | undefined {
  const kind = frame[0];
  const seqEnd = frame.indexOf(" ", 2);
  if (seqEnd < 0) return undefined;
  const rest = frame.slice(seqEnd + 1);
  if (kind === "E") return `e ${rest}`;
  if (kind === "T") return `t ${rest}`;
  if (kind !== "L") return undefined;
  // L: to, stream, viewer, text.
  const to = rest.slice(0, rest.indexOf(" "));
  let at = to.length + 1;
  for (let i = 0; i < 2; i++) at = rest.indexOf(" ", at) + 1;
  return at > 0 ? `t ${to} ${rest.slice(at)}` : undefined;
}
