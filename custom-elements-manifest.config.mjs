// `deno task manifest` writes custom-elements.json from the elements' JSDoc;
// a test fails when the committed file is not what this produces.

/**
 * A destructured parameter (`{ code, message }: SessionError`) is listed
 * under its source text; readers and tools want a name: its type's, in
 * camel case (`sessionError`).
 */
const nameDestructured = {
  name: "name-destructured-parameters",
  packageLinkPhase({ customElementsManifest }) {
    for (const module of customElementsManifest.modules ?? []) {
      for (const declaration of module.declarations ?? []) {
        for (const member of declaration.members ?? []) {
          for (const parameter of member.parameters ?? []) {
            const type = parameter.type?.text;
            if (!/^[{[]/.test(parameter.name) || !/^\w+$/.test(type ?? "")) {
              continue;
            }
            parameter.name = type[0].toLowerCase() + type.slice(1);
          }
        }
      }
    }
  },
};

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
  plugins: [nameDestructured],
};
