// Writes an APKv3 package, the format of apk-tools 3 (OpenWrt 25.12's package manager),
// as `apk mkpkg` lays it out (apk-tools doc/apk-v3.5.scd, src/adb.h, src/apk_adb.h,
// src/app_mkpkg.c):
//
//   "ADBd" raw-deflate( "ADB." "pckg" ADB-block DATA-block... )
//
// Blocks start with a little-endian u32 (type << 30 | 4 + payload length) and are padded
// with zeros to 8 bytes. The ADB block is an 8-byte header (compat version 0, version 0,
// reserved, root value) and then values: u32 tags of type << 28 | value, where the value
// is the number itself (small ints, null = 0) or the offset in the ADB block of its data:
// an int32/int64, a blob with an 8/16/32-bit length, an array or object (a u32 count of
// slots, itself included, then the slots). Data is aligned to its word size, so
// routers that cannot read unaligned words can use it in place. The root object is the
// package: its info (name, version, ...), the directories with their files (mode, owner,
// size, mtime, SHA-256 of the content) and the scripts. One DATA block per non-empty file
// follows, in the same order, each starting with the (1-based) directory and file index.
// No SIG block: the package is unsigned (apk add --allow-untrusted).
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";

const SCHEMA_PACKAGE = "pckg";
const BLOCK_ADB = 0;
const BLOCK_DATA = 2;

const INT = 0x1;
const INT32 = 0x2;
const INT64 = 0x3;
const BLOB8 = 0x8;
const BLOB16 = 0x9;
const BLOB32 = 0xa;
const ARRAY = 0xd;
const OBJECT = 0xe;
const NULL = 0;

/** Slot order of the objects the package uses (ADBI_* in apk_adb.h). */
const PKGINFO = ["name", "version", "hashes", "description", "arch", "license", "origin", "maintainer", "url", "repo-commit", "build-time", "installed-size", "file-size", "provider-priority", "depends"];
const SCRIPTS = ["trigger", "pre-install", "post-install", "pre-deinstall", "post-deinstall", "pre-upgrade", "post-upgrade"];

const tag = (type, value) => (type * 2 ** 28 + value) >>> 0;
const u32 = (n) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

/** The ADB block's contents, appended to as values are written; equal data is stored once, as apk does. */
class Adb {
  #parts = [Buffer.alloc(8)]; // the header; its root is filled in by finish()
  #length = 8;
  #stored = new Map();

  #store(bytes, align, shared = true) {
    const key = `${align}:${bytes.toString("latin1")}`;
    if (shared && this.#stored.has(key)) return this.#stored.get(key);
    const pad = (align - (this.#length % align)) % align;
    if (pad) this.#parts.push(Buffer.alloc(pad));
    const offset = this.#length + pad;
    this.#parts.push(bytes);
    this.#length = offset + bytes.length;
    if (shared) this.#stored.set(key, offset);
    return offset;
  }

  /** A string or bytes; empty is null. `shared: false` keeps it apart (to be patched later). */
  blob(value, { shared = true } = {}) {
    const data = Buffer.from(value);
    if (data.length === 0) return NULL;
    const [type, width] = data.length <= 0xff ? [BLOB8, 1] : data.length <= 0xffff ? [BLOB16, 2] : [BLOB32, 4];
    const len = Buffer.alloc(width);
    len.writeUIntLE(data.length, 0, width);
    return tag(type, this.#store(Buffer.concat([len, data]), width, shared));
  }

  int(n) {
    if (n < 0x10000000) return tag(INT, n);
    if (n < 2 ** 32) return tag(INT32, this.#store(u32(n), 4));
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return tag(INT64, this.#store(b, 4));
  }

  /** Slots 1..n (trailing nulls dropped); null when all are. */
  #slots(type, values) {
    let n = values.length;
    while (n > 0 && values[n - 1] === NULL) n--;
    if (n === 0) return NULL;
    return tag(type, this.#store(Buffer.concat([u32(n + 1), ...values.slice(0, n).map(u32)]), 4));
  }

  object(values) {
    return this.#slots(OBJECT, values);
  }

  /** The spec's array type (apk mkpkg tags its arrays as objects; apk reads either); nulls are left out, as apk does. */
  array(values) {
    return this.#slots(ARRAY, values.filter((v) => v !== NULL));
  }

  /** The block's contents with `root` as the root value. */
  finish(root) {
    this.#parts[0].writeUInt32LE(root, 4);
    return Buffer.concat(this.#parts);
  }
}

function block(type, payload) {
  const length = 4 + payload.length;
  const pad = (8 - (length % 8)) % 8;
  return Buffer.concat([u32(type * 2 ** 30 + length), payload, Buffer.alloc(pad)]);
}

/**
 * Raw deflate by `gzip -n -9` (the gzip wrapper cut off), not Node's zlib: Node bundles
 * Chromium's zlib, whose output differs from zlib's and changes with the Node version,
 * while gzip's has been the same for decades, so the .apk is reproducible anywhere.
 * Level 9 is what apk mkpkg uses.
 */
function deflateRaw(data) {
  const gz = execFileSync("gzip", ["-n", "-9", "-c"], { input: data, maxBuffer: 256 << 20 });
  if (gz[0] !== 0x1f || gz[1] !== 0x8b || gz[2] !== 8 || gz[3] !== 0) throw new Error("gzip -n wrote an unexpected header");
  return gz.subarray(10, gz.length - 8); // 10-byte header (no name), 8-byte CRC32 + size trailer
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.+-]*$/;
const byBytes = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));
/** apk's version syntax (apk_version_validate), e.g. 1.2.3-r1, 2.0_rc1-r0. */
const VERSION = /^[0-9]+(\.[0-9]+)*[a-z]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*)*(~[0-9a-f]+)?(-r[0-9]+)?$/;

/**
 * The .apk of a package:
 *   info: { name, version, description, arch, license, origin, url, maintainer, depends: [name, ...] }
 *   files: [{ path: "usr/bin/x" (no leading "/"), mode, data }], directories as { path, mode } without data,
 *          "" for the root; owned by root:root; every parent directory must be listed
 *   scripts: { "post-install": text, ... } (apk's script names)
 *   mtime: every file's mtime
 * installed-size is the sum of the file sizes and the unique id (info "hashes") is the
 * first 20 bytes of the SHA-256 of the ADB block with the id zeroed, as apk mkpkg makes them.
 */
export function writeApk({ info, files, scripts, mtime }) {
  for (const name of [info.name, ...info.depends]) {
    // (a versioned dependency, "b>=1", would need its version and operator stored apart)
    if (!NAME.test(name)) throw new Error(`apk: "${name}" is not a package name`);
  }
  if (!VERSION.test(info.version)) throw new Error(`apk: "${info.version}" is not an apk version (like 1.0-r1)`);
  for (const s of Object.keys(scripts)) if (!SCRIPTS.includes(s)) throw new Error(`apk: unknown script ${s}`);

  // Directories sorted by path and files by name, bytewise (apk looks them up by bisection).
  const dirs = files.filter((f) => f.data === undefined).sort((a, b) => byBytes(a.path, b.path));
  const parent = (p) => p.slice(0, Math.max(p.lastIndexOf("/"), 0));
  const homeless = files.find((f) => f.data !== undefined && !dirs.some((d) => d.path === parent(f.path)));
  if (homeless) throw new Error(`apk: ${homeless.path} has no directory entry`);

  const adb = new Adb();
  const acl = (mode) => adb.object([adb.int(mode), adb.blob("root"), adb.blob("root")]);
  const content = []; // [directory index, file index, data] of each non-empty file, in package order
  let installedSize = 0;
  const paths = dirs.map((dir, d) => {
    const inDir = files.filter((f) => f.data !== undefined && parent(f.path) === dir.path).sort((a, b) => byBytes(a.path, b.path));
    const entries = inDir.map((f, i) => {
      if (f.data.length) content.push([d + 1, i + 1, f.data]);
      installedSize += f.data.length;
      const name = f.path.slice(dir.path ? dir.path.length + 1 : 0);
      const hash = createHash("sha256").update(f.data).digest();
      return adb.object([adb.blob(name), acl(f.mode), adb.int(f.data.length), adb.int(mtime), adb.blob(hash)]);
    });
    return adb.object([adb.blob(dir.path), acl(dir.mode), adb.array(entries)]);
  });

  const depends = [...new Set(info.depends)].sort(byBytes).map((name) => adb.object([adb.blob(name)]));
  const uid = adb.blob(Buffer.alloc(20), { shared: false });
  const fields = {
    ...info,
    hashes: uid,
    // at least 1, as apk mkpkg writes it
    "installed-size": adb.int(Math.max(installedSize, 1)),
    depends: adb.array(depends),
  };
  const pkginfo = adb.object(
    PKGINFO.map((k) => {
      const v = fields[k];
      return v === undefined ? NULL : typeof v === "string" ? adb.blob(v) : v;
    }),
  );
  const scriptsObj = adb.object(SCRIPTS.map((s) => (scripts[s] === undefined ? NULL : adb.blob(scripts[s]))));
  const data = adb.finish(adb.object([pkginfo, adb.array(paths), scriptsObj]));

  // The unique id: hash with the 20 zero bytes in place, then put it there.
  const idAt = (uid & 0x0fffffff) + 1; // after the blob's length byte
  createHash("sha256").update(data).digest().copy(data, idAt, 0, 20);

  const container = Buffer.concat([
    Buffer.from("ADB." + SCHEMA_PACKAGE, "latin1"),
    block(BLOCK_ADB, data),
    ...content.map(([d, f, bytes]) => block(BLOCK_DATA, Buffer.concat([u32(d), u32(f), bytes]))),
  ]);
  return Buffer.concat([Buffer.from("ADBd", "latin1"), deflateRaw(container)]);
}
