// Reads an APKv3 package the way apk-tools 3 does (doc/apk-v3.5.scd, src/adb.c,
// src/apk_adb.c, src/extract_v3.c): the compression prefix, the "ADB." header and schema,
// the blocks, the ADB block's tree by the package schema, and every DATA block checked
// against its file's size and hash. Anything apk would refuse, or that a router without
// unaligned access could not read in place, is an error. Used by `make size` and the
// package tests; written independently of write.mjs, so the tests check the writer rather
// than agree with it. Node built-ins only.
import { createHash } from "node:crypto";
import { inflateRawSync } from "node:zlib";

// ---- the package schema (apk_adb.c): each object's fields in slot order (slot 1 first)

const STRING = "string";
const INT = "int";
const HEX = "hex"; // bytes, shown as hex
const array = (item) => ({ array: item });
const object = (...fields) => ({ fields });

const DEPENDENCY = object(["name", STRING], ["version", STRING], ["match", INT]);
const ACL = object(["mode", INT], ["user", STRING], ["group", STRING], ["xattrs", array(HEX)]);
const FILE = object(["name", STRING], ["acl", ACL], ["size", INT], ["mtime", INT], ["hash", HEX], ["target", HEX]);
const DIR = object(["name", STRING], ["acl", ACL], ["files", array(FILE)]);
const DEPS = array(DEPENDENCY);
const PKGINFO = object(
  ["name", STRING], ["version", STRING], ["hashes", HEX], ["description", STRING], ["arch", STRING],
  ["license", STRING], ["origin", STRING], ["maintainer", STRING], ["url", STRING], ["repo-commit", HEX],
  ["build-time", INT], ["installed-size", INT], ["file-size", INT], ["provider-priority", INT],
  ["depends", DEPS], ["provides", DEPS], ["replaces", DEPS], ["install-if", DEPS], ["recommends", DEPS],
  ["layer", INT], ["tags", array(STRING)],
);
const SCRIPTS = object(...["trigger", "pre-install", "post-install", "pre-deinstall", "post-deinstall", "pre-upgrade", "post-upgrade"].map((s) => [s, STRING]));
const PACKAGE = object(["info", PKGINFO], ["paths", array(DIR)], ["scripts", SCRIPTS], ["triggers", array(STRING)], ["replaces-priority", INT]);

// ---- values: a u32 tag, type in the top 4 bits, a number or an offset in the other 28

const T_SPECIAL = 0x0;
const T_INT = 0x1;
const T_INT32 = 0x2;
const T_INT64 = 0x3;
const T_BLOB = { 0x8: 1, 0x9: 2, 0xa: 4 }; // blob types by the width of their length
const T_ARRAY = 0xd;
const T_OBJECT = 0xe;

/** The tree under `val` in the ADB block `adb`, read by `kind`; null values are undefined. */
function decode(adb, val, kind, where) {
  const type = val >>> 28;
  const at = val & 0x0fffffff;
  const need = (size, align) => {
    if (at % align) throw new Error(`${where}: data at ${at} is not ${align}-byte aligned`);
    if (at + size > adb.length) throw new Error(`${where}: data at ${at} runs past the ADB block`);
  };
  if (type === T_SPECIAL) {
    if (at !== 0) throw new Error(`${where}: special value ${at} where a ${kind.fields ? "object" : kind.array ? "array" : kind} belongs`);
    return undefined;
  }
  if (kind === INT) {
    if (type === T_INT) return at;
    if (type === T_INT32) {
      need(4, 4);
      return adb.readUInt32LE(at);
    }
    if (type === T_INT64) {
      need(8, 4);
      return Number(adb.readBigUInt64LE(at));
    }
  } else if (kind === STRING || kind === HEX) {
    const width = T_BLOB[type];
    if (width) {
      need(width, width);
      const len = adb.readUIntLE(at, width);
      need(width + len, 1);
      const bytes = adb.subarray(at + width, at + width + len);
      return kind === STRING ? bytes.toString("utf8") : bytes.toString("hex");
    }
  } else if ((kind.fields || kind.array) && (type === T_OBJECT || type === T_ARRAY)) {
    // apk reads either tag as either (adb_r_obj); apk mkpkg tags its arrays as objects
    need(4, 4);
    const count = adb.readUInt32LE(at); // the slots, this one included
    if (count < 1) throw new Error(`${where}: empty slot list`);
    need(4 * count, 4);
    const slots = Array.from({ length: count - 1 }, (_, i) => adb.readUInt32LE(at + 4 * (i + 1)));
    if (kind.array) return slots.map((v, i) => decode(adb, v, kind.array, `${where}[${i + 1}]`));
    if (slots.length > kind.fields.length) throw new Error(`${where}: ${slots.length} slots, the schema has ${kind.fields.length}`);
    const obj = {};
    slots.forEach((v, i) => {
      const [name, fieldKind] = kind.fields[i];
      const value = decode(adb, v, fieldKind, `${where}.${name}`);
      if (value !== undefined) obj[name] = value;
    });
    return obj;
  }
  throw new Error(`${where}: value of type 0x${type.toString(16)} where a ${kind.fields ? "object" : kind.array ? "array" : kind} belongs`);
}

// ---- the container

const BLOCK_TYPES = ["adb", "sig", "data", "ext"];
const DIGESTS = { 16: "md5", 20: "sha1", 32: "sha256", 64: "sha512" }; // apk tells them by length

/** apk's dependency string: name, or name<op>version, "!" for a conflict. */
function dependencyString(dep) {
  const match = dep.match ?? 1; // APK_VERSION_EQUAL
  const ops = { 1: "=", 2: "<", 3: "<=", 4: ">", 5: ">=", 9: "~" }; // EQUAL 1, LESS 2, GREATER 4, FUZZY 8
  const not = match & 16 ? "!" : "";
  return dep.version === undefined ? not + dep.name : `${not}${dep.name}${ops[match & 15] ?? "?"}${dep.version}`;
}

/**
 * The package in `buf`: { compression, schema, blocks: [{ type, offset, length }] (offsets
 * in the uncompressed stream), adb (the ADB block), pkg (the decoded tree), info (pkg.info
 * with depends etc. as strings), scripts, dirs: [{ path, mode, user, group }],
 * files: [{ path, mode, user, group, size, mtime, hash, target, data }] } in package order.
 */
export function readApk(buf) {
  if (buf.length < 4 || buf.toString("latin1", 0, 3) !== "ADB") throw new Error("not an APKv3 package (no ADB magic)");
  const comp = String.fromCharCode(buf[3]);
  let stream;
  if (comp === ".") stream = buf; // uncompressed: the prefix is the header itself
  else if (comp === "d") stream = inflateRawSync(buf.subarray(4));
  else throw new Error(`unsupported compression "${comp}"`);
  if (stream.toString("latin1", 0, 4) !== "ADB.") throw new Error("no ADB. header");
  const schema = stream.toString("latin1", 4, 8);

  const blocks = [];
  for (let off = 8; off < stream.length; ) {
    if (off + 4 > stream.length) throw new Error(`truncated block header at ${off}`);
    const word = stream.readUInt32LE(off);
    const type = BLOCK_TYPES[word >>> 30];
    const raw = word & 0x3fffffff; // header included
    if (type === "ext") throw new Error(`extended block at ${off} (only for blocks over 1 GiB)`);
    if (raw < 4) throw new Error(`block at ${off} shorter than its header`);
    const padded = Math.ceil(raw / 8) * 8;
    if (off + padded > stream.length) throw new Error(`block at ${off} runs past the end`);
    if (stream.subarray(off + raw, off + padded).some((b) => b !== 0)) throw new Error(`block at ${off}: padding is not zeros`);
    blocks.push({ type, offset: off, length: raw - 4, payload: stream.subarray(off + 4, off + raw) });
    off += padded;
  }
  // one ADB block first, then signatures, then data (adb.c's `allowed` mask)
  const order = blocks.map((b) => b.type).join(" ");
  if (!/^adb( sig)*( data)*$/.test(order)) throw new Error(`blocks in the wrong order: ${order}`);

  const adb = blocks[0].payload;
  if (adb.length < 8) throw new Error("ADB block shorter than its header");
  if (adb[0] !== 0) throw new Error(`ADB compat version ${adb[0]}, apk reads 0`);
  if (schema !== "pckg") throw new Error(`schema "${schema}" is not a package`);
  const pkg = decode(adb, adb.readUInt32LE(4), PACKAGE, "package");
  if (!pkg?.info?.name || !pkg.info.version) throw new Error("package without name or version");

  const dirs = [];
  const files = [];
  (pkg.paths ?? []).forEach((dir, d) => {
    const path = dir.name ?? "";
    dirs.push({ path, mode: dir.acl?.mode, user: dir.acl?.user, group: dir.acl?.group });
    (dir.files ?? []).forEach((f, i) => {
      if (!f.name || f.name.includes("/")) throw new Error(`${path}: bad file name "${f.name}"`);
      if (f.target === undefined && !DIGESTS[(f.hash?.length ?? 0) / 2]) throw new Error(`${path}/${f.name}: regular file without a hash`);
      files.push({
        path: path ? `${path}/${f.name}` : f.name, index: [d + 1, i + 1],
        mode: f.acl?.mode, user: f.acl?.user, group: f.acl?.group, size: f.size ?? 0, mtime: f.mtime ?? 0, hash: f.hash, target: f.target,
        data: Buffer.alloc(0),
      });
    });
  });

  // extract_v3.c: one DATA block per non-empty regular file, in package order, each
  // naming its file and holding exactly its size, hashed as the file entry says.
  const expected = files.filter((f) => f.size > 0 && f.target === undefined);
  const data = blocks.filter((b) => b.type === "data");
  if (data.length !== expected.length) throw new Error(`${data.length} data blocks for ${expected.length} non-empty files`);
  data.forEach((b, n) => {
    const f = expected[n];
    const [d, i] = [b.payload.readUInt32LE(0), b.payload.readUInt32LE(4)];
    if (d !== f.index[0] || i !== f.index[1]) throw new Error(`data block ${n + 1} is for file ${d}/${i}, expected ${f.path} (${f.index.join("/")})`);
    f.data = b.payload.subarray(8);
    if (f.data.length !== f.size) throw new Error(`${f.path}: ${f.data.length} bytes of data, the entry says ${f.size}`);
  });
  for (const f of files) {
    if (f.target !== undefined) continue;
    const got = createHash(DIGESTS[f.hash.length / 2]).update(f.data).digest("hex");
    if (got !== f.hash) throw new Error(`${f.path}: ${DIGESTS[f.hash.length / 2]} ${got}, the entry says ${f.hash}`);
  }

  const info = { ...pkg.info };
  for (const k of ["depends", "provides", "replaces", "install-if", "recommends"]) if (info[k]) info[k] = info[k].map(dependencyString);
  return {
    compression: comp === "d" ? "deflate" : "none",
    schema,
    blocks: blocks.map(({ type, offset, length }) => ({ type, offset, length })),
    adb,
    pkg,
    info,
    scripts: pkg.scripts ?? {},
    dirs,
    files: files.map(({ index, ...f }) => f),
  };
}
