// LuCI's binary translation catalog, the .lmo file ("Lua Machine Objects"), as LuCI's
// po2lmo writes it and its runtime (luci.core: lmo.c) reads it. Layout, all integers
// big-endian 32-bit:
//
//   the strings, each padded with NULs to a multiple of 4 bytes, not NUL-terminated;
//   the index: one (key, val_id, offset, length) entry per string, sorted by key;
//   the offset of the index.
//
// A key is the SuperFastHash (sfh) of "msgid", "msgctxt\1msgid", "msgid\2n" or
// "msgctxt\1msgid\2n" for plural form n; key 0 holds the catalog's Plural-Forms
// expression ("nplurals=1; plural=0;"). val_id is the message's number of plural forms
// (1 for a plain message; 0 for key 0).

/** Paul Hsieh's SuperFastHash as LuCI uses it: seeded with the length, remainder bytes as signed chars. */
export function sfh(bytes) {
  let len = bytes.length;
  if (len === 0) return 0;
  const u16 = (i) => bytes[i] | (bytes[i + 1] << 8);
  const s8 = (i) => (bytes[i] << 24) >> 24;
  let hash = len;
  let i = 0;
  for (let n = len >>> 2; n > 0; n--, i += 4) {
    hash = (hash + u16(i)) >>> 0;
    const tmp = ((u16(i + 2) << 11) ^ hash) >>> 0;
    hash = ((hash << 16) ^ tmp) >>> 0;
    hash = (hash + (hash >>> 11)) >>> 0;
  }
  switch (len & 3) {
    case 3:
      hash = (hash + u16(i)) >>> 0;
      hash = (hash ^ (hash << 16)) >>> 0;
      hash = (hash ^ (s8(i + 2) << 18)) >>> 0;
      hash = (hash + (hash >>> 11)) >>> 0;
      break;
    case 2:
      hash = (hash + u16(i)) >>> 0;
      hash = (hash ^ (hash << 11)) >>> 0;
      hash = (hash + (hash >>> 17)) >>> 0;
      break;
    case 1:
      hash = (hash + s8(i)) >>> 0;
      hash = (hash ^ (hash << 10)) >>> 0;
      hash = (hash + (hash >>> 1)) >>> 0;
  }
  hash = (hash ^ (hash << 3)) >>> 0;
  hash = (hash + (hash >>> 5)) >>> 0;
  hash = (hash ^ (hash << 4)) >>> 0;
  hash = (hash + (hash >>> 17)) >>> 0;
  hash = (hash ^ (hash << 25)) >>> 0;
  hash = (hash + (hash >>> 6)) >>> 0;
  return hash;
}

/** The string a message is hashed by (as po2lmo builds it: from the .po text, not normalised). */
export function keyString(msgid, ctxt, plural) {
  return (ctxt != null ? ctxt + "\x01" : "") + msgid + (plural != null ? "\x02" + plural : "");
}

/**
 * The key a lookup uses (lmo_canon_hash): context and msgid with runs of whitespace
 * collapsed to one space and leading and trailing whitespace dropped. The extracted
 * msgids are already in this form, so it gives the keys po2lmo wrote.
 */
export function lookupKey(msgid, ctxt, plural) {
  const canon = (s) => s.replace(/[ \t\n\v\f\r]+/g, " ").replace(/^ | $/g, "");
  return sfh(Buffer.from(keyString(canon(msgid), ctxt != null ? canon(ctxt) : null, plural)));
}

const pad4 = (n) => (4 - (n % 4)) % 4;

/**
 * The .lmo of `entries` ({ key, valId, value }, in the order their strings are to be
 * written; po2lmo writes them in .po order).
 */
export function writeLmo(entries) {
  const seen = new Map();
  for (const e of entries) {
    if (seen.has(e.key)) throw new Error(`two catalog strings share the key ${hex(e.key)}: ${JSON.stringify(seen.get(e.key))} and ${JSON.stringify(e.value)}`);
    seen.set(e.key, e.value);
  }
  const parts = [];
  const index = [];
  let offset = 0;
  for (const e of entries) {
    const bytes = Buffer.from(e.value);
    index.push({ ...e, offset, length: bytes.length });
    parts.push(bytes, Buffer.alloc(pad4(bytes.length)));
    offset += bytes.length + pad4(bytes.length);
  }
  index.sort((a, b) => a.key - b.key);
  const tail = Buffer.alloc(index.length * 16 + 4);
  index.forEach((e, i) => {
    tail.writeUInt32BE(e.key, i * 16);
    tail.writeUInt32BE(e.valId, i * 16 + 4);
    tail.writeUInt32BE(e.offset, i * 16 + 8);
    tail.writeUInt32BE(e.length, i * 16 + 12);
  });
  tail.writeUInt32BE(offset, index.length * 16);
  return Buffer.concat([...parts, tail]);
}

/** The entries of an .lmo in index order ({ key, valId, value }), as lmo_iterate walks them. */
export function readLmo(buf) {
  const at = buf.readUInt32BE(buf.length - 4);
  if (at >= buf.length || (buf.length - 4 - at) % 16) throw new Error("not an .lmo file (bad index offset)");
  const out = [];
  for (let p = at; p < buf.length - 4; p += 16) {
    const offset = buf.readUInt32BE(p + 8);
    const length = buf.readUInt32BE(p + 12);
    if (offset + length > at) throw new Error("not an .lmo file (string outside the data)");
    out.push({ key: buf.readUInt32BE(p), valId: buf.readUInt32BE(p + 4), value: buf.toString("utf8", offset, offset + length) });
  }
  return out;
}

/** A key as LuCI's translation table (window.TR) writes it: 8 lowercase hex digits. */
export const hex = (key) => key.toString(16).padStart(8, "0");
