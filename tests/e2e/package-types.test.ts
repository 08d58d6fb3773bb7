/**
 * The npm package as a consumer sees it: every `exports` target exists after
 * the build, and a TypeScript project that imports "live-widgets" gets typed
 * elements (HTMLElementTagNameMap) and typed events.
 */
import assert from "node:assert/strict";
import * as esbuild from "esbuild";
import { build } from "../../scripts/build.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

const CONSUMER = `
import "live-widgets";
import type { BroadcasterState, ViewerState } from "live-widgets";

const viewer = document.querySelector("live-viewer")!;
const state: ViewerState = viewer.state;
viewer.addEventListener("live-state-change", (event) => {
  const now: string = event.state;
  // @ts-expect-error events are typed, not any
  event.nope;
  console.log(now, state);
});
viewer.addEventListener("live-error", (event) => event.code.toUpperCase());
// @ts-expect-error state is read-only
viewer.state = "live";

const broadcaster = document.querySelector("live-broadcaster")!;
const phase: BroadcasterState = broadcaster.state;
broadcaster.addEventListener("viewer-joined", (event) => event.viewerId.length + event.viewerCount);
void broadcaster.start();
// @ts-expect-error upload-budget is a number
broadcaster.uploadBudget = "fast";
console.log(phase);

// The backend helper, from the same package.
import { mintToken } from "live-widgets/tokens";
const token: Promise<string> = mintToken("x".repeat(32), { sub: "u", stream: "order-1", role: "viewer" });
// @ts-expect-error roles are "broadcaster" or "viewer"
void mintToken("x".repeat(32), { sub: "u", stream: "order-1", role: "admin" });
void token;
`;

async function run(args: string[], cwd: string): Promise<void> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  assert.equal(code, 0, text.decode(stdout) + text.decode(stderr));
}

Deno.test("exports resolve and a TypeScript consumer gets typed elements and events", async () => {
  const consumer = await Deno.makeTempDir();
  const pkg = `${consumer}/node_modules/live-widgets`;
  try {
    await Deno.mkdir(pkg, { recursive: true });
    await build(`${pkg}/dist`);
    await esbuild.stop();
    await run([
      "run",
      "-A",
      "npm:typescript@5.9.3/tsc",
      "-p",
      "tsconfig.build.json",
      "--outDir",
      `${pkg}/dist/esm`,
    ], ROOT);
    for (const file of ["package.json", "custom-elements.json", "README.md"]) {
      await Deno.copyFile(`${ROOT}${file}`, `${pkg}/${file}`);
    }
    const manifest = JSON.parse(await Deno.readTextFile(`${pkg}/package.json`));
    for (
      const target of Object.values(
        manifest.exports,
      ) as (string | Record<string, string>)[]
    ) {
      for (
        const path of typeof target === "string"
          ? [target]
          : Object.values(target)
      ) {
        const info = await Deno.stat(`${pkg}/${path}`);
        assert.ok(info.isFile, path);
      }
    }
    assert.ok((await Deno.stat(`${pkg}/${manifest.customElements}`)).isFile);

    for (const dependency of ["lit", "jose"]) {
      await Deno.symlink(
        await Deno.realPath(`${ROOT}node_modules/${dependency}`),
        `${consumer}/node_modules/${dependency}`,
      );
    }
    await Deno.writeTextFile(`${consumer}/index.ts`, CONSUMER);
    await Deno.writeTextFile(
      `${consumer}/tsconfig.json`,
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "ES2022",
          moduleResolution: "bundler",
          lib: ["ES2022", "DOM", "DOM.Iterable"],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ["index.ts"],
      }),
    );
    await run(
      ["run", "-A", "npm:typescript@5.9.3/tsc", "-p", "tsconfig.json"],
      consumer,
    );
  } finally {
    await Deno.remove(consumer, { recursive: true });
  }
});
