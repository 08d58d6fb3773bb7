/**
 * Issue 20's attack run as a test: a seeded, bounded fuzz (20,000+ frames:
 * malformed, out of order, oversized, SDPs over every limit) and churn
 * (2,000+ connect/join/leave/drop cycles, broken upgrades among them)
 * against a real server process. Afterwards its gauges are back to 0 and
 * its open descriptors to their warm-up count, and every refusal it sent
 * is a code and a close code docs/protocol.md documents.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { startServerProcess } from "../../bench/server-process.ts";
import { ERROR_CODES } from "../../protocol/error-codes.ts";
import type { ServerMessage } from "../../protocol/messages.ts";
import { attackFrame, BINARY, OVERSIZE } from "./support/fuzz-frames.ts";
import {
  openDescriptors,
  rawRequest,
  upgradeHead,
} from "./support/raw-http.ts";
import { RawClient } from "./support/raw-client.ts";

const SEED = 20_2026;
const FRAMES = 20_000;
const FUZZ_CLIENTS = 40;
const CYCLES = 2_000;
const CHURN_WORKERS = 10;
/** The default: the SDPs over the limits fit under it, to reach bad-sdp. */
const MAX_MESSAGE_BYTES = 64 * 1024;

/** What the run saw: error codes and close codes, with counts. */
class Seen {
  errors = new Map<string, number>();
  closes = new Map<number, number>();
  frames = 0;

  message(message: ServerMessage): void {
    if (message.type !== "error") return;
    this.errors.set(message.code, (this.errors.get(message.code) ?? 0) + 1);
  }

  close(code: number): void {
    this.closes.set(code, (this.closes.get(code) ?? 0) + 1);
  }
}

/** A WebSocket that records what it hears; `settled` after it closes. */
function open(url: string, seen: Seen) {
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  const welcome = Promise.withResolvers<string>();
  const closed = Promise.withResolvers<number>();
  const pongs = new Map<string, () => void>();
  /** Resolvers waiting for the next `rate-limited`. */
  const limited: (() => void)[] = [];
  let ours = false;
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data as string) as ServerMessage;
    seen.message(message);
    if (message.type === "welcome") welcome.resolve(message.clientId);
    if (message.type === "error" && message.code === "rate-limited") {
      for (const resolve of limited.splice(0)) resolve();
    }
    if (message.type === "pong" && typeof message.nonce === "string") {
      pongs.get(message.nonce)?.();
    }
  };
  socket.onerror = () => {};
  socket.onclose = (event) => {
    // Only the server's closes are refusals.
    if (!ours) seen.close(event.code);
    welcome.reject(new Error(`closed (${event.code}) before welcome`));
    closed.resolve(event.code);
  };
  welcome.promise.catch(() => {});
  let nonce = 0;
  return {
    socket,
    welcome: welcome.promise,
    closed: closed.promise,
    /** Closes from this side (not counted as a refusal). */
    close(code?: number): Promise<number> {
      ours = true;
      socket.close(code);
      return closed.promise;
    },
    /**
     * Resolves once everything sent before was answered, or the socket
     * closed. A ping the rate limit dropped is sent again once the budget
     * has refilled (the server closes a client refused too often).
     */
    async sync(): Promise<void> {
      const done = Promise.withResolvers<"done">();
      const gone = closed.promise.then(() => "done" as const);
      for (;;) {
        if (socket.readyState !== WebSocket.OPEN) return;
        const id = `sync-${++nonce}`;
        pongs.set(id, () => done.resolve("done"));
        const refused = new Promise<"refused">((resolve) =>
          limited.push(() => resolve("refused"))
        );
        socket.send(JSON.stringify({ type: "ping", nonce: id }));
        if (await Promise.race([done.promise, gone, refused]) === "done") {
          return;
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        const refilled = new Promise<"refilled">((resolve) => {
          timer = setTimeout(() => resolve("refilled"), 1_000);
        });
        const after = await Promise.race([done.promise, gone, refilled]);
        clearTimeout(timer);
        if (after === "done") return;
      }
    },
  };
}

/** The fuzz: each client sends its share of frames, reconnecting when closed. */
async function fuzz(url: string, seen: Seen): Promise<void> {
  const frames = fc.sample(attackFrame(), { seed: SEED, numRuns: FRAMES });
  const ids: string[] = [];
  const share = Math.ceil(frames.length / FUZZ_CLIENTS);
  await Promise.all(
    Array.from({ length: FUZZ_CLIENTS }, async (_, n) => {
      let client = open(url, seen);
      ids[n] = await client.welcome;
      const mine = frames.slice(n * share, (n + 1) * share);
      for (let i = 0; i < mine.length; i += 50) {
        for (const text of mine.slice(i, i + 50)) {
          if (client.socket.readyState !== WebSocket.OPEN) {
            client = open(url, seen);
            ids[n] = await client.welcome;
          }
          seen.frames++;
          if (text === BINARY) client.socket.send(new Uint8Array([1, 2, 3]));
          else if (text === OVERSIZE) {
            client.socket.send("x".repeat(MAX_MESSAGE_BYTES + 1));
          } else {
            client.socket.send(
              text.replace(/"\$(\d)"/g, (_, k) => `"${ids[k] ?? "gone"}"`),
            );
          }
        }
        await client.sync();
      }
      await client.close();
    }),
  );
}

/** One connect/join/leave/drop cycle, chosen by `n`. */
async function cycle(url: string, port: number, n: number, seen: Seen) {
  const streamId = `c${n % 7}`;
  switch (n % 6) {
    case 0:
    case 1: {
      // Join or announce, leave, goodbye.
      const client = open(url, seen);
      await client.welcome;
      const type = n % 2 ? "join-stream" : "broadcaster-ready";
      client.socket.send(JSON.stringify({ type, streamId }));
      client.socket.send(JSON.stringify({ type: "leave-stream", streamId }));
      await client.sync();
      await client.close();
      return;
    }
    case 2: {
      // Join, then drop without a goodbye (RECONNECT_GRACE_MS keeps it).
      const client = open(url, seen);
      await client.welcome;
      client.socket.send(JSON.stringify({ type: "join-stream", streamId }));
      await client.sync();
      await client.close(4000);
      return;
    }
    case 3: {
      // The TCP connection goes away with no close frame at all.
      const raw = await RawClient.connect(port);
      await raw.sendText(JSON.stringify({ type: "join-stream", streamId }));
      raw.close();
      return;
    }
    case 4: {
      // An upgrade whose client hangs up before reading the 101.
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(
        new TextEncoder().encode(`${upgradeHead().join("\r\n")}\r\n\r\n`),
      );
      conn.close();
      return;
    }
    case 5: {
      // A malformed upgrade: 400, nothing counted.
      const response = await rawRequest(
        port,
        upgradeHead().filter((line) => !line.startsWith("Sec-WebSocket-Key")),
      );
      assert.equal(response.status, 400);
      return;
    }
  }
}

async function churn(url: string, port: number, seen: Seen): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CHURN_WORKERS }, async () => {
      while (next < CYCLES) await cycle(url, port, next++, seen);
    }),
  );
}

Deno.test({
  name:
    "fuzz and churn (seeded): 20,000 frames and 2,000 cycles leave 0 connections, streams and viewers, descriptors at their warm-up count, and only documented refusals",
  async fn() {
    await using server = await startServerProcess({
      MAX_VIEWERS_PER_STREAM: "3",
      RECONNECT_GRACE_MS: "300",
      HANDSHAKE_TIMEOUT_MS: "1000",
      // Every client is 127.0.0.1: its per-address budgets are the run's.
      MAX_CONNECTIONS_PER_IP: "100000",
      CONNECT_RATE_PER_IP_PER_MINUTE: "1000000",
      CONNECT_BURST_PER_IP: "100000",
      JOIN_RATE_PER_IP_PER_MINUTE: "10000000",
      JOIN_BURST_PER_IP: "100000",
    });
    const url = `ws://127.0.0.1:${server.port}/ws`;
    const gauges = ["live_connections", "live_streams", "live_viewers"];
    const idle = async () => {
      for (let waited = 0; waited < 15_000; waited += 50) {
        const values = await Promise.all(gauges.map((g) => server.metric(g)));
        if (values.every((value) => value === 0)) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const values = await Promise.all(gauges.map((g) => server.metric(g)));
      assert.fail(`Still held 15 s after the run: ${gauges} = ${values}`);
    };
    // Sockets no gauge counts (plain HTTP, an upgrade hung up before its
    // 101) close a moment after their client: read until the count holds.
    const descriptors = async () => {
      let last = -1;
      for (let same = 0, reads = 0; same < 4 && reads < 100; reads++) {
        const now = openDescriptors(server.pid);
        same = now === last ? same + 1 : 0;
        last = now;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return last;
    };
    // Warm-up: one cycle of each kind, then the count to come back to.
    const seen = new Seen();
    for (let n = 0; n < 6; n++) {
      await cycle(url, server.port, n, seen);
    }
    await idle();
    const warm = await descriptors();

    await fuzz(url, seen);
    await churn(url, server.port, seen);
    await idle();

    assert.ok(seen.frames >= FRAMES, `${seen.frames} frames`);
    const health =
      await (await fetch(`http://127.0.0.1:${server.port}/healthz`))
        .json();
    assert.deepEqual(
      [health.connections, health.streams, health.liveStreams, health.viewers],
      [0, 0, 0, 0],
    );
    assert.equal(await descriptors(), warm);
    // Every refusal is one the protocol documents.
    const docs = await Deno.readTextFile(
      new URL("../../docs/protocol.md", import.meta.url),
    );
    for (const code of seen.errors.keys()) {
      assert.ok((ERROR_CODES as readonly string[]).includes(code), code);
      assert.ok(docs.includes(`| \`${code}\``), `${code} is not documented`);
    }
    for (const code of seen.closes.keys()) {
      assert.ok(
        // No close frame reached the client (0 in Deno, 1006 in browsers):
        // closed while it was still sending.
        [0, 1000, 1005, 1006].includes(code) || docs.includes(`| ${code} `),
        `close code ${code} is not documented`,
      );
    }
    // The run reached what it is for.
    for (const code of ["bad-json", "bad-sdp", "message-too-large"]) {
      assert.ok(seen.errors.has(code), `no ${code} in the run`);
    }
    assert.ok(seen.closes.has(1009));
  },
});
