/**
 * custom-elements.json is what the analyzer makes of the elements' JSDoc
 * today, and the API tables in docs/elements.md are what that manifest says.
 */
import assert from "node:assert/strict";
import {
  ELEMENTS_PAGE,
  formatMarkdown,
  withApiTables,
} from "../../scripts/elements-api.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("the committed custom-elements.json is current (run `deno task manifest`)", async () => {
  const outdir = "test-results/manifest-check";
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "npm:@custom-elements-manifest/analyzer@0.11.0",
      "analyze",
      "--config",
      "custom-elements-manifest.config.mjs",
      "--outdir",
      outdir,
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const fresh = JSON.parse(
    await Deno.readTextFile(`${ROOT}${outdir}/custom-elements.json`),
  );
  const committed = JSON.parse(
    await Deno.readTextFile(`${ROOT}custom-elements.json`),
  );
  assert.deepEqual(committed, fresh);
});

Deno.test("the API tables in docs/elements.md match custom-elements.json (run `deno task manifest`)", async () => {
  const manifest = JSON.parse(
    await Deno.readTextFile(`${ROOT}custom-elements.json`),
  );
  const page = await Deno.readTextFile(`${ROOT}${ELEMENTS_PAGE}`);
  assert.equal(page, await formatMarkdown(withApiTables(page, manifest)));
});
