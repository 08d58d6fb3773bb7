/** The server's file serving (STATIC_DIR): types, caching, CORS, and no escaping the root. */
import assert from "node:assert/strict";
import { createStaticHandler } from "../../server/http/static-files.ts";
import { startTestServer } from "./support/test-server.ts";

async function withFiles() {
  const root = await Deno.makeTempDir();
  await Deno.mkdir(`${root}/demo`);
  await Deno.writeTextFile(`${root}/live-viewer.js`, "export {};\n");
  await Deno.writeTextFile(
    `${root}/index.html`,
    "<!doctype html><title>x</title>",
  );
  await Deno.writeTextFile(`${root}/demo/index.html`, "<p>demo</p>");
  const secret = await Deno.makeTempFile();
  await Deno.writeTextFile(secret, "secret");
  const t = await startTestServer({}, "error", {
    files: createStaticHandler(root),
  });
  const base = `http://127.0.0.1:${t.server.port}`;
  return {
    t,
    base,
    secret,
    async [Symbol.asyncDispose]() {
      await t[Symbol.asyncDispose]();
      await Deno.remove(root, { recursive: true });
      await Deno.remove(secret);
    },
  };
}

Deno.test("bundles are served as JavaScript with CORS, an ETag and revalidation", async () => {
  await using f = await withFiles();
  const response = await fetch(`${f.base}/live-viewer.js`, {
    headers: { origin: "https://shop.example" },
  });
  assert.equal(response.status, 200);
  assert.equal(
    response.headers.get("content-type"),
    "text/javascript; charset=utf-8",
  );
  assert.equal(response.headers.get("access-control-allow-origin"), "*");
  assert.match(response.headers.get("cache-control")!, /must-revalidate/);
  assert.equal(await response.text(), "export {};\n");
  const etag = response.headers.get("etag")!;
  const again = await fetch(`${f.base}/live-viewer.js`, {
    headers: { "if-none-match": etag },
  });
  assert.equal(again.status, 304);
  await again.body?.cancel();
});

Deno.test("/ and directories serve index.html; HEAD has no body; missing is 404", async () => {
  await using f = await withFiles();
  const root = await fetch(`${f.base}/`);
  assert.equal(root.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(await root.text(), /<title>x<\/title>/);
  assert.equal(await (await fetch(`${f.base}/demo/`)).text(), "<p>demo</p>");
  const head = await fetch(`${f.base}/live-viewer.js`, { method: "HEAD" });
  assert.equal(head.headers.get("content-length"), "11");
  assert.equal(await head.text(), "");
  const missing = await fetch(`${f.base}/nope.js`);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
});

Deno.test("paths cannot escape the served directory", async () => {
  await using f = await withFiles();
  const name = f.secret.split("/").pop()!;
  for (
    const path of [
      `/../${name}`,
      `/%2e%2e/${name}`,
      `/..%2f${name}`,
      `/demo/%2e%2e/%2e%2e/${name}`,
      "/%00",
      "/%zz",
    ]
  ) {
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: f.t.server.port,
    });
    // Raw request: fetch would normalize the `..` away before sending.
    await conn.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      ),
    );
    const reply = new TextDecoder().decode(
      await new Response(conn.readable).arrayBuffer(),
    );
    assert.match(reply, /^HTTP\/1\.1 (404|400)/, path);
    assert.ok(!reply.includes("secret"), path);
  }
});

Deno.test("/ws, /healthz and /metrics still win over files", async () => {
  await using f = await withFiles();
  const health = await fetch(`${f.base}/healthz`);
  assert.equal((await health.json()).status, "ok");
  const client = await f.t.connect();
  assert.match(client.id, /^client_/);
});
