// Gettext PO files as LuCI keeps them: the template po/templates/wgmgr.pot and one
// po/<language>/wgmgr.po per language. Read, written (unwrapped: one line per string,
// as `xgettext --no-wrap` writes them) and merged like `msgmerge`, without gettext.
//
// An entry: { ctxt?, id, plural?, str: string[], refs: string[], comments: string[] }
// (`str` has one string, or one per plural form; `comments` are the translator's
// "# ..." and "#, ..." lines, kept as they are). The header is the entry with id "".

const ESCAPES = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\" };

function unquote(s, where) {
  const m = /^"((?:[^"\\]|\\.)*)"\s*$/.exec(s);
  if (!m) throw new Error(`${where}: expected a quoted string: ${s}`);
  return m[1].replace(/\\(.)/g, (_, c) => {
    if (!(c in ESCAPES)) throw new Error(`${where}: unsupported escape \\${c}`);
    return ESCAPES[c];
  });
}

const quote = (s) => '"' + s.replace(/[\\"]/g, "\\$&").replace(/\n/g, "\\n").replace(/\t/g, "\\t").replace(/\r/g, "\\r") + '"';

/** The entries of a .po/.pot file, in file order; obsolete ("#~") entries are left out. */
export function parsePo(text, name = "po") {
  const entries = [];
  let e = null; // the entry being read; once it has its msgid, a comment, msgctxt or msgid starts the next
  let field = null; // where a continuation line goes: [object, key]
  const next = (done) => {
    if (!e || done) entries.push((e = { str: [], refs: [], comments: [] }));
  };
  text.split("\n").forEach((line, i) => {
    const where = `${name}:${i + 1}`;
    const m = /^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?) (.*)$/.exec(line);
    if (line.trim() === "" || line.startsWith("#~")) field = null;
    else if (line.startsWith("#")) {
      next(e?.id !== undefined);
      if (line.startsWith("#: ")) e.refs.push(...line.slice(3).trim().split(/\s+/));
      else if (line === "#" || line.startsWith("# ") || line.startsWith("#,")) e.comments.push(line);
      field = null;
    } else if (m) {
      const [, kw, n, rest] = m;
      if (kw === "msgctxt") next(e?.id !== undefined || e?.ctxt !== undefined);
      else if (kw === "msgid") next(e?.id !== undefined);
      else if (e?.id === undefined) throw new Error(`${where}: ${kw} without msgid`);
      field = kw === "msgctxt" ? [e, "ctxt"] : kw === "msgid" ? [e, "id"] : kw === "msgid_plural" ? [e, "plural"] : [e.str, Number(n ?? 0)];
      field[0][field[1]] = unquote(rest, where);
    } else if (line.startsWith('"') && field) field[0][field[1]] += unquote(line, where);
    else throw new Error(`${where}: cannot read: ${line}`);
  });
  for (const x of entries) if (x.id === undefined) throw new Error(`${name}: an entry without msgid (comments: ${x.comments.join(" ")})`);
  return entries;
}

function formatString(kw, s) {
  if (!s.includes("\n")) return `${kw} ${quote(s)}`;
  // the header (no message has a line break): one line per field, as gettext writes it
  return [`${kw} ""`, ...s.split(/(?<=\n)/).map(quote)].join("\n");
}

/** The text of a .po/.pot file. */
export function formatPo(entries) {
  return (
    entries
      .map((e) => {
        const lines = [...e.comments, ...e.refs.map((r) => `#: ${r}`)];
        if (e.ctxt != null) lines.push(formatString("msgctxt", e.ctxt));
        lines.push(formatString("msgid", e.id));
        if (e.plural != null) {
          lines.push(formatString("msgid_plural", e.plural));
          e.str.forEach((s, i) => lines.push(formatString(`msgstr[${i}]`, s ?? "")));
        } else lines.push(formatString("msgstr", e.str[0] ?? ""));
        return lines.join("\n") + "\n";
      })
      .join("\n")
  );
}

/** One key per message: msgctxt and msgid (gettext's separator). */
export const messageKey = (e) => (e.ctxt != null ? e.ctxt + "\x04" : "") + e.id;

/** gettext's order (msguniq -s): by msgid, then context (none first), compared as UTF-8 bytes. */
export function compareEntries(a, b) {
  return Buffer.compare(Buffer.from(a.id), Buffer.from(b.id)) || (a.ctxt == null ? (b.ctxt == null ? 0 : -1) : b.ctxt == null ? 1 : Buffer.compare(Buffer.from(a.ctxt), Buffer.from(b.ctxt)));
}

/** A header field ("Plural-Forms", ...) of the header entry, or undefined. */
export function headerField(entries, name) {
  const header = entries.find((e) => e.id === "" && e.ctxt == null);
  const line = (header?.str[0] ?? "").split("\n").find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ": "));
  return line?.slice(name.length + 2);
}

/**
 * `msgmerge`: the template's messages in the template's order and with its references,
 * each with the translation (and translator comments) the .po has for it, or empty;
 * messages the template no longer has are dropped. The .po's header stays.
 */
export function mergePo(po, pot) {
  const nplurals = Number(/nplurals\s*=\s*(\d+)/.exec(headerField(po, "Plural-Forms") ?? "")?.[1] ?? 2);
  const old = new Map(po.map((e) => [messageKey(e), e]));
  const header = po.find((e) => e.id === "" && e.ctxt == null);
  const merged = pot
    .filter((t) => t.id !== "")
    .map((t) => {
      const o = old.get(messageKey(t));
      const same = o && (o.plural != null) === (t.plural != null);
      const str = t.plural != null ? Array.from({ length: nplurals }, (_, i) => (same ? (o.str[i] ?? "") : "")) : [same ? o.str[0] : ""];
      return { ...t, str, comments: same ? o.comments : [] };
    });
  return header ? [header, ...merged] : merged;
}

/**
 * The placeholders of a LuCI format string (String.prototype.format: %s, %d, %h, %.1f,
 * %-10s, ... and %% for a percent sign), in order.
 */
export function placeholders(s) {
  return (s.match(/%(?:%|[-+ #0]*\d*(?:\.\d+)?[a-zA-Z])/g) ?? []).filter((p) => p !== "%%");
}
