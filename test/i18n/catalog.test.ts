// The translation sources: po/templates/wgmgr.pot is what the extractor finds in the
// sources today, po/zh_Hans/wgmgr.po translates every message of it, completely and with
// the same placeholders; and the extractor and the merge behave as LuCI's tools do.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error plain JavaScript module
import { extract, POT, potText } from "../../scripts/i18n/extract.mjs";
// @ts-expect-error plain JavaScript module
import { formatPo, headerField, mergePo, parsePo, placeholders } from "../../scripts/i18n/po.mjs";
import { tempDir } from "../lib/temp.mjs";

const REPO = resolve(import.meta.dirname, "../..");
const PO = "po/zh_Hans/wgmgr.po";

type Entry = { ctxt?: string; id: string; plural?: string; str: string[]; refs: string[]; comments: string[] };

const read = (f: string) => readFileSync(join(REPO, f), "utf8");
const pot: Entry[] = parsePo(read(POT), POT);
const po: Entry[] = parsePo(read(PO), PO);
const messages = (l: Entry[]) => l.filter((e) => e.id !== "");
const label = (e: Entry) => (e.ctxt != null ? `[${e.ctxt}] ` : "") + JSON.stringify(e.id);

/**
 * Translations identical to the msgid, reviewed: a Chinese page shows these as they are
 * (units and names). Anything else identical is an untranslated copy.
 */
const SAME_IN_CHINESE = ["%.1f KiB", "%.1f MiB", "%.1f GiB", "%.1f TiB", "MTU", "WireGuard"];

describe("po/templates/wgmgr.pot", () => {
  it("is what the sources hold now (run `make pot`, or `make po`, after changing a string)", () => {
    expect(read(POT)).toBe(potText(extract()));
  });

  it("has LuCI's header and no msgid, plural or context with leading, trailing or double spaces or control characters", () => {
    expect(read(POT).startsWith('msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8"\n\n#: ')).toBe(true);
    const texts = messages(pot).flatMap((e) => [e.id, e.plural, e.ctxt].filter((t): t is string => t != null));
    expect(texts.length).toBeGreaterThan(100);
    for (const t of texts) expect(t, JSON.stringify(t)).toMatch(/^\S(?:[^\x00-\x1f\x7f]*\S)?$/);
    for (const t of texts) expect(t, JSON.stringify(t)).not.toMatch(/ {2}/);
  });

  it("uses contexts and plural forms the way LuCI's pages do", () => {
    expect(pot.find((e) => e.id === "never")).toMatchObject({ ctxt: "latest handshake", str: [""] });
    expect(pot.find((e) => e.id === "%d minute ago")).toMatchObject({ plural: "%d minutes ago", str: ["", ""] });
    // the menu's titles and the ACL's description, as i18n-scan.pl reads menu.d and acl.d
    expect(pot.find((e) => e.id === "Overview")?.refs).toEqual(["root/usr/share/luci/menu.d/luci-app-wgmgr.json:14"]);
    expect(pot.find((e) => e.id === "Grant access to the WireGuard manager (wgmgr)")).toBeDefined();
  });
});

describe("po/zh_Hans/wgmgr.po", () => {
  it("has exactly the template's messages, in its order, with its references (run `make po`)", () => {
    expect(read(PO)).toBe(formatPo(mergePo(po, pot)));
  });

  it("is Simplified Chinese with one plural form, as LuCI's zh_Hans catalogs", () => {
    expect(headerField(po, "Language")).toBe("zh_Hans");
    expect(headerField(po, "Plural-Forms")).toBe("nplurals=1; plural=0;");
  });

  it("translates every message", () => {
    const missing = messages(po).filter((e) => e.str.length !== 1 || e.str.some((s) => !s.trim()));
    expect(missing.map(label), "messages without a translation in po/zh_Hans/wgmgr.po").toEqual([]);
  });

  it("keeps every placeholder, in order (LuCI's String.format has no positional arguments)", () => {
    for (const e of messages(po)) {
      // one form serves every count in Chinese: it follows the plural's placeholders
      const source = e.plural ?? e.id;
      for (const s of e.str) expect(placeholders(s), `${label(e)} -> ${JSON.stringify(s)}`).toEqual(placeholders(source));
    }
  });

  it("keeps every {name} parameter of the plugin's messages (any order: they are filled by name)", () => {
    const names = (s: string) => [...new Set(s.match(/\{[a-z_]+\}/g) ?? [])].sort();
    const withNames = messages(po).filter((e) => names(e.id).length > 0);
    expect(withNames.length).toBeGreaterThan(100);
    for (const e of withNames) for (const s of e.str) expect(names(s), `${label(e)} -> ${JSON.stringify(s)}`).toEqual(names(e.id));
  });

  it("has no untranslated copies, line breaks or padding", () => {
    const same = messages(po).filter((e) => e.str[0] === e.id).map((e) => e.id);
    expect(same.sort()).toEqual([...SAME_IN_CHINESE].sort());
    for (const e of messages(po)) for (const s of e.str) expect(s, label(e)).toMatch(/^\S(?:[^\x00-\x1f\x7f]*\S)?$/);
  });
});

describe("the extractor (scripts/i18n/extract.mjs)", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** A source tree with `files`. */
  function tree(files: Record<string, string>): string {
    const root = tempDir("wgmgr-i18n-");
    dirs.push(root);
    mkdirSync(join(root, "htdocs"));
    mkdirSync(join(root, "luasrc/common"), { recursive: true });
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, f)), { recursive: true });
      writeFileSync(join(root, f), text);
    }
    return root;
  }

  it("writes a .pot as i18n-scan.pl and xgettext do: contexts, plurals, sorted messages and references", () => {
    const root = tree({
      "htdocs/b.ts": 'const x = _("Zebra");\nconst y = N_(n,\n  "%d apple", "%d apples");\nconst z = _(`Apple`, "fruit");\n',
      "htdocs/a.ts": '// _("in a comment") is no call\nf(_("Zebra"), _("Apple"), N_(2, "one", "many", "ctx"));\n',
      "htdocs/a.d.ts": "declare function _(msgid: string): string;\n",
      "luasrc/common/c.ts": 'export const m = _("Äpfel");\n',
      "root/usr/share/luci/menu.d/m.json": '{\n\t"admin/x": {\n\t\t"title": "Menu \\"entry\\""\n\t}\n}\n',
    });
    expect(potText(extract(root))).toBe(
      [
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8"\n',
        '#: htdocs/b.ts:3\nmsgid "%d apple"\nmsgid_plural "%d apples"\nmsgstr[0] ""\nmsgstr[1] ""\n',
        '#: htdocs/a.ts:2\nmsgid "Apple"\nmsgstr ""\n',
        '#: htdocs/b.ts:4\nmsgctxt "fruit"\nmsgid "Apple"\nmsgstr ""\n',
        '#: root/usr/share/luci/menu.d/m.json:3\nmsgid "Menu \\"entry\\""\nmsgstr ""\n',
        '#: htdocs/a.ts:2\n#: htdocs/b.ts:1\nmsgid "Zebra"\nmsgstr ""\n',
        '#: htdocs/a.ts:2\nmsgctxt "ctx"\nmsgid "one"\nmsgid_plural "many"\nmsgstr[0] ""\nmsgstr[1] ""\n',
        '#: luasrc/common/c.ts:1\nmsgid "Äpfel"\nmsgstr ""\n',
      ].join("\n"),
    );
  });

  it.each([
    ["a variable", "_(text)", "needs a string literal here, not `text`"],
    ["a concatenation", '_("a" + "b")', 'not `"a" + "b"`'],
    ["a template with a substitution", "_(`a ${b}`)", "not ``a ${b}``"],
    ["a non-literal context", '_("a", ctx)', "not `ctx`"],
    ["a non-literal plural", 'N_(n, "a", p)', "not `p`"],
    ["a trailing space", '_("Done. ")', "leading, trailing or double spaces"],
    ["a line break", '_("a\\nb")', "line breaks"],
    ["N_ without its plural", 'N_(n, "a")', "takes (count, singular, plural[, context])"],
    ["one msgid with two plurals", 'N_(n, "a", "b"); N_(n, "a", "c")', "is used with plural"],
  ])("refuses %s", (_what, code, message) => {
    expect(() => extract(tree({ "htdocs/v.ts": `${code};\n` }))).toThrow(message);
  });

  it("collects the plugin's T() templates from luasrc/, parameters and all, and refuses what it cannot read", () => {
    const root = tree({ "luasrc/plan.ts": 'fail("PORT_IN_USE", T(\n  "Port {port} is taken.", { port }));\nwarn(T("Done."));\n' });
    expect(extract(root).map((e: { id: string; refs: string[] }) => [e.id, e.refs])).toEqual([
      ["Done.", ["luasrc/plan.ts:3"]],
      ["Port {port} is taken.", ["luasrc/plan.ts:2"]],
    ]);
    expect(() => extract(tree({ "luasrc/x.ts": "T(`Port ${port}`);\n" }))).toThrow("needs a string literal here");
    expect(() => extract(tree({ "luasrc/x.ts": 'T("a", {}, "c");\n' }))).toThrow("takes (msgid[, params])");
  });
});

describe("merging the template into a .po (make po)", () => {
  it("keeps translations and the header, adds new messages empty, drops old ones, sizes plurals by Plural-Forms", () => {
    const old = parsePo(
      [
        '# translator\nmsgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n"Plural-Forms: nplurals=1; plural=0;\\n"\n',
        '#: old.ts:1\nmsgid "kept"\nmsgstr "保留"\n',
        '#, fuzzy\nmsgid "gone"\nmsgstr "旧"\n',
        'msgid "now plural"\nmsgstr "曾经单数"\n',
      ].join("\n"),
    );
    const template = parsePo(
      [
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8"\n',
        '#: a.ts:2\nmsgid "kept"\nmsgstr ""\n',
        '#: a.ts:3\nmsgid "new"\nmsgstr ""\n',
        '#: a.ts:4\nmsgid "now plural"\nmsgid_plural "now plurals"\nmsgstr[0] ""\nmsgstr[1] ""\n',
      ].join("\n"),
    );
    expect(formatPo(mergePo(old, template))).toBe(
      [
        '# translator\nmsgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n"Plural-Forms: nplurals=1; plural=0;\\n"\n',
        '#: a.ts:2\nmsgid "kept"\nmsgstr "保留"\n',
        '#: a.ts:3\nmsgid "new"\nmsgstr ""\n',
        '#: a.ts:4\nmsgid "now plural"\nmsgid_plural "now plurals"\nmsgstr[0] ""\n',
      ].join("\n"),
    );
  });

  it("reads and writes PO text unchanged: escapes, contexts, plural forms, comments; obsolete entries are dropped", () => {
    const text = '# c\n#, fuzzy\n#: x.ts:1\nmsgctxt "k \\"q\\""\nmsgid "a\\\\b"\nmsgid_plural "as"\nmsgstr[0] "甲"\nmsgstr[1] "乙"\n';
    expect(formatPo(parsePo(text + '\n#~ msgid "old"\n#~ msgstr "旧"\n'))).toBe(text);
    expect(parsePo(text)[0]).toMatchObject({ ctxt: 'k "q"', id: "a\\b", plural: "as", str: ["甲", "乙"] });
  });

  it("finds LuCI's placeholders", () => {
    expect(placeholders("%s and %d, %.1f %-10s %h %q, 100%% %x")).toEqual(["%s", "%d", "%.1f", "%-10s", "%h", "%q", "%x"]);
  });
});
