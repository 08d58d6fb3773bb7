/** The build's template minifier: what it removes, and what it must keep. */
import assert from "node:assert/strict";
import {
  minifyCss,
  minifyHtml,
  minifyTaggedTemplates,
  unquoteAttributes,
} from "../../scripts/minify-templates.ts";

Deno.test("css: comments, indentation and spaces around punctuation go", () => {
  assert.equal(
    minifyCss(`
  /* why */
  :host {
    color: var(--c, #fff);
    font: 14px/1.4 system-ui, sans-serif;
  }
  .a > .b,
  .c :hover { margin: 0 auto; }
  [hidden] { display: none !important; aspect-ratio: var(--r, 16 / 9); }
`),
    ":host{color:var(--c,#fff);font:14px/1.4 system-ui,sans-serif}" +
      ".a>.b,.c :hover{margin:0 auto}" +
      "[hidden]{display:none!important;aspect-ratio:var(--r,16/9)}",
  );
});

Deno.test("html: line breaks between tags go, beside text they stay a space", () => {
  assert.equal(
    minifyHtml("\n  <div>\n    <span>a</span>\n  </div>\n", true, true),
    "<div><span>a</span></div>",
  );
  assert.equal(
    minifyHtml("<b>x</b>\n  text\n  <i>", false, false),
    "<b>x</b> text <i>",
  );
  // Between two bindings the space is text: it stays.
  assert.equal(minifyHtml("\n   ", false, false), " ");
  // Spaces on one line are the author's: kept.
  assert.equal(
    minifyHtml("<b>a</b> <i>b</i>", true, true),
    "<b>a</b> <i>b</i>",
  );
});

Deno.test("templates: only css, html and svg tags, nested ones too, the code around untouched", () => {
  const source = [
    "const s = css`\n  a { b: c; }\n`;",
    'const t = "css`  keep  `";',
    "// html`  comment  `",
    "const u = other`\n  keep\n`;",
    "const v = html`\n  <p>${x ? html`\n    <b>${'}'}</b>\n  ` : `\n  raw\n`}</p>\n`;",
    'const w = svg`\n  <svg viewBox="0 0 1 1"\n    fill="none">\n    <path d="M0 0" />\n  </svg>\n`;',
  ].join("\n");
  assert.equal(
    minifyTaggedTemplates(source),
    [
      "const s = css`a{b:c}`;",
      'const t = "css`  keep  `";',
      "// html`  comment  `",
      "const u = other`\n  keep\n`;",
      "const v = html`<p>${x ? html`<b>${'}'}</b>` : `\n  raw\n`}</p>`;",
      'const w = svg`<svg viewBox="0 0 1 1" fill=none><path d="M0 0"/></svg>`;',
    ].join("\n"),
  );
});

Deno.test("html: quotes a static value does not need go, in start tags only", () => {
  assert.deepEqual(
    unquoteAttributes([
      '<p class="a" part="x-y" style="a:b;c:d" title="two words">x="y"</p>',
    ]),
    ['<p class=a part=x-y style=a:b;c:d title="two words">x="y"</p>'],
  );
  // A tag across bindings: its values before and after them too.
  assert.deepEqual(
    unquoteAttributes(['<b class="a" @click=', ' aria-label="m">', "</b>"]),
    ["<b class=a @click=", " aria-label=m>", "</b>"],
  );
  // Kept: a value a binding completes or follows, one a `/` would join,
  // and values with characters an unquoted value cannot hold.
  assert.deepEqual(
    unquoteAttributes(['<i a="b', '" c="d"', ' e="f=g" h=\'i\' j="">']),
    ['<i a="b', '" c="d"', ' e="f=g" h=\'i\' j="">'],
  );
  assert.deepEqual(
    unquoteAttributes(['<rect x="1" rx="2" /><path d="M0 0" />']),
    ['<rect x=1 rx="2"/><path d="M0 0"/>'],
  );
  // The space before `/>` goes after a tag name, a boolean attribute or a
  // quote, not after a value the source left unquoted (`x=1/>` is x="1/").
  assert.deepEqual(
    unquoteAttributes(["<br /><input disabled /><rect x=1 />"]),
    ["<br/><input disabled/><rect x=1 />"],
  );
});

Deno.test("templates: escapes kept, an unterminated template is an error", () => {
  assert.equal(
    minifyTaggedTemplates("css`a::before{content:'\\``"),
    "css`a::before{content:'\\``",
  );
  assert.throws(() => minifyTaggedTemplates("html`<p>"), /unterminated/);
});
