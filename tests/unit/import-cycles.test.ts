/**
 * The layers point one way: protocol/ imports neither side, server/ and
 * components/ do not import each other, and no module reaches itself again
 * through its imports (type imports included).
 */
import assert from "node:assert/strict";

const IMPORT = /(?:import|export)\s[^"';]*?from\s+"(\.{1,2}\/[^"]+)"/g;

/** Every local module a file imports, by absolute path. */
async function importsOf(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(path);
  return [...text.matchAll(IMPORT)].map((match) =>
    new URL(match[1], `file://${path}`).pathname
  );
}

async function modules(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) found.push(...await modules(path));
    else if (entry.name.endsWith(".ts")) found.push(path);
  }
  return found;
}

Deno.test("imports go protocol -> server and protocol -> components, never back or across, and never cycle", async () => {
  const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
  const graph = new Map<string, string[]>();
  for (const dir of ["protocol", "server", "components"]) {
    for (const path of await modules(`${root}/${dir}`)) {
      graph.set(path, await importsOf(path));
    }
  }
  const cycles: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (path: string, trail: string[]) => {
    if (state.get(path) === "done" || !graph.has(path)) return;
    if (state.get(path) === "visiting") {
      const from = trail.indexOf(path);
      cycles.push(
        [...trail.slice(from), path].map((p) => p.slice(root.length + 1))
          .join(" -> "),
      );
      return;
    }
    state.set(path, "visiting");
    for (const next of graph.get(path)!) visit(next, [...trail, path]);
    state.set(path, "done");
  };
  for (const path of graph.keys()) visit(path, []);
  assert.deepEqual(cycles, []);
  // protocol -> server and protocol -> components, never back or across.
  const layer = (path: string) => path.slice(root.length + 1).split("/")[0];
  const forbidden: Record<string, string[]> = {
    protocol: ["server", "components"],
    server: ["components"],
    components: ["server"],
  };
  const against: string[] = [];
  for (const [path, imports] of graph) {
    for (const target of imports) {
      if (forbidden[layer(path)].includes(layer(target))) {
        against.push(`${path.slice(root.length + 1)} -> ${layer(target)}/`);
      }
    }
  }
  assert.deepEqual(against, []);
  // The walk saw the code it is about.
  assert.ok(graph.size > 60, `${graph.size} modules`);
});
