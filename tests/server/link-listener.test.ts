/**
 * Where other nodes' links arrive (server/cluster/link-listener.ts), with
 * raw TCP clients: connections that never prove themselves hold a socket
 * each until NODE_LINK_CONNECT_TIMEOUT_MS, so at most NODE_LINK_MAX_PENDING
 * of them are kept at once.
 */
import assert from "node:assert/strict";
import { LinkListener } from "../../server/cluster/link-listener.ts";
import { createLogger } from "../../server/observe/logger.ts";

Deno.test("link listener: past NODE_LINK_MAX_PENDING connections still proving themselves, the next is closed unread", async () => {
  const listener = new LinkListener({
    hostname: "127.0.0.1",
    port: 0,
    self: () => "node_a",
    key: () => undefined,
    limits: {
      queueBytes: 64 * 1024,
      maxFrameBytes: 64 * 1024,
      connectTimeoutMs: 60_000,
      maxPending: 2,
    },
    logger: createLogger("silent"),
    frame: () => {},
    accepted: () => {},
  });
  const conns: Deno.TcpConn[] = [];
  const connect = async () => {
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: listener.port,
    });
    conns.push(conn);
    return conn;
  };
  /** The first bytes the listener sends, or null: it closed the connection. */
  const first = async (conn: Deno.TcpConn) => {
    const buffer = new Uint8Array(64);
    const count = await conn.read(buffer);
    return count === null
      ? null
      : new TextDecoder().decode(buffer.subarray(0, count));
  };
  try {
    const [one, two] = [await connect(), await connect()];
    assert.match((await first(one))!, /C [0-9a-f]+/);
    assert.match((await first(two))!, /C [0-9a-f]+/);
    const third = await connect();
    assert.equal(await first(third), null);
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch {
        // Closed by the listener.
      }
    }
    listener.close();
  }
});
