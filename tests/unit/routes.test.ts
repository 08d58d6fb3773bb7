/**
 * The route table (server/http/routes.ts) that the HTTP handler and the
 * WHIP/WHEP endpoints both read.
 */
import assert from "node:assert/strict";
import {
  createHttpHandler,
  type HttpHandler,
  type HttpHandlerOptions,
} from "../../server/http/http-handler.ts";
import { route } from "../../server/http/routes.ts";
import { Metrics } from "../../server/observe/metrics.ts";

Deno.test("routes: the fixed paths, a stream, a session; decoded stream ids", () => {
  assert.deepEqual(route("/ws"), { name: "ws" });
  assert.deepEqual(route("/healthz"), { name: "healthz" });
  assert.deepEqual(route("/metrics"), { name: "metrics" });
  assert.deepEqual(route("/whip/order-1"), {
    name: "stream",
    kind: "whip",
    streamId: "order-1",
  });
  assert.deepEqual(route("/whep/a.b:c_d-e/5f0c"), {
    name: "session",
    kind: "whep",
    streamId: "a.b:c_d-e",
    resource: "5f0c",
  });
  assert.deepEqual(route("/whip/room%3A1"), {
    name: "stream",
    kind: "whip",
    streamId: "room:1",
  });
});

Deno.test("routes: anything else under /whip/ or /whep/ is that kind's unknown path; others have no route", () => {
  for (
    const path of [
      "/whip/",
      "/whip/s/",
      "/whip/s/r/extra",
      "/whip/bad%20id",
      "/whip/%E0%A4%A",
      `/whip/${"a".repeat(129)}`,
    ]
  ) {
    assert.deepEqual(route(path), { name: "unknown", kind: "whip" }, path);
  }
  assert.deepEqual(route("/whep/"), { name: "unknown", kind: "whep" });
  for (const path of ["/", "/whip", "/WHIP/s", "/ws/", "/healthz/x", "/x.js"]) {
    assert.equal(route(path), undefined, path);
  }
});

Deno.test("the HTTP handler hands a WHIP or WHEP path to its endpoint with the route it read; without an SFU they are files", async () => {
  const seen: unknown[] = [];
  const options: HttpHandlerOptions = {
    metrics: new Metrics(),
    gauges: () => ({ connections: 0, streams: 0, liveStreams: 0, viewers: 0 }),
    health: () => ({ ready: true, details: {} }),
    admit: () => true,
    upgrade: () => new Response(null, { status: 101 }),
    startedAt: 0,
    files: () => Promise.resolve(new Response("file")),
  };
  const endpoint =
    (kind: string) => (_: Request, address: string, r: unknown) => {
      seen.push([kind, address, r]);
      return Promise.resolve(new Response(null, { status: 204 }));
    };
  const info = {
    remoteAddr: { transport: "tcp", hostname: "192.0.2.7", port: 1 },
  } as Deno.ServeHandlerInfo;
  const get = (handler: HttpHandler, path: string) =>
    handler(new Request(`http://server.test${path}`), info);
  const withSfu = createHttpHandler({
    ...options,
    whip: endpoint("whip"),
    whep: endpoint("whep"),
  });
  await get(withSfu, "/whep/s/r");
  await get(withSfu, "/whip/");
  assert.deepEqual(seen, [
    ["whep", "192.0.2.7", {
      name: "session",
      kind: "whep",
      streamId: "s",
      resource: "r",
    }],
    ["whip", "192.0.2.7", { name: "unknown", kind: "whip" }],
  ]);
  const withoutSfu = createHttpHandler(options);
  assert.equal(await (await get(withoutSfu, "/whip/s")).text(), "file");
});
