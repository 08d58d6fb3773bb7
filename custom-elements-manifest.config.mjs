// `deno task manifest` writes custom-elements.json from the elements' JSDoc;
// a test fails when the committed file is not what this produces.
export default {
  globs: [
    "components/live-viewer.ts",
    "components/live-broadcaster.ts",
    "components/stream-element.ts",
  ],
  outdir: ".",
  litelement: true,
  // package.json names the manifest itself; the check run must not rewrite it.
  packagejson: false,
};
