/**
 * Serves files from one directory: the built `dist/` in production, the demo
 * pages in development. Content types by extension, ETags with 304, and CORS
 * so shops can load the bundles from another origin with
 * `<script type="module">` (module scripts are always fetched in CORS mode).
 */
import { extname, join, normalize, resolve, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

export interface StaticOptions {
  /** `Cache-Control` for everything served. */
  cacheControl: string;
}

/** Production default: bundles are not content-hashed, so revalidate (cheap 304s). */
export const REVALIDATE: StaticOptions = {
  cacheControl: "public, max-age=300, must-revalidate",
};

export const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "cross-origin-resource-policy": "cross-origin",
} as const;

/**
 * A handler for files under `root`, or `undefined` for paths it does not
 * have. `/` and directories serve their `index.html`.
 */
export function createStaticHandler(
  root: string,
  options: StaticOptions = REVALIDATE,
): (request: Request) => Promise<Response | undefined> {
  const base = resolve(root);
  return async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") return undefined;
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(request.url).pathname);
    } catch {
      return undefined;
    }
    if (pathname.includes("\0")) return undefined;
    let path = join(base, normalize(pathname));
    // No escaping the root with `..` or encoded variants of it.
    if (path !== base && !path.startsWith(base + sep)) return undefined;
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
      if (info.isDirectory) {
        path = join(path, "index.html");
        info = await Deno.stat(path);
      }
    } catch {
      return undefined;
    }
    if (!info.isFile) return undefined;
    const etag = `W/"${info.size.toString(36)}-${
      (info.mtime?.getTime() ?? 0).toString(36)
    }"`;
    const headers = {
      "content-type": TYPES[extname(path)] ?? "application/octet-stream",
      "cache-control": options.cacheControl,
      etag,
      ...CORS_HEADERS,
    };
    if (request.headers.get("if-none-match") === etag) {
      return new Response(null, { status: 304, headers });
    }
    if (request.method === "HEAD") {
      return new Response(null, {
        headers: { ...headers, "content-length": String(info.size) },
      });
    }
    const file = await Deno.open(path, { read: true });
    return new Response(file.readable, {
      headers: { ...headers, "content-length": String(info.size) },
    });
  };
}
