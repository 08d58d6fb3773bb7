/** The wire format in one place (protocol/encode-server-message.ts). */
import assert from "node:assert/strict";
import {
  completeViewerJoined,
  encodeServerMessage,
  viewerJoinedPrefix,
} from "../../protocol/encode-server-message.ts";

Deno.test("a viewer-joined prefix completed with its count is the message's frame", () => {
  for (
    const extra of [{}, { session: "123" }, { session: "1", restart: true }]
  ) {
    const head = {
      type: "viewer-joined" as const,
      streamId: "s",
      viewerId: "client_a",
      ...extra,
    };
    const frame = completeViewerJoined(viewerJoinedPrefix(head), 7);
    assert.equal(frame, encodeServerMessage({ ...head, viewerCount: 7 }));
    assert.deepEqual(JSON.parse(frame), { ...head, viewerCount: 7 });
  }
});

Deno.test("no server → client message is built by hand in server/", async () => {
  // JSON the server writes that is not a protocol message: log lines,
  // Janus's own API.
  const allowed = new Set(["observe/logger.ts", "sfu/janus-client.ts"]);
  const root = new URL("../../server/", import.meta.url);
  const found: string[] = [];
  const walk = async (dir: URL, prefix: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const name = `${prefix}${entry.name}`;
      if (entry.isDirectory) {
        await walk(new URL(`${entry.name}/`, dir), `${name}/`);
      } else if (name.endsWith(".ts") && !allowed.has(name)) {
        const text = await Deno.readTextFile(new URL(entry.name, dir));
        if (/JSON\.stringify\(\{|\.slice\(0, -1\)/.test(text)) found.push(name);
      }
    }
  };
  await walk(root, "");
  assert.deepEqual(found, []);
});
