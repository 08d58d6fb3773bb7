/**
 * The docs hold together: every relative link in README.md, CONTRIBUTING.md
 * and docs/*.md reaches a file that exists (and a `#anchor` a heading there,
 * by GitHub's slug rules), and every `deno task X` they mention is a task in
 * deno.json. No network: external links are not followed.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const HEADING = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/;
/** `[text](target)` and `![alt](target)`, target up to a space or the `)`. */
const INLINE_LINK =
  /!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g;
/** `[label]: target` on a line of its own. */
const DEFINITION = /^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/;
const TASK = /\bdeno task ([A-Za-z0-9:_-]+)/g;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** The lines of a Markdown text outside fenced code blocks, numbered from 1. */
function proseLines(text: string): [number, string][] {
  const lines: [number, string][] = [];
  let fence: string | undefined;
  text.split("\n").forEach((line, index) => {
    const open = line.match(FENCE);
    if (fence) {
      if (open && open[1][0] === fence[0] && open[1].length >= fence.length) {
        fence = undefined;
      }
      return;
    }
    if (open) fence = open[1];
    else lines.push([index + 1, line]);
  });
  return lines;
}

/** GitHub's anchor for a heading's text (github-slugger on the rendered text). */
export function slug(heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/`([^`]*)`/g, "$1")
    .replace(/\*+/g, "");
  return rendered.toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor a Markdown text's headings make, duplicates numbered as GitHub does. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (const [, line] of proseLines(text)) {
    const heading = line.match(HEADING);
    if (!heading) continue;
    const base = slug(heading[1]);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count === 0 ? base : `${base}-${count}`);
  }
  return found;
}

/** Relative link targets in a Markdown text, with their line numbers (code left out). */
export function links(text: string): [number, string][] {
  const found: [number, string][] = [];
  for (const [number, line] of proseLines(text)) {
    const definition = line.match(DEFINITION);
    if (definition) found.push([number, definition[1]]);
    const prose = line.replace(/(`+)[^`]*?\1/g, "");
    for (const match of prose.matchAll(INLINE_LINK)) {
      found.push([number, match[1]]);
    }
  }
  return found.filter(([, target]) => target && !SCHEME.test(target));
}

/** `deno task` names mentioned anywhere in a text, code included. */
export function taskNames(text: string): string[] {
  return [...text.matchAll(TASK)].map((match) => match[1]);
}

export interface Docs {
  /** Markdown texts by path from the repository root. */
  texts: Map<string, string>;
  /** Whether a path from the repository root names a file or folder. */
  exists(path: string): boolean;
  /** Markdown text of a path outside `texts`, if a link's anchor needs it. */
  read(path: string): string;
  tasks: Set<string>;
}

/** One line per broken link or unknown task, `file:line: what`. */
export function problems(docs: Docs): string[] {
  const found: string[] = [];
  for (const [file, text] of docs.texts) {
    const folder = file.includes("/")
      ? file.slice(0, file.lastIndexOf("/"))
      : "";
    for (const [line, target] of links(text)) {
      const hash = target.indexOf("#");
      const pathPart = decodeURIComponent(
        hash < 0 ? target : target.slice(0, hash),
      );
      const anchor = hash < 0
        ? undefined
        : decodeURIComponent(target.slice(hash + 1));
      const path = pathPart ? normalize(folder, pathPart) : file;
      if (path === undefined || !docs.exists(path)) {
        found.push(`${file}:${line}: ${target}: no such file`);
        continue;
      }
      if (anchor === undefined || !path.endsWith(".md")) continue;
      const targetText = docs.texts.get(path) ?? docs.read(path);
      if (!anchors(targetText).has(anchor)) {
        found.push(
          `${file}:${line}: ${target}: no heading #${anchor} in ${path}`,
        );
      }
    }
    text.split("\n").forEach((line, index) => {
      for (const name of taskNames(line)) {
        if (!docs.tasks.has(name)) {
          found.push(
            `${file}:${
              index + 1
            }: deno task ${name}: no such task in deno.json`,
          );
        }
      }
    });
  }
  return found;
}

/** `folder/relative` as a path from the root, or undefined if it climbs out. */
function normalize(folder: string, relative: string): string | undefined {
  const parts = relative.startsWith("/")
    ? []
    : folder.split("/").filter(Boolean);
  for (const part of relative.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(part);
  }
  return parts.join("/") || ".";
}

function existsOnDisk(path: string): boolean {
  try {
    Deno.statSync(ROOT + path);
    return true;
  } catch {
    return false;
  }
}

async function repositoryDocs(): Promise<Docs> {
  const texts = new Map<string, string>();
  for (const file of ["README.md", "CONTRIBUTING.md"]) {
    texts.set(file, await Deno.readTextFile(ROOT + file));
  }
  for await (const entry of Deno.readDir(`${ROOT}docs`)) {
    if (entry.isFile && entry.name.endsWith(".md")) {
      texts.set(
        `docs/${entry.name}`,
        await Deno.readTextFile(`${ROOT}docs/${entry.name}`),
      );
    }
  }
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  return {
    texts,
    exists: existsOnDisk,
    read: (path) => Deno.readTextFileSync(ROOT + path),
    tasks: new Set(Object.keys(config.tasks)),
  };
}

Deno.test("every relative link in the README, CONTRIBUTING.md and docs/ resolves, and every `deno task` exists", async () => {
  const docs = await repositoryDocs();
  assert.ok(
    docs.texts.size >= 3,
    "README.md, CONTRIBUTING.md and docs/*.md read",
  );
  assert.deepEqual(problems(docs), []);
});

Deno.test("the README reaches the quick start, the element API and the deployment guide in one click", async () => {
  const docs = await repositoryDocs();
  const readme = docs.texts.get("README.md")!;
  const targets = links(readme).map(([, target]) => target);
  assert.ok(targets.includes("#quick-start"), "a link to #quick-start");
  assert.ok(targets.includes("docs/elements.md"), "a link to docs/elements.md");
  assert.ok(targets.includes("docs/deploy.md"), "a link to docs/deploy.md");
});

Deno.test("the checker finds a missing file, a missing heading and an unknown task", () => {
  const texts = new Map([
    [
      "README.md",
      [
        "# Live `<live-viewer>`",
        "",
        "## Quick start",
        "",
        "See [elements](docs/elements.md), [gone](docs/gone.md),",
        "[start](#quick-start), [nowhere](#no-such-heading) and",
        "[the viewer](docs/elements.md#live-viewer-2) or [site](https://example.com).",
        "Run `deno task dev`, then `deno task nope`.",
        "```sh",
        "# not a heading",
        "[not a link](missing.md)",
        "```",
      ].join("\n"),
    ],
    [
      "docs/elements.md",
      "# Elements\n\n## `<live-viewer>`\n\n## live-viewer\n\n[up](../README.md#live-live-viewer) [down](../../x.md)\n",
    ],
  ]);
  const found = problems({
    texts,
    exists: (path) => texts.has(path),
    read: () => "",
    tasks: new Set(["dev"]),
  });
  assert.deepEqual(found, [
    "README.md:5: docs/gone.md: no such file",
    "README.md:6: #no-such-heading: no heading #no-such-heading in README.md",
    "README.md:7: docs/elements.md#live-viewer-2: no heading #live-viewer-2 in docs/elements.md",
    "README.md:8: deno task nope: no such task in deno.json",
    "docs/elements.md:7: ../../x.md: no such file",
  ]);
  assert.deepEqual([...anchors(texts.get("docs/elements.md")!)], [
    "elements",
    "live-viewer",
    "live-viewer-1",
  ]);
});
