// Packs build/root into dist/<Package>_<Version>_<Architecture>.ipk without the OpenWrt
// SDK, in the layout OpenWrt's scripts/ipkg-build writes (platform.md §5):
//
//   gzip -n ( GNU tar: ./debian-binary "2.0\n", ./data.tar.gz, ./control.tar.gz )
//
// data.tar.gz is the tree with a leading "./" entry and control.tar.gz the CONTROL files
// (control, postinst, prerm, postinst-pkg, prerm-pkg, postrm), each a GNU tar
// with names sorted per directory, owner 0:0 as numbers, no user/group names, and one
// mtime: SOURCE_DATE_EPOCH, else the last commit's time, else 0. The tars are written
// here (byte for byte what `tar --format=gnu --numeric-owner --sort=name` makes; the
// tests compare against GNU tar) and compressed by `gzip -n` like ipkg-build does.
// Modes are set here, not taken from the builder's umask: directories 0755, executables
// 0755 (anything with an exec bit, and everything in the EXEC_DIRS), other files 0644.
//
// usage: node scripts/build-ipk.mjs [--root build/root] [--out dist] [--quiet]
import { execFileSync } from "node:child_process";
import { chmodSync, lstatSync, readdirSync, readFileSync, writeFileSync, renameSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dirname, "..");
const IPK = join(REPO, "scripts/ipk");
/** Installed files here must run, whatever mode the checkout gave them. */
const EXEC_DIRS = ["usr/libexec/rpcd/", "etc/init.d/", "usr/bin/", "usr/sbin/", "etc/uci-defaults/"];
/** Control members besides `control`, with their mode. */
const SCRIPTS = ["postinst", "postinst-pkg", "prerm", "prerm-pkg", "postrm"];

function parseArgs(argv) {
  const opts = { root: join(REPO, "build/root"), out: join(REPO, "dist"), quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--root") opts.root = resolve(argv[++i]);
    else if (a === "--out") opts.out = resolve(argv[++i]);
    else if (a === "--quiet") opts.quiet = true;
    else throw new Error(`unknown argument ${a}\nusage: build-ipk.mjs [--root DIR] [--out DIR] [--quiet]`);
  }
  return opts;
}

function sourceDateEpoch() {
  const env = process.env.SOURCE_DATE_EPOCH;
  if (env !== undefined && env !== "") {
    if (!/^\d+$/.test(env)) throw new Error(`SOURCE_DATE_EPOCH must be whole seconds, got "${env}"`);
    return Number(env);
  }
  try {
    const out = execFileSync("git", ["log", "-1", "--format=%ct"], { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    if (/^\d+\s*$/.test(out)) return Number(out);
  } catch {
    // not a git checkout (e.g. a source tarball): fall through
  }
  return 0;
}

// ---- GNU tar ------------------------------------------------------------------------

const BLOCK = 512;
const RECORD = 20 * BLOCK; // GNU tar's default blocking factor: archives end on 10240 bytes

/** An octal number field as GNU tar writes it: zero-padded digits and a NUL. */
function octal(buf, offset, width, value) {
  const digits = value.toString(8).padStart(width - 1, "0");
  if (digits.length > width - 1) throw new Error(`tar: ${value} does not fit a ${width}-byte field`);
  buf.write(digits + "\0", offset, width, "ascii");
}

/** One GNU-format header: regular file ('0') or directory ('5'), owner 0:0, no names. */
function header(name, mode, size, type, mtime) {
  const nameBytes = Buffer.from(name, "utf8");
  if (nameBytes.length > 100) throw new Error(`tar: name longer than 100 bytes: ${name}`);
  const h = Buffer.alloc(BLOCK);
  nameBytes.copy(h, 0);
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, size);
  octal(h, 136, 12, mtime);
  h.write(type, 156, 1, "ascii");
  h.write("ustar  \0", 257, 8, "ascii"); // GNU magic + version; uname/gname stay empty (--numeric-owner)
  h.fill(0x20, 148, 156); // checksum is computed over spaces in its own field
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "ascii");
  return h;
}

/**
 * A GNU tar of entries [{name, mode, data?}] in the given order (data undefined for a
 * directory): headers, contents padded to 512 bytes, two zero blocks, padded to a record.
 */
export function tar(entries, mtime) {
  const parts = [];
  for (const e of entries) {
    const isDir = e.data === undefined;
    parts.push(header(e.name, e.mode, isDir ? 0 : e.data.length, isDir ? "5" : "0", mtime));
    if (!isDir) {
      parts.push(e.data);
      const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  const length = parts.reduce((n, p) => n + p.length, 0);
  const tail = (RECORD - (length % RECORD)) % RECORD;
  if (tail) parts.push(Buffer.alloc(tail));
  return Buffer.concat(parts);
}

const byteOrder = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * The tree under `dir` in `tar --sort=name -C dir .` order: "./" first, then each
 * directory's entries sorted by name (bytewise), depth first; directories end in "/".
 */
export function walk(dir) {
  const entries = [{ name: "./", path: dir, mode: 0o755, data: undefined }];
  const visit = (abs, rel) => {
    for (const name of readdirSync(abs).sort(byteOrder)) {
      const path = join(abs, name);
      const relName = rel + name;
      const st = lstatSync(path);
      if (st.isDirectory()) {
        entries.push({ name: `./${relName}/`, path, mode: 0o755, data: undefined });
        visit(path, `${relName}/`);
      } else if (st.isFile()) {
        const exec = (st.mode & 0o111) !== 0 || EXEC_DIRS.some((d) => relName.startsWith(d));
        entries.push({ name: `./${relName}`, path, mode: exec ? 0o755 : 0o644, data: readFileSync(path) });
      } else {
        throw new Error(`${path}: only regular files and directories can be packaged`);
      }
    }
  };
  visit(dir, "");
  return entries;
}

function gzip(data) {
  return execFileSync("gzip", ["-n", "-c"], { input: data, maxBuffer: 256 << 20 });
}

// ---- control ------------------------------------------------------------------------

/** control from the template: version and license from package.json, the real size. */
function controlFile(pkgJson, installedSize) {
  const text = readFileSync(join(IPK, "control"), "utf8")
    .replace("@VERSION@", pkgJson.version)
    .replace("@LICENSE@", pkgJson.license)
    .replace(/^Installed-Size: .*$/m, `Installed-Size: ${installedSize}`);
  // package-pack.mk prints "Description: " and then every description line with its
  // leading whitespace turned into one space.
  const [head, desc] = text.split(/^Description:/m);
  const lines = desc.replace(/\n+$/, "").split("\n").map((l) => l.replace(/^\s*/, " "));
  const control = `${head}Description: ${lines.join("\n")}\n`;
  const field = (k) => new RegExp(`^${k}: (.*)$`, "m").exec(control)?.[1];
  for (const k of ["Package", "Version", "Architecture"]) {
    if (!field(k) || field(k).includes("@")) throw new Error(`control: ${k} is missing or unfilled`);
  }
  if (/[^a-zA-Z0-9_.+-]/.test(field("Package"))) throw new Error(`control: illegal package name ${field("Package")}`);
  return { control, pkg: field("Package"), version: field("Version"), arch: field("Architecture") };
}

// ---- main ---------------------------------------------------------------------------

export function buildIpk({ root, out, quiet }) {
  const pkgJson = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
  const mtime = sourceDateEpoch();
  try {
    lstatSync(join(root, "usr/libexec/rpcd/wgmgr"));
  } catch {
    throw new Error(`${root} has no usr/libexec/rpcd/wgmgr: run make first`);
  }

  const dataTar = tar(walk(root), mtime);
  const { control, pkg, version, arch } = controlFile(pkgJson, dataTar.length);

  const controlEntries = [{ name: "./", mode: 0o755, data: undefined }];
  const members = { control: { mode: 0o644, data: Buffer.from(control) } };
  // No conffiles: wgmgr ships no config file. The plugin creates /etc/config/wgmgr on
  // its first write, so an upgrade never has a shipped default to fight the user's copy.
  for (const s of SCRIPTS) members[s] = { mode: 0o755, data: readFileSync(join(IPK, s)) };
  for (const name of Object.keys(members).sort(byteOrder)) controlEntries.push({ name: `./${name}`, ...members[name] });
  const controlTar = tar(controlEntries, mtime);

  // ipkg-build names these three on tar's command line, so they keep this order.
  const ipk = gzip(
    tar(
      [
        { name: "./debian-binary", mode: 0o644, data: Buffer.from("2.0\n") },
        { name: "./data.tar.gz", mode: 0o644, data: gzip(dataTar) },
        { name: "./control.tar.gz", mode: 0o644, data: gzip(controlTar) },
      ],
      mtime,
    ),
  );

  mkdirSync(out, { recursive: true });
  const file = join(out, `${pkg}_${version}_${arch}.ipk`);
  // Older versions of this package in the output directory would make
  // `opkg install ./luci-app-wgmgr_*.ipk` ambiguous.
  for (const old of readdirSync(out)) {
    if (old.startsWith(`${pkg}_`) && old.endsWith(`_${arch}.ipk`) && join(out, old) !== file) rmSync(join(out, old));
  }
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, ipk);
  chmodSync(tmp, 0o644);
  renameSync(tmp, file);
  if (!quiet) console.log(`Packaged ${root} into ${file} (${ipk.length} bytes, SOURCE_DATE_EPOCH=${mtime})`);
  return file;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  try {
    buildIpk(parseArgs(process.argv.slice(2)));
  } catch (e) {
    console.error(`build-ipk: ${e.message}`);
    process.exit(1);
  }
}
