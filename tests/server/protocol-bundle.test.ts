/** The protocol module bundles for the browser and works from the bundle. */
import assert from "node:assert/strict";
import * as esbuild from "esbuild";
import { build } from "../../scripts/build.ts";

Deno.test("the protocol bundles for platform=browser with no Deno API inside", async () => {
  const outdir = await Deno.makeTempDir();
  try {
    await build(outdir);
    const file = `${outdir}/protocol.js`;
    const code = await Deno.readTextFile(file);
    assert.doesNotMatch(code, /\bDeno\./);
    const bundled = await import(`file://${file}`);
    const parsed = bundled.parseClientMessage(
      '{"type":"join-stream","streamId":"order-1"}',
    );
    assert.deepEqual(parsed, {
      ok: true,
      message: { type: "join-stream", streamId: "order-1" },
      exact: true,
    });
    assert.ok(bundled.ERROR_CODES.includes("stream-full"));
  } finally {
    await esbuild.stop();
    await Deno.remove(outdir, { recursive: true });
  }
});
