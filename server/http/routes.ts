/**
 * Every path the server answers, as `URLPattern`s in one table. The HTTP
 * handler dispatches on it, and the WHIP and WHEP endpoints read their
 * stream and session from the same match: one reading of a path, where
 * there were two (a switch, then `split("/")`).
 */
import { STREAM_ID_PATTERN } from "../../protocol/messages.ts";

/** The two kinds of socketless session, and their paths' first segment. */
export type SessionKindName = "whip" | "whep";

/** A path under `/whip/` or `/whep/`, read. */
export type SessionRoute =
  /** `/{kind}/{streamId}`: POST an offer (or OPTIONS). */
  | { name: "stream"; kind: SessionKindName; streamId: string }
  /** `/{kind}/{streamId}/{resource}`: PATCH or DELETE a session. */
  | {
    name: "session";
    kind: SessionKindName;
    streamId: string;
    resource: string;
  }
  /**
   * Anything else under the kind (a bad stream id, a segment too many): the
   * kind's endpoint answers 404 with its CORS headers.
   */
  | { name: "unknown"; kind: SessionKindName };

export type Route =
  | { name: "ws" }
  | { name: "healthz" }
  | { name: "metrics" }
  | SessionRoute;

type RouteName = Route["name"];

const pattern = (pathname: string) => new URLPattern({ pathname });

/**
 * First match wins. `:name` is one non-empty segment; the last rows take
 * what the session rows did not.
 */
const ROUTES: readonly (readonly [RouteName, URLPattern])[] = [
  ["ws", pattern("/ws")],
  ["healthz", pattern("/healthz")],
  ["metrics", pattern("/metrics")],
  ["stream", pattern("/:kind(whip|whep)/:streamId")],
  ["session", pattern("/:kind(whip|whep)/:streamId/:resource")],
  ["unknown", pattern("/:kind(whip|whep)/*")],
];

/** The route of `pathname` (as `URL` has it: percent-encoded), if any. */
export function route(pathname: string): Route | undefined {
  for (const [name, pattern] of ROUTES) {
    const groups = pattern.exec({ pathname })?.pathname.groups;
    if (groups) return read(name, groups);
  }
  return undefined;
}

function read(
  name: RouteName,
  groups: Record<string, string | undefined>,
): Route {
  switch (name) {
    case "ws":
    case "healthz":
    case "metrics":
      return { name };
    case "stream":
    case "session":
    case "unknown": {
      // The pattern allows only these two.
      const kind = groups.kind as SessionKindName;
      const streamId = decoded(groups.streamId ?? "");
      // A stream id the protocol refuses names no stream here either.
      if (name === "unknown" || !STREAM_ID_PATTERN.test(streamId)) {
        return { name: "unknown", kind };
      }
      return name === "stream"
        ? { name, kind, streamId }
        : { name, kind, streamId, resource: groups.resource ?? "" };
    }
  }
}

/** A path segment decoded, or "" when its percent-encoding is broken. */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return "";
  }
}
