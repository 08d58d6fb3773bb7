/**
 * The names the bundles' property mangling renames (scripts/internal-props.ts)
 * are our own internal names only: renaming one that the browser, Lit, the
 * wire protocol or a page also uses would break the built bundles.
 */
import assert from "node:assert/strict";
import { INTERNAL_PROPS } from "../../scripts/internal-props.ts";

const root = new URL("../../", import.meta.url).pathname;
const IDENT = /[A-Za-z_$][A-Za-z0-9_$]*/g;

async function files(dir: string, name: RegExp): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) found.push(...await files(path, name));
    else if (name.test(entry.name)) found.push(path);
  }
  return found;
}

async function words(paths: string[], pattern = IDENT): Promise<Set<string>> {
  const found = new Set<string>();
  for (const path of paths) {
    for (const match of (await Deno.readTextFile(path)).matchAll(pattern)) {
      found.add(match[1] ?? match[0]);
    }
  }
  return found;
}

/** Installed packages (node_modules/.deno/<name>@<version>/node_modules). */
async function packages(prefix: RegExp): Promise<string[]> {
  const dirs: string[] = [];
  for await (const entry of Deno.readDir(`${root}node_modules/.deno`)) {
    if (prefix.test(entry.name)) {
      dirs.push(`${root}node_modules/.deno/${entry.name}/node_modules`);
    }
  }
  assert.ok(dirs.length > 0, `no ${prefix} in node_modules (deno install)`);
  return dirs;
}

function clash(names: Set<string>): string[] {
  return INTERNAL_PROPS.filter((name) => names.has(name));
}

Deno.test("internal props: no DOM or built-in property of that name", async () => {
  const libs = [];
  for (const dir of await packages(/^typescript@/)) {
    libs.push(...await files(`${dir}/typescript/lib`, /^lib\..*\.d\.ts$/));
  }
  const declared = await words(
    libs,
    /^\s+(?:readonly\s+)?([A-Za-z_$][A-Za-z0-9_$]*)\??\s*[:(<]/gm,
  );
  assert.ok(declared.has("connectionState") && declared.has("srcObject"));
  assert.deepEqual(clash(declared), []);
});

Deno.test("internal props: no word of Lit's or of the protocol", async () => {
  const lit = [];
  for (const dir of await packages(/^(lit|lit-html|lit-element)@|^@lit\+/)) {
    lit.push(...await files(dir, /\.js$/));
  }
  assert.deepEqual(clash(await words(lit)), []);
  assert.deepEqual(
    clash(await words(await files(`${root}protocol`, /\.ts$/))),
    [],
  );
});

Deno.test("internal props: no public API, strings key or export", async () => {
  const manifest = JSON.parse(
    await Deno.readTextFile(`${root}custom-elements.json`),
  );
  const members = new Set<string>();
  for (const module of manifest.modules) {
    for (const declaration of module.declarations ?? []) {
      for (const member of declaration.members ?? []) members.add(member.name);
      for (const attr of declaration.attributes ?? []) members.add(attr.name);
      for (const event of declaration.events ?? []) members.add(event.name);
    }
  }
  assert.ok(members.has("streamId"));
  assert.deepEqual(clash(members), []);
  assert.deepEqual(clash(await words([`${root}docs/elements.md`])), []);
  const ui = await files(`${root}components/ui`, /strings.*\.ts$/);
  assert.deepEqual(clash(await words(ui, /^\s+([A-Za-z_$][\w$]*)\??:/gm)), []);
  const sources = await files(`${root}components`, /\.ts$/);
  const exported = await words(
    sources,
    /export\s+(?:async\s+)?(?:function|const|let|class)\s+([A-Za-z_$][\w$]*)/g,
  );
  assert.ok(exported.has("whepPlayer"));
  assert.deepEqual(clash(exported), []);
  // Every name is still in use: a stale entry would hide a renamed one.
  const used = await words(sources);
  assert.deepEqual(INTERNAL_PROPS.filter((name) => !used.has(name)), []);
});
