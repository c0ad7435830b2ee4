// A reader for UCI config files as libuci writes them, for the test tools that must
// read configs without Lua: the e2e netifd applier and the `make dev` simulator.
// (The plugin itself reads UCI through libuci, or in tests its stand-in test/lua/uci.lua.)

/** Splits one line into words the way libuci does: '…' literal, "…" and bare words with \\ escapes, # comment. */
function uciWords(line, lineNo) {
  const words = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i])) i++;
    if (i >= line.length || line[i] === "#") break;
    let word = "";
    while (i < line.length && !/\s/.test(line[i])) {
      const c = line[i];
      if (c === "'") {
        const end = line.indexOf("'", i + 1);
        if (end < 0) throw new Error(`UCI parse error, line ${lineNo}: unterminated '`);
        word += line.slice(i + 1, end);
        i = end + 1;
      } else if (c === '"') {
        i++;
        while (i < line.length && line[i] !== '"') {
          if (line[i] === "\\" && i + 1 < line.length) i++;
          word += line[i++];
        }
        if (i >= line.length) throw new Error(`UCI parse error, line ${lineNo}: unterminated "`);
        i++;
      } else if (c === "\\" && i + 1 < line.length) {
        word += line[i + 1];
        i += 2;
      } else {
        word += c;
        i++;
      }
    }
    words.push(word);
  }
  return words;
}

/**
 * Parses a UCI config file into sections { type, name, anonymous, options }, where an
 * anonymous section is named "@type[i]" and a list option is an array.
 */
export function parseUci(text) {
  const sections = [];
  const anonCount = {};
  let cur;
  text.split("\n").forEach((line, idx) => {
    const w = uciWords(line, idx + 1);
    if (w.length === 0 || w[0] === "package") return;
    if (w[0] === "config") {
      const type = w[1];
      const n = anonCount[type] ?? 0;
      anonCount[type] = n + 1;
      cur = { type, name: w[2] ?? `@${type}[${n}]`, anonymous: w[2] === undefined, options: {} };
      sections.push(cur);
      return;
    }
    if (w[0] !== "option" && w[0] !== "list") throw new Error(`UCI parse error, line ${idx + 1}: unknown keyword ${w[0]}`);
    if (!cur) throw new Error(`UCI parse error, line ${idx + 1}: ${w[0]} outside a section`);
    if (w[0] === "option") cur.options[w[1]] = w[2] ?? "";
    else {
      const prev = cur.options[w[1]];
      cur.options[w[1]] = [...(Array.isArray(prev) ? prev : prev !== undefined ? [prev] : []), w[2] ?? ""];
    }
  });
  return sections;
}
