/** Logs are JSON lines, one per event, and never carry SDP or candidates. */
import assert from "node:assert/strict";
import { candidate } from "./support/fixtures.ts";
import { startTestServer } from "./support/test-server.ts";
import {
  createLogger,
  WRITE_MAX,
  writeLines,
} from "../../server/observe/logger.ts";

const MARKER = "SECRET-SDP-BODY-7f3a";

for (const level of ["info", "debug"] as const) {
  Deno.test(`at ${level} level no SDP or candidate reaches the log`, async () => {
    await using t = await startTestServer({}, level);
    const { broadcaster, viewers: [viewer] } = await t.liveStream("s", 1);
    const sdp = `v=0\r\na=${MARKER}\r\n`;
    broadcaster.send({
      type: "webrtc-offer",
      streamId: "s",
      viewerId: viewer.id,
      offer: { type: "offer", sdp },
    });
    viewer.send({
      type: "webrtc-answer",
      streamId: "s",
      answer: { type: "answer", sdp },
    });
    viewer.send({
      type: "webrtc-ice-candidate",
      streamId: "s",
      candidate: { ...candidate(1), candidate: MARKER },
    });
    // A malformed offer too: error paths must not echo the body either.
    broadcaster.send({
      type: "webrtc-offer",
      streamId: "s",
      viewerId: viewer.id,
      offer: { type: MARKER, sdp },
    });
    await viewer.next("webrtc-offer");
    await broadcaster.sync();
    await viewer.close();
    await t.closedOnServer(viewer.id);

    assert.ok(t.logs.length > 0);
    for (const line of t.logs) {
      const entry = JSON.parse(line);
      assert.equal(typeof entry.time, "string");
      assert.equal(typeof entry.event, "string");
      assert.ok(!line.includes(MARKER), `leaked: ${line}`);
    }
    const events = t.logs.map((line) => JSON.parse(line));
    assert.ok(events.some((e) => e.event === "listening"), "no listening line");
    const audit = events.filter((e) => e.event === "audit");
    assert.deepEqual(
      audit.map((e) => [e.kind, e.role, e.streamId]),
      [
        ["joined", "broadcaster", "s"],
        ["joined", "viewer", "s"],
        ["left", "viewer", "s"],
      ],
    );
    assert.equal(audit.at(-1).clientId, viewer.id);
  });
}

Deno.test("a line is time, level and event, then the fields (undefined ones left out)", () => {
  const lines: string[] = [];
  const logger = createLogger("info", (line) => lines.push(line));
  logger.debug("below-the-level");
  logger.info("plain");
  logger.info("empty", {});
  logger.warn("fields", { a: 1, b: undefined, c: 'x"y', nested: { d: [1] } });
  assert.equal(lines.length, 3);
  const [plain, empty, fields] = lines.map((line) => JSON.parse(line));
  assert.deepEqual(Object.keys(plain), ["time", "level", "event"]);
  assert.equal(plain.level, "info");
  assert.equal(plain.event, "plain");
  assert.ok(!Number.isNaN(Date.parse(plain.time)));
  assert.deepEqual(Object.keys(empty), ["time", "level", "event"]);
  assert.deepEqual(
    { ...fields, time: undefined },
    {
      time: undefined,
      level: "warn",
      event: "fields",
      a: 1,
      c: 'x"y',
      nested: { d: [1] },
    },
  );
});

/**
 * The console sink holds lines until the end of the turn: a process that
 * logs and then ends (by itself, by Deno.exit, by an uncaught error) has
 * still written every line, in order, info to stdout and warnings to stderr.
 */
for (const end of ["returns", "exits", "throws"] as const) {
  Deno.test(`the console sink writes every line when the process ${end}`, async () => {
    const logger = new URL("../../server/observe/logger.ts", import.meta.url);
    const script = `
      import { createLogger } from ${JSON.stringify(logger.href)};
      const log = createLogger("info");
      for (let i = 0; i < 500; i++) log.info("n", { i });
      log.warn("w", { i: 0 });
      await new Promise((resolve) => setTimeout(resolve, 0));
      for (let i = 500; i < 1000; i++) log.info("n", { i });
      log.warn("w", { i: 1 });
      ${
      end === "exits"
        ? "Deno.exit(3);"
        : end === "throws"
        ? 'throw new Error("boom");'
        : ""
    }`;
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, end === "returns" ? 0 : end === "exits" ? 3 : 1);
    const read = (bytes: Uint8Array, event: string) =>
      new TextDecoder().decode(bytes).split("\n").filter((line) =>
        line.includes(`"event":"${event}"`)
      ).map((line) => JSON.parse(line).i);
    assert.deepEqual(
      read(stdout, "n"),
      Array.from({ length: 1000 }, (_, i) => i),
    );
    assert.deepEqual(read(stderr, "w"), [0, 1]);
  });
}

Deno.test("lines go out in writes of at most WRITE_MAX bytes cut at line ends (a longer line alone), partial writes continued", () => {
  const lines = [
    ...Array.from({ length: 300 }, (_, i) => `line ${i} ${"é".repeat(i % 40)}`),
    "x".repeat(WRITE_MAX * 2 + 5),
    "after",
  ];
  const expected = `${lines.join("\n")}\n`;
  const writes: Uint8Array[] = [];
  let calls = 0;
  writeLines({
    // Every third call takes only part of what it is given.
    writeSync(bytes) {
      const taken = ++calls % 3 === 0
        ? bytes.subarray(0, Math.ceil(bytes.length / 2))
        : bytes;
      writes.push(taken.slice());
      return taken.length;
    },
  }, lines);
  assert.deepEqual(lines, []);
  const decoder = new TextDecoder();
  assert.equal(decoder.decode(concat(writes)), expected);
  // Whole writes (a partial one and its rest together): lines end them.
  let chunk: Uint8Array[] = [];
  const whole: string[] = [];
  for (const bytes of writes) {
    chunk.push(bytes);
    if (bytes.at(-1) === 10) {
      whole.push(decoder.decode(concat(chunk)));
      chunk = [];
    }
  }
  assert.equal(whole.join(""), expected);
  for (const text of whole) {
    const size = new TextEncoder().encode(text).length;
    assert.ok(size <= WRITE_MAX || !text.slice(0, -1).includes("\n"), text);
  }
  assert.ok(whole.length > 3);
});

function concat(parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return all;
}
