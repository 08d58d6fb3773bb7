/**
 * `deno task stack` (scripts/stack.ts): the whole topology (Redis, two
 * Janus, two nodes, nginx) started, checked and stopped by `--check`; a
 * running stack stopped by SIGTERM, and by a node that dies; a part that
 * fails to start named, with what was started stopped. Each run happens inside a network namespace
 * made here (only its loopback, and a veth pair on 127.0.0.2 for Janus's
 * ICE as a laptop's interface), so nothing listens or sends in the root
 * namespace; afterwards nothing may still run in it, and the stack's temp
 * folder must be gone.
 */
import assert from "node:assert/strict";
import { TestNetwork } from "./support/test-network.ts";
import { installed, missing } from "./support/requirements.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

const ignore = missing({
  "root (ip netns)": await TestNetwork.available(),
  "redis-server": installed("redis-server"),
  janus: installed("janus"),
  nginx: installed("nginx") || installed("/usr/sbin/nginx"),
}).length > 0;

async function ip(...args: string[]): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command("ip", {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  if (!success) {
    throw new Error(`ip ${args.join(" ")}: ${text.decode(stderr).trim()}`);
  }
  return text.decode(stdout);
}

/** A namespace of its own for `body`: loopback up, a veth for Janus. */
async function inNamespace(body: (ns: string) => Promise<void>) {
  const ns = `lwstack${Deno.pid % 10000}${Math.floor(Math.random() * 100)}`;
  try {
    await ip("netns", "add", ns);
    await ip("-n", ns, "link", "set", "lo", "up");
    await ip(
      "-n",
      ns,
      "link",
      "add",
      "ice0",
      "type",
      "veth",
      "peer",
      "name",
      "ice1",
    );
    await ip("-n", ns, "link", "set", "ice0", "up");
    await ip("-n", ns, "link", "set", "ice1", "up");
    await ip("-n", ns, "addr", "add", "127.0.0.2/32", "dev", "ice0");
    await body(ns);
    assert.equal(
      (await ip("netns", "pids", ns)).trim(),
      "",
      "the stack left processes running",
    );
  } finally {
    for (
      const pid of (await ip("netns", "pids", ns).catch(() => "")).split(/\s+/)
    ) {
      if (!pid) continue;
      try {
        Deno.kill(Number(pid), "SIGKILL");
      } catch {
        // Gone already.
      }
    }
    await ip("netns", "del", ns).catch(() => {});
  }
}

/** `deno task stack ARGS` inside `ns`. */
function stack(ns: string, args: string[], env: Record<string, string> = {}) {
  return new Deno.Command("ip", {
    args: ["netns", "exec", ns, Deno.execPath(), "task", "stack", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  });
}

/** The temp folder the stack said it made (it prints it first). */
function tempFolder(output: string): string {
  const dir = /temp folder (\S+)/.exec(output)?.[1];
  assert.ok(dir, `no temp folder in:\n${output}`);
  return dir;
}

async function gone(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return false;
  } catch (error) {
    return error instanceof Deno.errors.NotFound;
  }
}

Deno.test({
  name: "stack --check: both nodes behind nginx, over Redis, with both Janus",
  ignore,
  async fn() {
    await inNamespace(async (ns) => {
      const { code, stdout, stderr } = await stack(ns, [
        "--check",
        "--port",
        "8080",
        "--ice-interface",
        "ice0",
      ]).output();
      const out = new TextDecoder().decode(stdout);
      const err = new TextDecoder().decode(stderr);
      assert.equal(code, 0, `stack --check failed:\n${out}\n${err}`);
      for (
        const passed of [
          "answered 200 from both nodes",
          "met through nginx",
          "sfu-up for both Janus instances",
          "a session of every node",
          "stack check: passed",
        ]
      ) {
        assert.ok(out.includes(passed), `no "${passed}" in:\n${out}`);
      }
      assert.ok(await gone(tempFolder(err)), "the temp folder is left");
    });
  },
});

/** `deno task stack ARGS` in `ns`, once it has printed what runs where. */
async function running(ns: string, args: string[]) {
  const child = stack(ns, args).spawn();
  const err = new Response(child.stderr).text();
  let out = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  while (!out.includes("Ctrl-C stops everything")) {
    const { value, done } = await reader.read();
    if (done) assert.fail(`the stack ended at start:\n${out}\n${await err}`);
    out += value;
  }
  // Keep draining: the nodes' lines are echoed on stdout.
  (async () => {
    while (!(await reader.read()).done);
  })().catch(() => {});
  return { child, out, err };
}

Deno.test({
  name: "stack: SIGTERM stops every part and removes the temp folder",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await inNamespace(async (ns) => {
      const { child, out, err } = await running(ns, ["--port", "8081"]);
      assert.match(out, /nginx: +0\.0\.0\.0:8081/);
      assert.match(
        out,
        /janus-2: +ws:\/\/127\.0\.0\.1:\d+\/ .* RTP 21000-21999/,
      );
      child.kill("SIGTERM");
      const status = await child.status;
      assert.equal(status.code, 0, await err);
      assert.ok(await gone(tempFolder(await err)), "the temp folder is left");
    });
  },
});

Deno.test({
  name: "stack: a node that dies stops the stack, named",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await inNamespace(async (ns) => {
      const { child, err } = await running(ns, []);
      // A node of this namespace's stack: nothing else runs in it.
      let node: number | undefined;
      for (const pid of (await ip("netns", "pids", ns)).split(/\s+/)) {
        const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`)
          .catch(() => "");
        if (cmdline.includes("server/main.ts")) node = Number(pid);
      }
      assert.ok(node, "no node process in the namespace");
      Deno.kill(node, "SIGKILL");
      const status = await child.status;
      const said = await err;
      assert.equal(status.code, 1, said);
      assert.match(said, /node-[12] exited on its own \(signal SIGKILL\)/);
      assert.ok(await gone(tempFolder(said)), "the temp folder is left");
    });
  },
});

Deno.test({
  name: "stack: a part that fails to start is named, the others stopped",
  ignore,
  async fn() {
    const bin = await Deno.makeTempDir({ prefix: "fake-janus-" });
    try {
      await Deno.writeTextFile(
        `${bin}/janus`,
        "#!/bin/sh\necho 'janus: cannot start (a test)'\nexit 3\n",
      );
      await Deno.chmod(`${bin}/janus`, 0o755);
      await inNamespace(async (ns) => {
        const { code, stderr } = await stack(ns, ["--check"], {
          PATH: `${bin}:${Deno.env.get("PATH")}`,
        }).output();
        const err = new TextDecoder().decode(stderr);
        assert.equal(code, 1, err);
        assert.match(err, /janus-[12] exited \(code 3\) before it was ready/);
        assert.match(err, /janus: cannot start \(a test\)/);
        assert.ok(await gone(tempFolder(err)), "the temp folder is left");
      });
    } finally {
      await Deno.remove(bin, { recursive: true });
    }
  },
});
