/**
 * Writes each element's API tables into docs/elements.md from
 * custom-elements.json, between `<!-- api:TAG -->` and `<!-- /api:TAG -->`.
 * Run by `deno task manifest`; tests/e2e/manifest-current.test.ts fails when
 * the page says something else.
 */
/** Where the tables go, from the repository root. */
export const ELEMENTS_PAGE = "docs/elements.md";

interface Item {
  name: string;
  description?: string;
  default?: string;
  fieldName?: string;
  type?: { text: string };
  kind?: string;
  privacy?: string;
  static?: boolean;
  readonly?: boolean;
  parameters?: { name: string; type?: { text: string }; optional?: boolean }[];
  return?: { type?: { text: string } };
}

interface Declaration {
  tagName?: string;
  attributes?: Item[];
  members?: Item[];
  events?: Item[];
  cssParts?: Item[];
  cssProperties?: Item[];
  slots?: Item[];
  cssStates?: Item[];
}

const code = (text: string | undefined) =>
  text ? `\`${text.replaceAll("|", "\\|")}\`` : "";
const cell = (text: string | undefined) =>
  (text ?? "").replaceAll("|", "\\|").replaceAll("\n", " ");

function table(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return "";
  return [
    `| ${headers.join(" | ")} |`,
    `| ${headers.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ].join("\n") + "\n";
}

/** The markdown tables for one element. */
export function apiTables(element: Declaration): string {
  const publicMembers = (element.members ?? []).filter((m) =>
    !m.static && m.privacy !== "private" && m.privacy !== "protected" &&
    !m.name.startsWith("#")
  );
  const attributeFields = new Set(
    (element.attributes ?? []).map((a) => a.fieldName),
  );
  const sections: [string, string][] = [
    [
      "Attributes",
      table(
        ["attribute", "property", "type", "description"],
        (element.attributes ?? []).map((
          a,
        ) => [
          code(a.name),
          code(a.fieldName),
          code(a.type?.text),
          cell(a.description),
        ]),
      ),
    ],
    [
      "Properties",
      table(
        ["property", "type", "description"],
        publicMembers.filter((m) =>
          m.kind === "field" && !attributeFields.has(m.name)
        ).map((
          m,
        ) => [
          code(m.name) + (m.readonly ? " (read-only)" : ""),
          code(m.type?.text),
          cell(m.description),
        ]),
      ),
    ],
    [
      "Methods",
      table(
        ["method", "returns", "description"],
        publicMembers.filter((m) => m.kind === "method").map((
          m,
        ) => [
          code(
            `${m.name}(${
              (m.parameters ?? []).map((p) => p.name + (p.optional ? "?" : ""))
                .join(", ")
            })`,
          ),
          code(m.return?.type?.text ?? "void"),
          cell(m.description),
        ]),
      ),
    ],
    [
      "Events",
      table(
        ["event", "description"],
        (element.events ?? []).map((e) => [code(e.name), cell(e.description)]),
      ),
    ],
    [
      "CSS parts",
      table(
        ["part", "description"],
        (element.cssParts ?? []).map((
          p,
        ) => [code(p.name), cell(p.description)]),
      ),
    ],
    [
      "CSS custom properties",
      table(
        ["property", "default", "description"],
        (element.cssProperties ?? []).map((
          p,
        ) => [code(p.name), code(p.default), cell(p.description)]),
      ),
    ],
    [
      "Slots",
      table(
        ["slot", "description"],
        (element.slots ?? []).map((s) => [code(s.name), cell(s.description)]),
      ),
    ],
    [
      "CSS states",
      table(
        ["state", "description"],
        (element.cssStates ?? []).map((
          s,
        ) => [code(`:state(${s.name})`), cell(s.description)]),
      ),
    ],
  ];
  return sections.filter(([, body]) => body).map(([title, body]) =>
    `### ${title}\n\n${body}`
  ).join("\n");
}

/** The page's text with every element's block replaced from `manifest`. */
export function withApiTables(
  page: string,
  manifest: { modules: { declarations?: Declaration[] }[] },
): string {
  let text = page;
  for (const module of manifest.modules) {
    for (const element of module.declarations ?? []) {
      if (!element.tagName) continue;
      const open = `<!-- api:${element.tagName} -->`;
      const close = `<!-- /api:${element.tagName} -->`;
      const start = text.indexOf(open);
      const end = text.indexOf(close);
      if (start < 0 || end < start) {
        throw new Error(`The page has no ${open} … ${close} block`);
      }
      text = text.slice(0, start + open.length) +
        "\n\n<!-- generated from custom-elements.json by deno task manifest -->\n\n" +
        apiTables(element) + "\n" + text.slice(end);
    }
  }
  return text;
}

/** Formats markdown the way `deno fmt` does, so generated and committed text compare. */
export async function formatMarkdown(text: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext", "md", "-"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { stdout, success } = await child.output();
  if (!success) throw new Error("deno fmt failed on the API tables");
  return new TextDecoder().decode(stdout);
}

if (import.meta.main) {
  const root = new URL("..", import.meta.url).pathname;
  const manifest = JSON.parse(
    await Deno.readTextFile(`${root}custom-elements.json`),
  );
  const page = await Deno.readTextFile(`${root}${ELEMENTS_PAGE}`);
  await Deno.writeTextFile(
    `${root}${ELEMENTS_PAGE}`,
    await formatMarkdown(withApiTables(page, manifest)),
  );
  console.log(`${ELEMENTS_PAGE} API tables updated from custom-elements.json`);
}
