/**
 * The HTTP surface: `/ws` (WebSocket upgrade), `/healthz`, `/metrics`,
 * WHIP and WHEP, files; dispatched by the route table (routes.ts). A plain
 * `(request, info) => Response` so tests can call it without a socket.
 */
import type { Gauges, Metrics } from "../observe/metrics.ts";
import { json } from "./json-response.ts";
import { problem } from "./problem-details.ts";
import { route, type SessionRoute } from "./routes.ts";

export interface HttpHandlerOptions {
  metrics: Metrics;
  gauges(): Gauges;
  /**
   * Whether this node can serve (a cluster node needs Redis), and what
   * /healthz adds about it (node id, Redis state).
   */
  health(): { ready: boolean; details: Record<string, unknown> };
  /**
   * Whether this upgrade may proceed: true, or the HTTP refusal (403 for a
   * foreign Origin, 429 per IP, 503 at capacity or while shutting down).
   */
  admit(request: Request, remoteAddress: string): true | Refusal;
  /**
   * Upgrades an admitted request (the caller owns the socket), or says why
   * Deno would not (its slot given back).
   */
  upgrade(request: Request, remoteAddress: string): Response | Refusal;
  startedAt: number;
  /**
   * WHIP ingest (`/whip/...`), when the server has an SFU; `route` is the
   * path as the route table read it (SessionEndpoint.handle takes it).
   */
  whip?: SessionHandler;
  /** WHEP playback (`/whep/...`), when the server has an SFU. */
  whep?: SessionHandler;
  /** Files (bundles, demo pages) for any other path; `undefined` = 404. */
  files?: (request: Request) => Promise<Response | undefined>;
  /** A handler threw: our bug, answered 500 (never for what a client sent). */
  onError?: (error: unknown, request: Request) => void;
}

export type SessionHandler = (
  request: Request,
  remoteAddress: string,
  route: SessionRoute,
) => Promise<Response>;

export interface Refusal {
  status: 400 | 403 | 429 | 503;
  error: string;
  message: string;
}

export type HttpHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo,
) => Response | Promise<Response>;

export function createHttpHandler(
  options: HttpHandlerOptions,
  trustProxy = false,
): HttpHandler {
  const route = routes(options, trustProxy);
  const failed = (error: unknown, request: Request): Response => {
    options.onError?.(error, request);
    return problem(500, "internal-error", "The server failed on this request");
  };
  return (request, info) => {
    try {
      const response = route(request, info);
      return response instanceof Promise
        ? response.catch((error) => failed(error, request))
        : response;
    } catch (error) {
      return failed(error, request);
    }
  };
}

function routes(options: HttpHandlerOptions, trustProxy: boolean): HttpHandler {
  return (request, info) => {
    const matched = route(new URL(request.url).pathname);
    switch (matched?.name) {
      case "ws":
        return upgradeRoute(request, info, trustProxy, options);
      case "healthz": {
        const refused = getOnly(request);
        if (refused) return refused;
        // Not ready = 503, so a load balancer sends new clients elsewhere.
        const { ready, details } = options.health();
        return json(ready ? 200 : 503, {
          status: ready ? "ok" : "unavailable",
          uptimeSeconds: Math.round(
            (performance.now() - options.startedAt) / 1000,
          ),
          ...details,
          ...options.gauges(),
        });
      }
      case "metrics":
        return getOnly(request) ??
          new Response(options.metrics.render(options.gauges()), {
            headers: { "content-type": "text/plain; version=0.0.4" },
          });
      case "stream":
      case "session":
      case "unknown": {
        // Without an SFU these paths are files like any other.
        const endpoint = options[matched.kind];
        if (!endpoint) return files(request, options);
        const address = clientAddress(request, info, trustProxy);
        return endpoint(request, address, matched);
      }
      case undefined:
        return files(request, options);
    }
  };
}

async function files(
  request: Request,
  options: HttpHandlerOptions,
): Promise<Response> {
  const found = await options.files?.(request);
  return found ?? problem(404, "not-found", "No such path");
}

/**
 * The client's address: the connection's peer, or with TRUST_PROXY the first
 * X-Forwarded-For hop (only safe behind a proxy that sets it).
 */
function clientAddress(
  request: Request,
  info: Deno.ServeHandlerInfo,
  trustProxy: boolean,
): string {
  if (trustProxy) {
    const forwarded = request.headers.get("x-forwarded-for")?.split(",")[0]
      ?.trim();
    if (forwarded) return forwarded;
  }
  return (info.remoteAddr as Deno.NetAddr).hostname ?? "unknown";
}

/**
 * Deno's peer address of a connection that was reset before the handler
 * ran. Upgrading it would never open and, in Deno 2.9, holds its file
 * descriptor for good; a plain answer to it frees the connection.
 */
const GONE = new Set(["0.0.0.0", "::"]);

function upgradeRoute(
  request: Request,
  info: Deno.ServeHandlerInfo,
  trustProxy: boolean,
  options: HttpHandlerOptions,
): Response {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return problem(
      426,
      "upgrade-required",
      "Connect with a WebSocket client to /ws",
      { upgrade: "websocket" },
    );
  }
  const malformed = badUpgrade(request);
  if (malformed) {
    options.metrics.connectionsRefused++;
    return malformed;
  }
  if (GONE.has((info.remoteAddr as Deno.NetAddr).hostname)) {
    options.metrics.connectionsRefused++;
    return problem(
      400,
      "connection-gone",
      "The connection closed before the upgrade",
    );
  }
  const remoteAddress = clientAddress(request, info, trustProxy);
  const admitted = options.admit(request, remoteAddress);
  if (admitted !== true) {
    options.metrics.connectionsRefused++;
    const { status, error, message } = admitted;
    return problem(
      status,
      error,
      message,
      status === 403 || status === 400 ? {} : { "retry-after": "5" },
    );
  }
  const upgraded = options.upgrade(request, remoteAddress);
  if (upgraded instanceof Response) return upgraded;
  options.metrics.connectionsRefused++;
  return problem(upgraded.status, upgraded.error, upgraded.message);
}

/**
 * What RFC 6455 §4.2.1 asks of an upgrade request, checked before anything
 * is counted (Deno's upgrade would throw on some of it, after).
 */
function badUpgrade(request: Request): Response | undefined {
  if (request.method !== "GET") {
    return problem(405, "method-not-allowed", "A WebSocket upgrade is a GET", {
      allow: "GET",
    });
  }
  const connection = request.headers.get("connection") ?? "";
  if (
    !connection.split(",").some((t) => t.trim().toLowerCase() === "upgrade")
  ) {
    return problem(
      400,
      "bad-upgrade",
      "A WebSocket upgrade needs Connection: Upgrade",
    );
  }
  // 16 random bytes in base64.
  const key = request.headers.get("sec-websocket-key")?.trim() ?? "";
  if (!/^[A-Za-z0-9+/]{22}==$/.test(key)) {
    return problem(
      400,
      "bad-upgrade",
      "A WebSocket upgrade needs a Sec-WebSocket-Key of 16 bytes",
    );
  }
  if (request.headers.get("sec-websocket-version")?.trim() !== "13") {
    return problem(
      426,
      "unsupported-websocket-version",
      "This server speaks WebSocket version 13",
      { "sec-websocket-version": "13" },
    );
  }
  return undefined;
}

function getOnly(request: Request): Response | undefined {
  if (request.method === "GET" || request.method === "HEAD") return undefined;
  return problem(405, "method-not-allowed", "Use GET", {
    allow: "GET, HEAD",
  });
}
