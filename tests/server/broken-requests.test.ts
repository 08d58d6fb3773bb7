/**
 * Every route walked with broken requests: each gets a 4xx with a problem
 * body whose code docs/protocol.md documents (or the documented 503 of an
 * SFU that is away), never a 500, and the server logs no failure.
 */
import assert from "node:assert/strict";
import { createStaticHandler } from "../../server/static-files.ts";
import { rawRequest, upgradeHead } from "./support/raw-http.ts";
import { freePort } from "./support/redis-process.ts";
import { startTestServer } from "./test-server.ts";

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

/** A request as lines plus a body: method and path first. */
type Broken = [method: string, path: string, headers: string[], body?: string];

function routes(kind: "whip" | "whep"): Broken[] {
  const sdp = ["Content-Type: application/sdp"];
  const at = `/${kind}/order-1`;
  return [
    ["GET", at, []],
    ["PUT", at, sdp, OFFER],
    ["POST", at, ["Content-Type: text/plain"], OFFER],
    ["POST", at, [], OFFER],
    ["POST", at, sdp, "hello"],
    ["POST", at, sdp, ""],
    ["POST", at, sdp, OFFER.replace(/^o=.*\r\n/m, "")],
    ["POST", at, sdp, OFFER.replace("s=-", "s=\0")],
    ["POST", at, sdp, OFFER.replace("t=0 0", "t=x")],
    [
      "POST",
      at,
      sdp,
      OFFER + "m=video 9 RTP/AVP 96\r\na=mid:x\r\n".repeat(1000),
    ],
    ["POST", at, sdp, OFFER + `a=x:${"y".repeat(2000)}\r\n`],
    ["POST", at, sdp, OFFER.padEnd(70_000, "x")],
    ["POST", at, [...sdp, "Content-Length: 100000000"], ""],
    ["POST", at, [...sdp, "Transfer-Encoding: chunked"], chunked(70_000)],
    ["POST", `/${kind}/%E0%A4%A`, sdp, OFFER],
    ["POST", `/${kind}/bad%20id`, sdp, OFFER],
    ["POST", `${at}/r/extra`, sdp, OFFER],
    ["PATCH", `${at}/no-such-session`, [
      "Content-Type: application/trickle-ice-sdpfrag",
    ], "a=x"],
    ["DELETE", `${at}/no-such-session`, []],
    ["GET", `${at}/no-such-session`, []],
    ["POST", `/${kind}/`, sdp, OFFER],
    // Well-formed, with the SFU away: the documented 503.
    ["POST", at, sdp, OFFER],
    ["POST", at, sdp, OFFER.replaceAll("\r\n", "\n")],
  ];
}

function chunked(size: number): string {
  return `${size.toString(16)}\r\n${"x".repeat(size)}\r\n0\r\n\r\n`;
}

const BROKEN: Broken[] = [
  ["GET", "/ws", []],
  ["POST", "/ws", upgradeHead().slice(2)],
  ["GET", "/ws", upgradeHead().slice(2).filter((l) => !l.includes("Key"))],
  ["GET", "/ws", [...upgradeHead().slice(2), "Sec-WebSocket-Version: 99"]],
  ["POST", "/healthz", []],
  ["DELETE", "/metrics", []],
  ["GET", "/%ZZ", []],
  ["GET", "/../../etc/passwd", []],
  ["GET", "/%2e%2e/%2e%2e/etc/passwd", []],
  ["GET", "/nothing%00.html", []],
  ["GET", `/${"a".repeat(4000)}`, []],
  ["POST", "/", ["Content-Type: text/plain"], "x"],
  ...routes("whip"),
  ...routes("whep"),
];

Deno.test({
  name:
    "broken requests to every route get a documented 4xx (or the SFU's 503), never a 500",
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
    for (const [method, path, headers, body = ""] of BROKEN) {
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
      if (response.status === 503) {
        assert.equal(error, "sfu-unavailable", what);
      } else {
        assert.ok(
          response.status >= 400 && response.status < 500,
          `${what}: ${response.status}`,
        );
      }
      assert.ok(typeof error === "string", `${what}: no problem body`);
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
