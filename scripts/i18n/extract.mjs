#!/usr/bin/env node
// `make pot` and `make po`: the translatable strings of wgmgr, collected the way LuCI's
// build/i18n-scan.pl collects them with xgettext (keywords _:1, _:1,2c, N_:2,3, N_:2,3,4c):
//
// - every _(msgid[, context]) and N_(count, singular, plural[, context]) in htdocs/ and
//   luasrc/common/ (which the pages bundle);
// - every T(msgid[, params]) in luasrc/: the plugin's messages, which the views
//   translate from the template the reply carries (luasrc/common/text.ts);
// - the "title" and "description" strings of the menu.d and acl.d JSON files;
// - one "#: file:line" reference per use (the line of the msgid), sorted by file, then
//   line; messages sorted by msgid, then context; LuCI's one-line header.
//
// Stricter than xgettext: an argument that is not a string literal (a variable, a
// concatenation, a template with ${}) is an error rather than skipped, and so is a
// msgid with line breaks, tabs, or leading, trailing or double spaces (LuCI collapses
// those when extracting, and _() when looking up, so the page would show a string
// that differs from the one translated).
//
//   node scripts/i18n/extract.mjs            writes po/templates/wgmgr.pot
//   node scripts/i18n/extract.mjs --update   also updates every po/<language>/wgmgr.po
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { compareEntries, formatPo, mergePo, messageKey, parsePo } from "./po.mjs";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const POT = "po/templates/wgmgr.pot";
const SOURCES = ["htdocs", "luasrc"];
const JSON_DIRS = ["root/usr/share/luci/menu.d", "root/usr/share/rpcd/acl.d"];

// LuCI's signatures: _(msgid, context?) and N_(count, singular, plural, context?); the
// argument positions (0-based) of msgid, plural and context
const KEYWORDS = {
  _: { id: 0, ctxt: 1, usage: "(msgid[, context])" },
  N_: { id: 1, plural: 2, ctxt: 3, usage: "(count, singular, plural[, context])" },
  T: { id: 0, last: 1, usage: "(msgid[, params])" },
};

function walk(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
}

/** Refuses what a msgid, plural or context must not be (see the top of this file). */
function checkText(s, where) {
  if (s === "") throw new Error(`${where}: an empty string cannot be translated`);
  if (/[\x00-\x1f\x7f]/.test(s)) throw new Error(`${where}: line breaks, tabs and control characters do not survive LuCI's catalogs: ${JSON.stringify(s)}`);
  if (/^ | $| {2}/.test(s)) throw new Error(`${where}: leading, trailing or double spaces are collapsed by LuCI; put them outside _(): ${JSON.stringify(s)}`);
  return s;
}

/** The uses of _() and N_() in one TypeScript file: [{ id, plural?, ctxt?, line }]. */
function scanTs(file, text) {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node) => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && Object.hasOwn(KEYWORDS, node.expression.text)) {
      const kw = KEYWORDS[node.expression.text];
      const args = node.arguments;
      const at = (n) => `${file}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
      if (args.length <= (kw.plural ?? kw.id) || args.length > (kw.last ?? kw.ctxt) + 1) throw new Error(`${at(node)}: ${node.expression.text}() takes ${kw.usage}`);
      const literal = (i) => {
        const a = args[i];
        if (a === undefined) return undefined;
        if (!ts.isStringLiteral(a) && !ts.isNoSubstitutionTemplateLiteral(a)) throw new Error(`${at(a)}: ${node.expression.text}() needs a string literal here, not \`${a.getText(sf)}\``);
        return checkText(a.text, at(a));
      };
      found.push({
        id: literal(kw.id),
        plural: kw.plural ? literal(kw.plural) : undefined,
        ctxt: literal(kw.ctxt),
        line: sf.getLineAndCharacterOfPosition(args[kw.id].getStart(sf)).line + 1,
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** "title" and "description" strings of a menu.d or acl.d file, as i18n-scan.pl reads them. */
function scanJson(file, text) {
  const found = [];
  for (const m of text.matchAll(/"(?:title|description)"\s*:\s*("(?:[^"\\]|\\.)*")/g)) {
    const line = text.slice(0, m.index + m[0].length - m[1].length).split("\n").length;
    found.push({ id: checkText(JSON.parse(m[1]), `${file}:${line}`), line });
  }
  return found;
}

/** Every message of the sources, as .pot entries in gettext's order. */
export function extract(root = REPO) {
  const messages = new Map();
  const files = [
    ...SOURCES.flatMap((d) => walk(join(root, d)).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))),
    ...JSON_DIRS.flatMap((d) => (existsSync(join(root, d)) ? walk(join(root, d)).filter((f) => f.endsWith(".json")) : [])),
  ];
  for (const path of files) {
    const file = relative(root, path).split("\\").join("/");
    const text = readFileSync(path, "utf8");
    for (const use of file.endsWith(".json") ? scanJson(file, text) : scanTs(file, text)) {
      const key = messageKey(use);
      const m = messages.get(key);
      if (m && m.plural !== use.plural) {
        throw new Error(`${file}:${use.line}: ${JSON.stringify(use.id)} is used with plural ${JSON.stringify(use.plural)} and ${JSON.stringify(m.plural)}; give one of them a context`);
      }
      const entry = m ?? { ctxt: use.ctxt, id: use.id, plural: use.plural, str: use.plural ? ["", ""] : [""], refs: [], comments: [] };
      entry.refs.push([file, use.line]);
      messages.set(key, entry);
    }
  }
  const entries = [...messages.values()].sort(compareEntries);
  for (const e of entries) {
    e.refs = e.refs
      .sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])) || a[1] - b[1])
      .map(([f, l]) => `${f}:${l}`)
      .filter((r, i, all) => r !== all[i - 1]);
  }
  return entries;
}

/** The text of the .pot: LuCI's header, then the messages. */
export function potText(entries) {
  return formatPo([{ id: "", str: ["Content-Type: text/plain; charset=UTF-8"], refs: [], comments: [] }, ...entries]);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const entries = extract();
    writeFileSync(join(REPO, POT), potText(entries));
    console.log(`${POT}: ${entries.length} messages`);
    if (process.argv.includes("--update")) {
      for (const lang of readdirSync(join(REPO, "po")).sort()) {
        const file = join("po", lang, "wgmgr.po");
        if (lang === "templates" || !existsSync(join(REPO, file))) continue;
        const merged = mergePo(parsePo(readFileSync(join(REPO, file), "utf8"), file), entries);
        writeFileSync(join(REPO, file), formatPo(merged));
        const missing = merged.filter((e) => e.id !== "" && e.str.some((s) => s === "")).length;
        console.log(`${file}: ${merged.length - 1} messages${missing ? `, ${missing} to translate` : ""}`);
      }
    }
  } catch (e) {
    console.error(`extract: ${e.message}`);
    process.exit(1);
  }
}
