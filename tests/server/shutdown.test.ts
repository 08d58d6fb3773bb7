/**
 * `deno task start` as a real process: SIGTERM and SIGINT close sockets with
 * 1012 (service restart), tell nobody anyone left, and exit 0; the
 * open-development-mode warning only without a secret.
 */
import assert from "node:assert/strict";
import { splitLines } from "../e2e/support/lines.ts";
import { TestClient } from "./support/test-client.ts";

const MAIN = new URL("../../server/main.ts", import.meta.url).pathname;

async function startProcess(env: Record<string, string> = {}) {
  // Its resume key kept where `deno task start` would, in a directory of its own.
  const stateDir = await Deno.makeTempDir({ prefix: "lw-state-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      `--allow-write=${stateDir}`,
      MAIN,
    ],
    env: {
      PORT: "0",
      HOSTNAME: "127.0.0.1",
      LOG_LEVEL: "info",
      STATE_DIR: stateDir,
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream())
    .pipeThrough(splitLines());
  const reader = lines.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("server exited before listening");
    const entry = JSON.parse(value);
    if (entry.event === "listening") {
      return { child, reader, port: entry.port as number };
    }
  }
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`${signal}: sockets close with 1012, nobody is told anyone left, the process exits 0`, async () => {
    const { child, reader, port } = await startProcess();
    const url = `ws://127.0.0.1:${port}/ws`;
    const broadcaster = await TestClient.connect(url);
    broadcaster.send({ type: "broadcaster-ready", streamId: "s" });
    await broadcaster.next("broadcaster-accepted");
    const viewer = await TestClient.connect(url);
    viewer.send({ type: "join-stream", streamId: "s" });
    await viewer.next("join-accepted");
    await broadcaster.next("viewer-joined");

    child.kill(signal);
    const [a, b, status] = await Promise.all([
      broadcaster.closed,
      viewer.closed,
      child.status,
    ]);
    assert.equal(a.code, 1012);
    assert.equal(b.code, 1012);
    // A deploy, not an ending: the viewer keeps its peer connection.
    assert.deepEqual(viewer.unread(), []);
    assert.deepEqual(broadcaster.unread(), []);
    assert.equal(status.code, 0);
    const rest: string[] = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest.push(JSON.parse(value).event);
    }
    assert.ok(rest.includes("stopped"), rest.join(","));
    await child.stderr.cancel();
  });
}

for (
  const [secret, warned] of [
    [undefined, true],
    ["a-production-secret-of-32-bytes-or-more", false],
  ] as const
) {
  Deno.test(`open-development-mode warning ${warned ? "printed" : "not printed"} ${secret ? "with" : "without"} SIGNAL_SECRET`, async () => {
    const { child, reader } = await startProcess(
      secret ? { SIGNAL_SECRET: secret } : {},
    );
    child.kill("SIGTERM");
    while (!(await reader.read()).done) {
      // Drain stdout so the process can exit.
    }
    const stderr = await new Response(child.stderr).text();
    assert.equal((await child.status).code, 0);
    const events = stderr.split("\n").filter(Boolean).map((line) =>
      JSON.parse(line).event
    );
    assert.equal(events.includes("open-development-mode"), warned, stderr);
  });
}
