/**
 * Every route walked with broken requests: each gets a 4xx with a problem
 * body whose code docs/protocol.md documents (or the documented 503 of an
 * SFU that is away), never a 500, and the server logs no failure.
 */
import assert from "node:assert/strict";
import { createStaticHandler } from "../../server/http/static-files.ts";
import { rawRequest, upgradeHead } from "./support/raw-http.ts";
import { freePort } from "./support/redis-process.ts";
import { startTestServer } from "./support/test-server.ts";

const OFFER = [
  "v=0",
  "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "m=video 9 UDP/TLS/RTP/SAVPF 96",
  "c=IN IP4 0.0.0.0",
  "a=mid:0",
  "a=sendonly",
  "a=rtpmap:96 VP8/90000",
  "",
].join("\r\n");

/** A request (method, path, headers, body) and the answer it must get. */
type Broken = [
  method: string,
  path: string,
  headers: string[],
  body: string,
  status: number,
  error: string,
];

function routes(kind: "whip" | "whep"): Broken[] {
  const sdp = ["Content-Type: application/sdp"];
  const at = `/${kind}/order-1`;
  const trickle = ["Content-Type: application/trickle-ice-sdpfrag"];
  return [
    // WHEP answers GET (204, no content: the WHEP draft); WHIP does not.
    ...(kind === "whip"
      ? [["GET", at, [], "", 405, "method-not-allowed"] satisfies Broken]
      : []),
    ["PUT", at, sdp, OFFER, 405, "method-not-allowed"],
    [
      "POST",
      at,
      ["Content-Type: text/plain"],
      OFFER,
      415,
      "unsupported-media-type",
    ],
    ["POST", at, [], OFFER, 415, "unsupported-media-type"],
    ["POST", at, sdp, "hello", 400, "bad-sdp"],
    // Empty: a WHEP player asking for the server's offer (the SFU's 503
    // here); a WHIP offer missing.
    kind === "whep"
      ? ["POST", at, sdp, "", 503, "sfu-unavailable"]
      : ["POST", at, sdp, "", 400, "bad-sdp"],
    ["POST", at, sdp, OFFER.replace(/^o=.*\r\n/m, ""), 400, "bad-sdp"],
    ["POST", at, sdp, OFFER.replace("s=-", "s=\0"), 400, "bad-sdp"],
    ["POST", at, sdp, OFFER.replace("t=0 0", "t=x"), 400, "bad-sdp"],
    [
      "POST",
      at,
      sdp,
      OFFER + "m=video 9 RTP/AVP 96\r\na=mid:x\r\n".repeat(1000),
      400,
      "bad-sdp",
    ],
    ["POST", at, sdp, OFFER + `a=x:${"y".repeat(2000)}\r\n`, 400, "bad-sdp"],
    ["POST", at, sdp, OFFER.padEnd(70_000, "x"), 413, "too-large"],
    ["POST", at, [...sdp, "Content-Length: 100000000"], "", 413, "too-large"],
    [
      "POST",
      at,
      [...sdp, "Transfer-Encoding: chunked"],
      chunked(70_000),
      413,
      "too-large",
    ],
    ["POST", `/${kind}/%E0%A4%A`, sdp, OFFER, 404, "not-found"],
    ["POST", `/${kind}/bad%20id`, sdp, OFFER, 404, "not-found"],
    ["POST", `${at}/r/extra`, sdp, OFFER, 404, "not-found"],
    ["PATCH", `${at}/no-such-session`, trickle, "a=x", 404, "not-found"],
    ["DELETE", `${at}/no-such-session`, [], "", 404, "not-found"],
    ["GET", `${at}/no-such-session`, [], "", 404, "not-found"],
    ["POST", `/${kind}/`, sdp, OFFER, 404, "not-found"],
    // Well-formed, with the SFU away: the documented 503.
    ["POST", at, sdp, OFFER, 503, "sfu-unavailable"],
    ["POST", at, sdp, OFFER.replaceAll("\r\n", "\n"), 503, "sfu-unavailable"],
  ];
}

function chunked(size: number): string {
  return `${size.toString(16)}\r\n${"x".repeat(size)}\r\n0\r\n\r\n`;
}

const upgrade = upgradeHead().slice(2);
const BROKEN: Broken[] = [
  ["GET", "/ws", [], "", 426, "upgrade-required"],
  ["POST", "/ws", upgrade, "", 405, "method-not-allowed"],
  [
    "GET",
    "/ws",
    upgrade.filter((l) => !l.includes("Key")),
    "",
    400,
    "bad-upgrade",
  ],
  [
    "GET",
    "/ws",
    [
      ...upgrade.filter((l) => !l.includes("Version")),
      "Sec-WebSocket-Version: 99",
    ],
    "",
    426,
    "unsupported-websocket-version",
  ],
  ["POST", "/healthz", [], "", 405, "method-not-allowed"],
  ["DELETE", "/metrics", [], "", 405, "method-not-allowed"],
  ["GET", "/%ZZ", [], "", 404, "not-found"],
  ["GET", "/../../etc/passwd", [], "", 404, "not-found"],
  ["GET", "/%2e%2e/%2e%2e/etc/passwd", [], "", 404, "not-found"],
  ["GET", "/nothing%00.html", [], "", 404, "not-found"],
  ["GET", `/${"a".repeat(4000)}`, [], "", 404, "not-found"],
  ["POST", "/", ["Content-Type: text/plain"], "x", 404, "not-found"],
  ...routes("whip"),
  ...routes("whep"),
];

Deno.test({
  name:
    "broken requests to every route get their documented 4xx (or the SFU's 503), never a 500",
  // The SFU link keeps retrying a Janus that is not there until shutdown.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const root = await Deno.makeTempDir();
    await Deno.writeTextFile(`${root}/index.html`, "<p>hi</p>");
    await using t = await startTestServer(
      { janusUrl: `ws://127.0.0.1:${freePort()}` },
      "warn",
      { files: createStaticHandler(root) },
    );
    const documented = await Deno.readTextFile(
      new URL("../../docs/protocol.md", import.meta.url),
    );
    for (const [method, path, headers, body, status, code] of BROKEN) {
      const head = [
        `${method} ${path} HTTP/1.1`,
        "Host: 127.0.0.1",
        ...headers,
        ...(body && !headers.some((h) => /^(content-length|transfer)/i.test(h))
          ? [`Content-Length: ${new TextEncoder().encode(body).length}`]
          : []),
      ];
      const what = `${method} ${path.slice(0, 60)} ${headers.join(" ")}`;
      const response = await rawRequest(t.server.port, head, body);
      const { error } = JSON.parse(response.body || "{}");
      assert.deepEqual([response.status, error], [status, code], what);
      assert.ok(
        documented.includes(`\`${error}\``),
        `${what}: ${error} is not in docs/protocol.md`,
      );
    }
    assert.deepEqual(
      t.logs.filter((line) => /handler-failed|"level":"error"/.test(line)),
      [],
    );
    await Deno.remove(root, { recursive: true });
  },
});
