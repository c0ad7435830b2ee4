// The compiled catalog (.lmo) and its lookups:
// - the hash against vectors computed by LuCI's own C code (fixtures/sfh-vectors.json),
//   in the build's writer (scripts/i18n/lmo.mjs) and in the dev stand-in's cbi.js;
// - the zh_Hans .lmo read back by a reader written here, from the format's rules, not
//   the writer's code: every message is where LuCI will look for it, nothing else is;
// - lookups through the stand-in's _() and N_(), and its translation table as served;
// - byte for byte against LuCI's real po2lmo, when WGMGR_REAL_PO2LMO names one.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import vm from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error plain JavaScript module
import { lookupKey, sfh } from "../../scripts/i18n/lmo.mjs";
// @ts-expect-error plain JavaScript module
import { po2lmo } from "../../scripts/i18n/po2lmo.mjs";
// @ts-expect-error plain JavaScript module
import { startDevServer } from "../dev/server.mjs";
import { tempDir } from "../lib/temp.mjs";

const REPO = resolve(import.meta.dirname, "../..");
const PO = join(REPO, "po/zh_Hans/wgmgr.po");
const VECTORS = JSON.parse(readFileSync(join(import.meta.dirname, "fixtures/sfh-vectors.json"), "utf8"));
const hex = (n: number) => n.toString(16).padStart(8, "0");

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = tempDir("wgmgr-lmo-");
  dirs.push(d);
  return d;
}

type Runtime = { _(s: string, c?: string): string; N_(n: number, s: string, p: string, c?: string): string; sfh(s: string): string | null };

/** The dev stand-in's cbi.js in a fresh window, with `TR` as the served translation table. */
function standIn(TR?: Record<string, string>): Runtime {
  const window: Record<string, unknown> = { TR };
  vm.runInContext(readFileSync(join(REPO, "test/dev/luci/cbi.js"), "utf8"), vm.createContext({ window, TextEncoder }));
  return window as unknown as Runtime;
}

/**
 * An .lmo read by the format's rules alone: strings padded with NULs to 4 bytes, then
 * 16-byte big-endian index entries (key, val_id, offset, length) sorted by key, then
 * the index's offset. Checks the layout while reading.
 */
function readCatalog(buf: Buffer): Map<string, { valId: number; value: string }> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const index = view.getUint32(buf.length - 4);
  expect(index % 4).toBe(0);
  expect((buf.length - 4 - index) % 16).toBe(0);
  const decode = new TextDecoder("utf-8", { fatal: true });
  const entries = [];
  for (let p = index; p < buf.length - 4; p += 16) {
    entries.push({ key: view.getUint32(p), valId: view.getUint32(p + 4), offset: view.getUint32(p + 8), length: view.getUint32(p + 12) });
  }
  entries.forEach((e, i) => i && expect(e.key, "index sorted by key, no key twice").toBeGreaterThan(entries[i - 1].key));
  // the strings tile the data exactly, each padded with NULs to a multiple of 4
  let end = 0;
  for (const e of [...entries].sort((a, b) => a.offset - b.offset)) {
    expect(e.offset).toBe(end);
    end = e.offset + Math.ceil(e.length / 4) * 4;
    expect([...buf.subarray(e.offset + e.length, end)].every((b) => b === 0)).toBe(true);
  }
  expect(end).toBe(index);
  return new Map(entries.map((e) => [hex(e.key), { valId: e.valId, value: decode.decode(buf.subarray(e.offset, e.offset + e.length)) }]));
}

/** The .po's messages, read here without the project's PO reader: [{ ctxt, id, plural, str }]. */
function poMessages(text: string) {
  return text
    .split(/\n\n+/)
    .map((block) => {
      const m: { ctxt?: string; id?: string; plural?: string; str: string[] } = { str: [] };
      let last: [Record<string | number, unknown>, string | number] | null = null;
      for (const line of block.split("\n")) {
        const kw = /^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d)\])? (".*")$/.exec(line);
        if (kw) {
          const k = { msgctxt: "ctxt", msgid: "id", msgid_plural: "plural", msgstr: "str" }[kw[1]]!;
          last = k === "str" ? [m.str as unknown as Record<number, unknown>, Number(kw[2] ?? 0)] : [m, k];
          last[0][last[1]] = JSON.parse(kw[3]);
        } else if (line.startsWith('"') && last) last[0][last[1]] += JSON.parse(line);
      }
      return m;
    })
    .filter((m) => m.id);
}

describe("the hash (SuperFastHash, as LuCI computes it)", () => {
  it("matches LuCI's C sfh_hash in the build's writer and in the stand-in's cbi.js", () => {
    const browser = standIn();
    for (const v of VECTORS.sfh) {
      expect(hex(sfh(Buffer.from(v.text))), v.note).toBe(v.hash);
      // cbi.js has no hash for the empty string (LuCI's sfh() gives null)
      expect(browser.sfh(v.text), v.note).toBe(v.text === "" ? null : v.hash);
    }
    expect(VECTORS.sfh.length).toBeGreaterThan(20);
  });

  it("matches LuCI's lmo_canon_hash for lookups: whitespace collapsed, \\1 after a context, \\2 and the plural form", () => {
    for (const v of VECTORS.canon) expect(hex(lookupKey(v.msgid, v.ctxt, v.plural)), v.note).toBe(v.hash);
  });
});

describe("the zh_Hans catalog (.lmo)", () => {
  const text = readFileSync(PO, "utf8");
  const lmo: Buffer = po2lmo(text, PO);
  const catalog = readCatalog(lmo);
  const browser = standIn();
  const key = (s: string) => browser.sfh(s)!;

  it("holds every translated form under LuCI's key, the Plural-Forms under 00000000, and nothing else", () => {
    const expected = new Map([["00000000", { valId: 0, value: "nplurals=1; plural=0;" }]]);
    const messages = poMessages(text);
    expect(messages.length).toBeGreaterThan(100);
    for (const m of messages) {
      m.str.forEach((value, n) => {
        const k = key((m.ctxt != null ? m.ctxt + "\x01" : "") + m.id + (m.plural != null ? "\x02" + n : ""));
        // po2lmo leaves out a translation whose hash is its key's: the same text as the msgid
        if (k !== key(value)) expected.set(k, { valId: m.str.length, value });
      });
    }
    expect(catalog).toEqual(expected);
    expect(catalog.size).toBeGreaterThan(130);
  });

  it("written by `make` into build/i18n/wgmgr.zh-cn.lmo, where a package can take it from", () => {
    const built = join(REPO, "build/i18n/wgmgr.zh-cn.lmo");
    if (!existsSync(built)) console.warn("*** build/i18n/wgmgr.zh-cn.lmo is missing: run make ***");
    expect(readFileSync(built).equals(lmo)).toBe(true);
  });

  it("translates through the stand-in's _() and N_() as through LuCI's", () => {
    const TR = Object.fromEntries([...catalog].map(([k, e]) => [k, e.value]));
    const zh = standIn(TR);
    for (const m of poMessages(text)) {
      if (m.plural == null) expect(zh._(m.id!, m.ctxt)).toBe(m.str[0]);
      // one form for every count (plural=0)
      else for (const n of [0, 1, 2, 5, 21]) expect(zh.N_(n, m.id!, m.plural, m.ctxt)).toBe(m.str[0]);
    }
    expect(zh._("Latest handshake")).toBe("上次握手");
    expect(zh._("never", "latest handshake")).toBe("从未");
    expect(zh._("never")).toBe("never"); // another context, another message
    expect(zh._("  Latest\n handshake ")).toBe("上次握手"); // looked up with whitespace collapsed
    expect(zh.N_(3, "%d minute ago", "%d minutes ago")).toBe("%d 分钟前");
    expect(zh._("WireGuard")).toBe("WireGuard"); // identical, so not stored: the msgid itself
    expect(zh._("Not in the catalog")).toBe("Not in the catalog");

    const en = standIn({});
    expect(en._("Latest handshake")).toBe("Latest handshake");
    expect(en.N_(1, "%d minute ago", "%d minutes ago")).toBe("%d minute ago");
    expect(en.N_(2, "%d minute ago", "%d minutes ago")).toBe("%d minutes ago");
  });

  it("is served by the dev stand-in as LuCI's admin/translations/<lang> serves it (window.TR)", async () => {
    const i18n = tmp();
    writeFileSync(join(i18n, "wgmgr.zh-cn.lmo"), lmo);
    writeFileSync(join(i18n, "other.de.lmo"), po2lmo('msgid ""\nmsgstr "Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\nmsgid "Device"\nmsgstr "Gerät"\n'));
    const dev = await startDevServer({ port: 0, i18n, lang: "zh_cn" });
    try {
      const served = async (lang: string) => {
        const res = await fetch(`${dev.url}/cgi-bin/luci/admin/translations/${lang}`);
        expect(res.headers.get("content-type")).toMatch(/^application\/javascript/);
        const window: { TR?: Record<string, string> } = {};
        vm.runInNewContext(await res.text(), { window });
        return window.TR!;
      };
      expect(await served("zh-cn")).toEqual(Object.fromEntries([...catalog].map(([k, e]) => [k, e.value])));
      expect(await served("en")).toEqual({});
      expect(await served("de")).toEqual({ "00000000": "nplurals=2; plural=(n != 1);", [key("Device")]: "Gerät" });
      // the page asks for the language of /etc/config/luci's main.lang (zh_cn is LuCI's zh-cn)
      const sid = dev.login("root");
      const page = await (await fetch(`${dev.url}/cgi-bin/luci/admin/services/wgmgr/overview`, { headers: { Cookie: `sysauth_http=${sid}` } })).text();
      expect(page).toContain('<html lang="zh-cn">');
      expect(page).toContain('<script src="/cgi-bin/luci/admin/translations/zh-cn"></script>\n<script src="/luci-static/resources/cbi.js"></script>');
      expect(page).toContain(">概览</a>"); // the menu's titles, translated on the server
    } finally {
      await dev.close();
      dev.cleanup();
    }
  });
});

// An edge-case .po for the comparison with LuCI's po2lmo: three plural forms, contexts,
// identical and missing translations, a fuzzy one, escapes, continued strings, an
// obsolete entry and a Plural-Forms field in lower case.
const EDGE_PO = `# translator comment
msgid ""
msgstr ""
"Language: pl\\n"
"plural-forms: nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\\n"

#: a.ts:1
msgid "plain"
msgstr "zwykły"

msgid "same"
msgstr "same"

msgctxt "ctx"
msgid "same"
msgstr "same"

msgid "untranslated"
msgstr ""

#, fuzzy
msgid "fuzzy"
msgstr "rozmyty"

msgid "quote \\"q\\" and \\\\ backslash"
msgstr "cudzysłów \\"q\\" i \\\\"

msgctxt "ctx"
msgid "%d file"
msgid_plural "%d files"
msgstr[0] "%d plik"
msgstr[1] "%d pliki"
msgstr[2] "%d plików"

msgid "%d dir"
msgid_plural "%d dirs"
msgstr[0] "%d katalog"
msgstr[1] ""
msgstr[2] "%d katalogów"

msgid "no first form"
msgid_plural "no first forms"
msgstr[0] ""
msgstr[1] "x"
msgstr[2] "y"

msgid ""
"continued "
"msgid"
msgstr ""
"ciąg "
"dalszy"

#~ msgid "obsolete"
#~ msgstr "przestarzały"
`;

const REAL = process.env.WGMGR_REAL_PO2LMO;
if (!REAL) {
  console.warn(
    "\n*** SKIPPING the byte-for-byte comparison with LuCI's po2lmo: set WGMGR_REAL_PO2LMO to a po2lmo built from " +
      "openwrt/luci modules/luci-base/src (outside this repository) ***\n",
  );
}

describe.skipIf(!REAL)("the same bytes as LuCI's po2lmo", () => {
  /** LuCI's po2lmo output for a .po text, or null when it writes no file. */
  function real(text: string): Buffer | null {
    const d = tmp();
    writeFileSync(join(d, "in.po"), text);
    execFileSync(REAL!, [join(d, "in.po"), join(d, "out.lmo")]);
    return existsSync(join(d, "out.lmo")) ? readFileSync(join(d, "out.lmo")) : null;
  }

  it("for po/zh_Hans/wgmgr.po", () => {
    expect(po2lmo(readFileSync(PO, "utf8"))?.equals(real(readFileSync(PO, "utf8"))!)).toBe(true);
  });

  it("for a .po with plurals, contexts, identical, missing and fuzzy translations, escapes and continued strings", () => {
    const mine = po2lmo(EDGE_PO);
    expect(mine.equals(real(EDGE_PO)!)).toBe(true);
    // header, plain, [ctx] same (its key has the context), fuzzy, quote, 3 + 2 plural forms, continued
    expect(readCatalog(mine).size).toBe(11);
  });

  it("for a .po with nothing to store: no file", () => {
    const text = 'msgid ""\nmsgstr "Language: xx"\n\nmsgid "a"\nmsgstr ""\n';
    expect(po2lmo(text)).toBeNull();
    expect(real(text)).toBeNull();
  });

  // e.g. LuCI's own catalogs: WGMGR_REAL_PO2LMO_EXTRA=/path/base.po:/path/firewall.po
  it.each((process.env.WGMGR_REAL_PO2LMO_EXTRA ?? "").split(":").filter(Boolean))("for %s", (file) => {
    const text = readFileSync(file, "utf8");
    let mine: Buffer | null;
    try {
      mine = po2lmo(text, file);
    } catch (e) {
      // refused on purpose: po2lmo would store "\n" as a backslash and an n
      expect(String(e)).toContain("a line break or tab");
      return;
    }
    expect(mine === null ? null : mine.toString("base64")).toBe(real(text)?.toString("base64") ?? null);
  });
});
