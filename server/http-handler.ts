/**
 * The HTTP surface: `/ws` (WebSocket upgrade), `/healthz`, `/metrics`.
 * A plain `(request, info) => Response` so tests can call it without a socket.
 */
import type { Gauges, Metrics } from "./metrics.ts";

export interface HttpHandlerOptions {
  metrics: Metrics;
  gauges(): Gauges;
  /** Whether a new WebSocket may be accepted; a string is the refusal. */
  admit(): true | string;
  /** Upgrades an admitted request (the caller owns the socket). */
  upgrade(request: Request, remoteAddress: string): Response;
  startedAt: number;
  /** Files (bundles, demo pages) for any other path; `undefined` = 404. */
  files?: (request: Request) => Promise<Response | undefined>;
}

export type HttpHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo,
) => Response | Promise<Response>;

export function createHttpHandler(options: HttpHandlerOptions): HttpHandler {
  return (request, info) => {
    const { pathname } = new URL(request.url);
    switch (pathname) {
      case "/ws":
        return upgradeRoute(request, info, options);
      case "/healthz":
        return getOnly(request) ?? json(200, {
          status: "ok",
          uptimeSeconds: Math.round(
            (performance.now() - options.startedAt) / 1000,
          ),
          ...options.gauges(),
        });
      case "/metrics":
        return getOnly(request) ??
          new Response(options.metrics.render(options.gauges()), {
            headers: { "content-type": "text/plain; version=0.0.4" },
          });
      default:
        return files(request, options);
    }
  };
}

async function files(
  request: Request,
  options: HttpHandlerOptions,
): Promise<Response> {
  const found = await options.files?.(request);
  return found ?? json(404, { error: "not-found", message: "No such path" });
}

function upgradeRoute(
  request: Request,
  info: Deno.ServeHandlerInfo,
  options: HttpHandlerOptions,
): Response {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return json(426, {
      error: "upgrade-required",
      message: "Connect with a WebSocket client to /ws",
    }, { upgrade: "websocket" });
  }
  const admitted = options.admit();
  if (admitted !== true) {
    options.metrics.connectionsRefused++;
    return json(503, { error: "unavailable", message: admitted }, {
      "retry-after": "5",
    });
  }
  const address = info.remoteAddr as Deno.NetAddr;
  return options.upgrade(request, address.hostname ?? "unknown");
}

function getOnly(request: Request): Response | undefined {
  if (request.method === "GET" || request.method === "HEAD") return undefined;
  return json(405, { error: "method-not-allowed", message: "Use GET" }, {
    allow: "GET, HEAD",
  });
}

function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}
