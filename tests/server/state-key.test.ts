/**
 * Zero-config durability (issue 24), with `deno task start`'s permissions
 * as real processes: one node without a secret keeps its resume key in
 * STATE_DIR (0700 directory, 0600 file), so a claim from before a SIGTERM
 * or SIGKILL restart is honoured; a rotated key (the file deleted, or
 * RESUME_SECRET changed) refuses it; a STATE_DIR that cannot be used stops
 * the start with a sentence naming it and exit code 2, not a stack trace.
 */
import assert from "node:assert/strict";
import { splitLines } from "../e2e/support/lines.ts";
import { TestClient } from "./support/test-client.ts";
import type { ServerMessage } from "../../protocol/messages.ts";

const MAIN = new URL("../../server/main.ts", import.meta.url).pathname;
const KEY_FILE = "resume-key";

interface Started {
  child: Deno.ChildProcess;
  url: string;
  /** Its log's events so far (stdout, JSON lines). */
  events: Record<string, unknown>[];
}

/** `deno task start`'s permissions, the write one for `writable`. */
function command(
  env: Record<string, string>,
  writable: string,
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      `--allow-write=${writable}`,
      MAIN,
    ],
    env: { PORT: "0", HOSTNAME: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdout: "piped",
    stderr: "piped",
  });
}

/** Starts the server on `stateDir`; resolves once it listens. */
async function start(
  stateDir: string,
  env: Record<string, string> = {},
): Promise<Started> {
  const child = command({ STATE_DIR: stateDir, ...env }, stateDir).spawn();
  const events: Record<string, unknown>[] = [];
  // Warnings and errors come on stderr.
  (async () => {
    for await (
      const line of child.stderr.pipeThrough(new TextDecoderStream())
        .pipeThrough(splitLines())
    ) events.push(JSON.parse(line));
  })();
  const reader = child.stdout.pipeThrough(new TextDecoderStream())
    .pipeThrough(splitLines()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`exited before listening: ${events}`);
    const entry = JSON.parse(value);
    events.push(entry);
    if (entry.event === "listening") {
      // Drained from here on, so the process never blocks on its log.
      (async () => {
        for (;;) {
          const next = await reader.read();
          if (next.done) return;
          events.push(JSON.parse(next.value));
        }
      })();
      return { child, url: `ws://127.0.0.1:${entry.port}/ws`, events };
    }
  }
}

async function stop(server: Started, signal: Deno.Signal = "SIGTERM") {
  server.child.kill(signal);
  await server.child.status;
}

/** A viewer of "s" (the stream need not be live), and its claim. */
async function viewerClaim(
  server: Started,
): Promise<{ id: string; claim: string }> {
  const viewer = await TestClient.connect(server.url);
  viewer.send({ type: "join-stream", streamId: "s" });
  const accepted = await viewer.next("join-accepted");
  const claim = (accepted as { resume?: string }).resume;
  assert.ok(claim);
  await viewer.close();
  return { id: viewer.id, claim };
}

/** Connects with `claim`: whether it was honoured, and the refusal if not. */
async function present(
  server: Started,
  claim: string,
): Promise<{ id: string; resumed: boolean; refusal?: ServerMessage }> {
  const client = await TestClient.connect(
    `${server.url}?resume=${encodeURIComponent(claim)}`,
  );
  const resumed = client.welcome!.resumed === true;
  const refusal = resumed ? undefined : await client.next("error");
  await client.close();
  return { id: client.id, resumed, refusal };
}

const mode = (path: string) => Deno.statSync(path).mode! & 0o777;

Deno.test("without a secret, one node keeps its resume key in STATE_DIR (0700, 0600): claims survive SIGTERM and SIGKILL restarts", async () => {
  const root = await Deno.makeTempDir();
  // Not there yet: made, with its parents, by the first start.
  const dir = `${root}/nested/state`;
  let server = await start(dir);
  const { id, claim } = await viewerClaim(server);
  const key = Deno.readTextFileSync(`${dir}/${KEY_FILE}`);
  assert.match(key, /^[0-9a-f]{64}\n$/);
  assert.equal(mode(dir), 0o700);
  assert.equal(mode(`${dir}/${KEY_FILE}`), 0o600);
  const logged = server.events.find((e) => e.event === "resume-key");
  assert.deepEqual([logged?.path, logged?.created], [
    `${dir}/${KEY_FILE}`,
    true,
  ]);
  // No temporary file left beside it.
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [KEY_FILE]);
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    await stop(server, signal);
    server = await start(dir);
    const back = await present(server, claim);
    assert.deepEqual([back.resumed, back.id], [true, id], signal);
    assert.equal(
      server.events.find((e) => e.event === "resume-key")?.created,
      false,
    );
  }
  assert.equal(Deno.readTextFileSync(`${dir}/${KEY_FILE}`), key);
  await stop(server);
  await Deno.remove(root, { recursive: true });
});

Deno.test("a rotated key refuses old claims: the state file deleted, or RESUME_SECRET changed", async (t) => {
  await t.step(
    "the state file deleted: a new key, the old claim refused",
    async () => {
      const dir = await Deno.makeTempDir();
      let server = await start(dir);
      const { id, claim } = await viewerClaim(server);
      const before = Deno.readTextFileSync(`${dir}/${KEY_FILE}`);
      await stop(server);
      Deno.removeSync(`${dir}/${KEY_FILE}`);
      server = await start(dir);
      const back = await present(server, claim);
      assert.equal(back.resumed, false);
      assert.notEqual(back.id, id);
      assert.equal((back.refusal as { code: string }).code, "resume-refused");
      assert.notEqual(Deno.readTextFileSync(`${dir}/${KEY_FILE}`), before);
      await stop(server);
      await Deno.remove(dir, { recursive: true });
    },
  );
  await t.step(
    "RESUME_SECRET changed: refused; STATE_DIR never written",
    async () => {
      const dir = await Deno.makeTempDir();
      const secret = (c: string) => ({ RESUME_SECRET: c.repeat(32) });
      let server = await start(dir, secret("a"));
      const { claim } = await viewerClaim(server);
      await stop(server);
      // The same secret again honours it...
      server = await start(dir, secret("a"));
      assert.equal((await present(server, claim)).resumed, true);
      await stop(server);
      // ...another refuses it.
      server = await start(dir, secret("b"));
      const back = await present(server, claim);
      assert.equal(back.resumed, false);
      assert.equal((back.refusal as { code: string }).code, "resume-refused");
      await stop(server);
      assert.deepEqual([...Deno.readDirSync(dir)], []);
      await Deno.remove(dir, { recursive: true });
    },
  );
});

Deno.test("two processes starting together on one STATE_DIR agree on the key", async () => {
  const dir = `${await Deno.makeTempDir()}/state`;
  const [a, b] = await Promise.all([start(dir), start(dir)]);
  const { id, claim } = await viewerClaim(a);
  const back = await present(b, claim);
  assert.deepEqual([back.resumed, back.id], [true, id]);
  const created = [a, b].map((s) =>
    s.events.find((e) => e.event === "resume-key")?.created
  );
  // At most one made it (both, only if one started after the other).
  assert.ok(created.filter(Boolean).length <= 1, String(created));
  await Promise.all([stop(a), stop(b)]);
  await Deno.remove(`${dir}/..`, { recursive: true });
});

Deno.test("a key file others could read is made 0600 (and said so)", async () => {
  const dir = await Deno.makeTempDir();
  const key = "ab".repeat(32);
  Deno.writeTextFileSync(`${dir}/${KEY_FILE}`, `${key}\n`, { mode: 0o644 });
  Deno.chmodSync(`${dir}/${KEY_FILE}`, 0o644);
  const server = await start(dir);
  assert.equal(mode(`${dir}/${KEY_FILE}`), 0o600);
  await stop(server);
  assert.ok(
    server.events.some((e) => e.event === "resume-key-mode-tightened"),
    JSON.stringify(server.events),
  );
  // Its key kept, not replaced.
  assert.equal(Deno.readTextFileSync(`${dir}/${KEY_FILE}`), `${key}\n`);
  await Deno.remove(dir, { recursive: true });
});

/** Runs the server to its exit: code, stderr, and whether it listened. */
async function startFails(
  env: Record<string, string>,
  writable: string,
): Promise<{ code: number; stderr: string; listened: boolean }> {
  const child = command(env, writable).spawn();
  // A server that did start is stopped, so the test fails instead of hanging.
  const [stdout, stderr] = await Promise.all([
    (async () => {
      let text = "";
      for await (
        const line of child.stdout.pipeThrough(new TextDecoderStream())
          .pipeThrough(splitLines())
      ) {
        text += line;
        if (line.includes('"listening"')) child.kill("SIGTERM");
      }
      return text;
    })(),
    new Response(child.stderr).text(),
  ]);
  const { code } = await child.status;
  return { code, stderr, listened: stdout.includes('"listening"') };
}

Deno.test("an unusable STATE_DIR stops the start: a sentence naming it, exit code 2, no stack trace", async (t) => {
  const root = await Deno.makeTempDir();
  const cases: [string, string, string, RegExp][] = [];
  // A file where the directory should be (fails as root too).
  Deno.writeTextFileSync(`${root}/file`, "");
  cases.push([
    "a file in the way",
    `${root}/file/state`,
    root,
    /Not a directory|not a directory/,
  ]);
  // Deno not allowed to write there (STATE_DIR moved, the task's
  // --allow-write not).
  cases.push([
    "not allowed by Deno",
    `${root}/elsewhere`,
    `${root}/somewhere-else`,
    /--allow-write=.*elsewhere/,
  ]);
  // Not a key: never silently replaced (that would refuse every claim).
  Deno.mkdirSync(`${root}/garbled`);
  Deno.writeTextFileSync(`${root}/garbled/${KEY_FILE}`, "not a key\n");
  cases.push([
    "a file that is not a key",
    `${root}/garbled`,
    `${root}/garbled`,
    /does not hold a resume key.*Delete it/,
  ]);
  for (const [name, dir, writable, why] of cases) {
    await t.step(name, async () => {
      const result = await startFails({ STATE_DIR: dir }, writable);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.listened, false);
      assert.match(result.stderr, /^STATE_DIR: /m);
      assert.ok(result.stderr.includes(dir), result.stderr);
      assert.match(result.stderr, why);
      assert.match(result.stderr, /RESUME_SECRET/);
      assert.doesNotMatch(result.stderr, /^\s+at /m, "no stack trace");
    });
  }
  assert.equal(
    Deno.readTextFileSync(`${root}/garbled/${KEY_FILE}`),
    "not a key\n",
  );
  await Deno.remove(root, { recursive: true });
});
