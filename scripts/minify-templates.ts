/**
 * An esbuild plugin that minifies the static text of Lit's `css`, `html` and `svg`
 * tagged templates in our elements: esbuild keeps template literals as they
 * are, and their indentation was ~1 KB of every bundle. Only whitespace, CSS
 * comments and quotes an attribute value does not need go; what a browser
 * renders is the same (whitespace with a line break between two tags is not
 * rendered; elsewhere it stays one space), and so is the DOM each tag makes.
 */
import type * as esbuild from "esbuild";

/** Files whose templates are minified: ours, never a dependency's. */
const OURS = /\/components\/.*\.ts$/;

export const minifyTemplates: esbuild.Plugin = {
  name: "minify-templates",
  setup(build) {
    build.onLoad({ filter: OURS }, async ({ path }) => {
      const source = await Deno.readTextFile(path);
      if (!/\b(css|html|svg)`/.test(source)) return undefined;
      return { contents: minifyTaggedTemplates(source), loader: "ts" };
    });
  },
};

/**
 * Rewrites every css`…` and html`…` in `source`. A scanner, not a parser: it
 * knows strings, comments and `${…}` nesting, which is all our element files
 * use around templates (no regular expression holds a quote or backtick).
 */
export function minifyTaggedTemplates(source: string): string {
  let out = "";
  let i = 0;
  while (i < source.length) {
    const tag = /^(css|html|svg)`/.exec(source.slice(i, i + 5));
    if (tag && !/[\w$.]/.test(source[i - 1] ?? "")) {
      out += tag[0];
      i = template(source, i + tag[0].length, tag[1] as Kind, (s) => {
        out += s;
      });
      continue;
    }
    const skipped = skipToken(source, i);
    out += source.slice(i, skipped);
    i = skipped;
  }
  return out;
}

type Kind = "css" | "html" | "svg";

/** Emits the template from `start` (after its backtick); returns the index after its closing backtick. */
function template(
  source: string,
  start: number,
  kind: Kind,
  emit: (s: string) => void,
): number {
  // The static parts, and the `${…}` between them: a tag may span several
  // parts (its attributes' bindings), so the parts are minified together.
  const parts = [""];
  const expressions: string[] = [];
  let i = start;
  while (i < source.length) {
    const c = source[i];
    if (c === "\\") {
      parts[parts.length - 1] += source.slice(i, i + 2);
      i += 2;
    } else if (c === "`") {
      const minified = kind === "css"
        ? parts.map(minifyCss)
        : unquoteAttributes(
          parts.map((part, n) =>
            minifyHtml(part, n === 0, n === parts.length - 1)
          ),
        );
      minified.forEach((part, n) => {
        emit(part);
        if (n < expressions.length) emit("${" + expressions[n] + "}");
      });
      emit("`");
      return i + 1;
    } else if (c === "$" && source[i + 1] === "{") {
      const end = expression(source, i + 2);
      expressions.push(minifyTaggedTemplates(source.slice(i + 2, end)));
      parts.push("");
      i = end + 1;
    } else {
      parts[parts.length - 1] += c;
      i++;
    }
  }
  throw new Error("minify-templates: unterminated template");
}

/** Index of the `}` closing an expression that starts at `start`. */
function expression(source: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < source.length) {
    const c = source[i];
    if (c === "{") depth++;
    if (c === "}") {
      if (depth === 0) return i;
      depth--;
    }
    i = c === "{" || c === "}" ? i + 1 : skipToken(source, i);
  }
  throw new Error("minify-templates: unterminated ${…}");
}

/** Index after the token at `i`: a string, a comment, a template, or one character. */
function skipToken(source: string, i: number): number {
  const c = source[i];
  if (c === '"' || c === "'") {
    let j = i + 1;
    while (j < source.length && source[j] !== c) {
      j += source[j] === "\\" ? 2 : 1;
    }
    return j + 1;
  }
  if (c === "/" && source[i + 1] === "/") {
    const end = source.indexOf("\n", i);
    return end === -1 ? source.length : end;
  }
  if (c === "/" && source[i + 1] === "*") {
    return source.indexOf("*/", i + 2) + 2;
  }
  if (c === "`") {
    // An untagged (or other-tagged) template: kept as it is, nesting followed.
    let j = i + 1;
    while (j < source.length && source[j] !== "`") {
      if (source[j] === "\\") j += 2;
      else if (source[j] === "$" && source[j + 1] === "{") {
        j = expression(source, j + 2) + 1;
      } else j++;
    }
    return j + 1;
  }
  return i + 1;
}

/**
 * CSS text: comments out, whitespace collapsed and dropped around
 * punctuation (`/` too: a delimiter, as in `16 / 9` and `rgb(0 0 0 / 60%)`)
 * and before `!important`.
 */
export function minifyCss(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/\s+/g, " ")
    .replace(/\s*([{};,>/])\s*/g, "$1")
    .replace(/\s+!important/g, "!important")
    .replace(/:\s+/g, ":")
    .replace(/;}/g, "}")
    .trim();
}

/**
 * HTML text: whitespace holding a line break is formatting. Between a tag's
 * end and the next tag's start, and at the template's two ends, it goes;
 * elsewhere (beside text or a `${…}`) it becomes one space.
 */
export function minifyHtml(
  text: string,
  first: boolean,
  last: boolean,
): string {
  let out = text.replace(/>\s*\n\s*</g, "><").replace(/\s*\n\s*/g, " ");
  if (first) out = out.replace(/^\s+/, "");
  if (last) out = out.replace(/\s+$/, "");
  return out;
}

/** Stands for a `${…}` while {@link unquoteAttributes} reads the parts as one text. */
const BINDING = "\uE000";

/**
 * A template's static parts (minified), read as one text: in each start
 * tag, the quotes of a static attribute value that needs none go (HTML's
 * unquoted value: no whitespace, quote, `=`, `<`, `>` or backtick), and so
 * does the space before a `/>`. Kept where a binding follows the value
 * (`a="b"${c}`) or a `/` would join it (`rx="1"/>`).
 */
export function unquoteAttributes(parts: string[]): string[] {
  if (parts.some((part) => part.includes(BINDING))) {
    throw new Error("minify-templates: U+E000 in a template");
  }
  return parts.join(BINDING).replace(
    /<[a-zA-Z][^<>]*>/g,
    (tag) =>
      tag
        // Not after a value unquoted in the source: `x=1/>` is x="1/".
        .replace(/(["']|<[\w-]+|\s[^\s"'=<>/]+)\s+\/>$/, "$1/>")
        .replace(
          /(\s[^\s"'>/=\uE000]+=)"([^\s"'=<>`\uE000]+)"(?=[\s>])/g,
          "$1$2",
        ),
  ).split(BINDING);
}
