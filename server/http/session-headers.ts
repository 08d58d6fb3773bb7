/**
 * The headers the WHIP and WHEP endpoint reads and writes: content types,
 * the Bearer token, entity tags, ICE servers as `Link`s (RFC 9725), CORS.
 */
import type { IceServer } from "../../protocol/messages.ts";
import { TRICKLE_ICE_SDPFRAG } from "../../protocol/sdp-fragment.ts";

export const SDP = "application/sdp";
export const TRICKLE = TRICKLE_ICE_SDPFRAG;

/** A strong entity tag, quoted (RFC 9110 §8.8.3). */
export function newEtag(): string {
  return `"${crypto.randomUUID()}"`;
}

/** The media type, without parameters, lower case. */
export function contentType(request: Request): string | undefined {
  return request.headers.get("content-type")?.split(";")[0].trim()
    .toLowerCase();
}

export function bearer(request: Request): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")
    ?.[1];
}

/** RFC 9725 `Link` headers for ICE servers (TURN with its credentials). */
export function iceServerLinks(servers: IceServer[] | undefined): string[] {
  const links: string[] = [];
  for (const server of servers ?? []) {
    const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
    for (const url of urls) {
      const credentials = server.username !== undefined
        ? `; username="${server.username}"; credential="${server.credential}"; credential-type="password"`
        : "";
      links.push(`<${url}>; rel="ice-server"${credentials}`);
    }
  }
  return links;
}

/** CORS grant for an allowed Origin (WHIP and WHEP clients read these headers). */
export function corsHeaders(
  request: Request,
  originAllowed: (origin: string) => boolean,
): Record<string, string> {
  const origin = request.headers.get("origin");
  if (!origin || !originAllowed(origin)) return {};
  return {
    "access-control-allow-origin": origin,
    // What clients read: the session, its ICE servers and tag, the methods
    // (trickle or not), when to try again, how to authenticate.
    "access-control-expose-headers":
      "location, link, etag, allow, accept-patch, access-control-allow-methods, retry-after, www-authenticate",
    vary: "origin",
  };
}
