#!/usr/bin/env node
// The compiled catalog: a .po file as LuCI's po2lmo (modules/luci-base/src/po2lmo.c)
// turns it into an .lmo (format: lmo.mjs), byte for byte:
//
// - the header's Plural-Forms expression is stored under key 0;
// - a message is stored only when it has a translation (msgstr, or msgstr[0] for a
//   plural message), each form n under the key of "msgid\2n" (with "msgctxt\1" in
//   front when it has a context); empty forms are skipped, and so is a form whose
//   hash equals its key's (a "translation" identical to the msgid);
// - fuzzy flags are ignored, as po2lmo ignores them;
// - the strings are written in .po order;
// - a catalog with no strings at all is no file.
//
//   node scripts/i18n/po2lmo.mjs po/zh_Hans/wgmgr.po build/i18n/wgmgr.zh-cn.lmo
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { keyString, sfh, writeLmo } from "./lmo.mjs";
import { parsePo } from "./po.mjs";

const hash = (s) => sfh(Buffer.from(s));

/** The .lmo of a .po file's text, or null when there is nothing to store. */
export function po2lmo(text, name = "po") {
  const entries = [];
  for (const e of parsePo(text, name)) {
    if (e.id === "") {
      // the header: po2lmo sees a field only when a line break ends it
      const plural = e.str[0].split("\n").slice(0, -1).find((f) => f.toLowerCase().startsWith("plural-forms: "));
      if (plural !== undefined) entries.push({ key: 0, valId: 0, value: plural.slice("plural-forms: ".length) });
      continue;
    }
    if (!e.str[0]) continue;
    e.str.forEach((value, n) => {
      if (!value) return;
      // po2lmo keeps escapes such as \n as two characters: a catalog string must have none
      if (/[\n\t\r]/.test(e.id + value)) throw new Error(`${name}: a line break or tab in ${JSON.stringify(e.id)} or its translation`);
      const key = hash(keyString(e.id, e.ctxt, e.plural != null ? n : null));
      if (key !== hash(value)) entries.push({ key, valId: e.str.length, value });
    });
  }
  return entries.length ? writeLmo(entries) : null;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error("usage: po2lmo.mjs input.po output.lmo");
    process.exit(1);
  }
  try {
    const lmo = po2lmo(readFileSync(input, "utf8"), input);
    mkdirSync(dirname(output), { recursive: true });
    if (lmo) writeFileSync(output, lmo);
    else rmSync(output, { force: true });
  } catch (e) {
    console.error(`po2lmo: ${e.message}`);
    process.exit(1);
  }
}
