// A small JSON codec for the plugin (Lua only). Written here rather than depending on
// luci-lib-jsonc: it saves a package on the router, and it encodes an empty table the
// way rpcd needs (luci.jsonc turns {} into [], which rpcd rejects; platform.md §6).
//
// Conventions: JSON null decodes to nil (so the key is absent, as with luci.jsonc);
// a non-empty sequence encodes as an array, other tables as objects; an empty table
// encodes as [] unless it was passed through asObject().

import { codePoints, isValidText } from "./common/validate";

const objectTables = setmetatable(new LuaTable<object, boolean>(), { __mode: "k" });

const lazyLists = setmetatable(new LuaTable<object, (i: number) => unknown>(), { __mode: "k" });
const lazyCounts = setmetatable(new LuaTable<object, number>(), { __mode: "k" });

/**
 * An array whose elements are made one at a time while it is written, so a reply with a
 * thousand peers never holds all of them in memory at once (only write() expands it).
 */
export function lazyList<T>(count: number, produce: (i: number) => T): T[] {
  const marker = {};
  lazyLists.set(marker, produce);
  lazyCounts.set(marker, count);
  return marker as T[];
}

/** Marks a table that must encode as {} even when it is empty. */
export function asObject<T extends object>(t: T): T {
  objectTables.set(t, true);
  return t;
}

const ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

function escapeChar(c: string): string {
  return ESCAPES[c] ?? string.format("\\u%04x", string.byte(c));
}

function encodeString(s: string): string {
  // Control characters, quote and backslash; UTF-8 passes through unchanged.
  return '"' + string.gsub(validText(s), '[%c"\\]', escapeChar)[0] + '"';
}

const NON_ASCII = `[${string.char(0x80)}-${string.char(0xff)}]`;

/**
 * The string, or for bytes that are not UTF-8 (a config file edited by hand) the string
 * with each bad byte replaced by U+FFFD: a reply is always valid JSON text.
 */
function validText(s: string): string {
  // Nearly every string is ASCII: one pattern search, no per-byte loop.
  if (string.find(s, NON_ASCII)[0] === undefined || isValidText(s)) return s;
  const out: string[] = [];
  let i = 1;
  while (i <= s.length) {
    const b = string.byte(s, i);
    const len = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    const piece = string.sub(s, i, i + len - 1);
    if (piece.length === len && codePoints(piece) !== undefined) {
      out.push(piece);
      i += len;
    } else {
      out.push("\u{FFFD}");
      i++;
    }
  }
  return table.concat(out);
}

function encodeNumber(n: number): string {
  if (n !== n || n === Infinity || n === -Infinity) return "null";
  // "%.0f" keeps byte counters above 2^31 exact on 32-bit routers, where %d would wrap.
  if (Math.floor(n) === n && Math.abs(n) < 1e15) return string.format("%.0f", n);
  return string.format("%.14g", n);
}

function encodeValue(v: unknown, out: string[], flush?: () => void): void {
  const t = type(v);
  if (t === "string") out.push(encodeString(v as string));
  else if (t === "number") out.push(encodeNumber(v as number));
  else if (t === "boolean") out.push(v ? "true" : "false");
  else if (t === "table") encodeTable(v as LuaTable, out, flush);
  else out.push("null");
}

function encodeTable(t: LuaTable, out: string[], flush?: () => void): void {
  const produce = lazyLists.get(t);
  if (produce !== undefined) {
    out.push("[");
    const n = lazyCounts.get(t) as number;
    for (let i = 0; i < n; i++) {
      if (i > 0) out.push(",");
      encodeValue(produce(i), out, flush);
      if (flush !== undefined && out.length > 512) flush();
    }
    out.push("]");
    return;
  }
  const [first] = next(t);
  if (first === undefined) {
    out.push(objectTables.get(t) ? "{}" : "[]");
    return;
  }
  if (t.get(1) !== undefined) {
    out.push("[");
    const n = t.length();
    for (let i = 1; i <= n; i++) {
      if (i > 1) out.push(",");
      encodeValue(t.get(i), out, flush);
      if (flush !== undefined && out.length > 512) flush();
    }
    out.push("]");
    return;
  }
  // Objects: keys sorted, so replies are stable and diffable.
  const keys: string[] = [];
  for (const [k] of pairs(t)) keys.push(tostring(k));
  table.sort(keys);
  out.push("{");
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) out.push(",");
    out.push(encodeString(keys[i]), ":");
    encodeValue(t.get(keys[i]), out, flush);
  }
  out.push("}");
}

export function encode(v: unknown): string {
  const out: string[] = [];
  encodeValue(v, out);
  return table.concat(out);
}

/** Encodes straight to stdout in chunks, so a large reply is never held twice in memory. */
export function write(v: unknown): void {
  const out: string[] = [];
  const flush = (): void => {
    io.write(table.concat(out));
    for (let i = out.length; i >= 1; i--) (out as unknown as LuaTable<number, undefined>).set(i, undefined);
  };
  encodeValue(v, out, flush);
  flush();
}

// ---- decoding -------------------------------------------------------------

const MAX_DEPTH = 32;

class Decoder {
  pos = 1;
  /** The key of the top-level object being read: the argument a failure is in. */
  topKey?: string;
  constructor(private readonly s: string) {}

  fail(what: string): never {
    throw { jsonError: `${what} at byte ${this.pos}` };
  }

  skipSpace(): void {
    const [, last] = string.find(this.s, "^[ \t\r\n]*", this.pos);
    this.pos = (last as number) + 1;
  }

  peek(): string {
    return string.sub(this.s, this.pos, this.pos);
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail("nesting too deep");
    this.skipSpace();
    const c = this.peek();
    if (c === "{") return this.object(depth);
    if (c === "[") return this.array(depth);
    if (c === '"') return this.str();
    if (c === "t") return this.literal("true", true);
    if (c === "f") return this.literal("false", false);
    if (c === "n") return this.literal("null", undefined);
    return this.num();
  }

  literal(word: string, v: unknown): unknown {
    if (string.sub(this.s, this.pos, this.pos + word.length - 1) !== word) this.fail("unexpected character");
    this.pos += word.length;
    return v;
  }

  num(): number {
    const [first, last] = string.find(this.s, "^-?%d+%.?%d*[eE]?[-+]?%d*", this.pos);
    if (first === undefined) this.fail("unexpected character");
    const n = tonumber(string.sub(this.s, first as number, last as number));
    if (n === undefined) this.fail("bad number");
    this.pos = (last as number) + 1;
    return n;
  }

  str(): string {
    const parts: string[] = [];
    this.pos++; // opening quote
    for (;;) {
      const [first, , captured] = string.find(this.s, '^([^"\\%c]*)', this.pos);
      if (first === undefined) this.fail("unterminated string");
      const chunk = captured as string;
      parts.push(chunk);
      this.pos += chunk.length;
      const c = this.peek();
      if (c === '"') {
        this.pos++;
        return table.concat(parts);
      }
      if (c !== "\\") this.fail(c === "" ? "unterminated string" : "control character in string");
      const e = string.sub(this.s, this.pos + 1, this.pos + 1);
      this.pos += 2;
      const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
      if (simple[e] !== undefined) parts.push(simple[e]);
      else if (e === "u") parts.push(this.unicodeEscape());
      else this.fail("bad escape");
    }
  }

  hex4(): number {
    const h = string.sub(this.s, this.pos, this.pos + 3);
    const [ok] = string.find(h, "^%x%x%x%x$");
    if (ok === undefined) this.fail("bad \\u escape");
    this.pos += 4;
    return tonumber(h, 16) as number;
  }

  unicodeEscape(): string {
    let cp = this.hex4();
    // A lone surrogate is not a character: it has no UTF-8 form.
    if (cp >= 0xdc00 && cp <= 0xdfff) this.fail("lone surrogate");
    if (cp >= 0xd800 && cp <= 0xdbff) {
      if (string.sub(this.s, this.pos, this.pos + 1) !== "\\u") this.fail("lone surrogate");
      this.pos += 2;
      const low = this.hex4();
      if (low < 0xdc00 || low > 0xdfff) this.fail("lone surrogate");
      cp = 0x10000 + (cp - 0xd800) * 1024 + (low - 0xdc00);
    }
    return utf8(cp);
  }

  array(depth: number): unknown[] {
    const out: unknown[] = [];
    this.pos++;
    this.skipSpace();
    if (this.peek() === "]") {
      this.pos++;
      return out;
    }
    for (;;) {
      const v = this.value(depth + 1);
      // null elements would leave holes in a Lua array; no method takes them.
      if (v === undefined) this.fail("null in array");
      out.push(v);
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c === "]") return out;
      if (c !== ",") this.fail("expected , or ]");
    }
  }

  object(depth: number): Record<string, unknown> {
    const out = asObject({} as Record<string, unknown>);
    this.pos++;
    this.skipSpace();
    if (this.peek() === "}") {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      if (this.peek() !== '"') this.fail("expected a key");
      const k = this.str();
      if (depth === 0) this.topKey = k;
      this.skipSpace();
      if (this.peek() !== ":") this.fail("expected :");
      this.pos++;
      out[k] = this.value(depth + 1);
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c === "}") return out;
      if (c !== ",") this.fail("expected , or }");
    }
  }
}

function utf8(cp: number): string {
  if (cp < 0x80) return string.char(cp);
  if (cp < 0x800) return string.char(0xc0 + Math.floor(cp / 64), 0x80 + (cp % 64));
  if (cp < 0x10000) {
    return string.char(0xe0 + Math.floor(cp / 4096), 0x80 + (Math.floor(cp / 64) % 64), 0x80 + (cp % 64));
  }
  return string.char(
    0xf0 + Math.floor(cp / 262144),
    0x80 + (Math.floor(cp / 4096) % 64),
    0x80 + (Math.floor(cp / 64) % 64),
    0x80 + (cp % 64),
  );
}

/** True for a table decoded from a JSON object (even an empty one), false for an array. */
export function isObject(v: unknown): boolean {
  if (type(v) !== "table") return false;
  return objectTables.get(v as object) === true;
}

/**
 * Parses one JSON document; returns [value] or [undefined, message, key], where key is the
 * top-level object's key whose value was being read when it failed.
 */
export function decode(s: string): LuaMultiReturn<[unknown, string | undefined, string | undefined]> {
  const d = new Decoder(s);
  const [ok, result] = pcall(() => {
    const v = d.value(0);
    d.skipSpace();
    if (d.pos <= s.length) d.fail("trailing data");
    return v;
  });
  if (ok) return $multi(result, undefined, undefined);
  const err = result as unknown as { jsonError?: string };
  return $multi(undefined, type(err) === "table" && err.jsonError !== undefined ? err.jsonError : tostring(result), d.topKey);
}
