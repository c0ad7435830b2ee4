// Packs each package's tree (build/root, build/i18n-root: PACKAGES in package.mjs) into
// dist/<Package>_<Version>_<Architecture>.ipk without the OpenWrt SDK, in the layout
// OpenWrt's scripts/ipkg-build writes (platform.md §5):
//
//   gzip -n ( GNU tar: ./debian-binary "2.0\n", ./data.tar.gz, ./control.tar.gz )
//
// data.tar.gz is the tree with a leading "./" entry and control.tar.gz the CONTROL files
// (control; package-pack.mk's postinst and prerm, which call default_postinst and
// default_prerm; the package's postinst-pkg, prerm-pkg, postrm if it has them), each a GNU tar
// with names sorted per directory, owner 0:0 as numbers, no user/group names, and one
// mtime: SOURCE_DATE_EPOCH, else the last commit's time, else 0. The tars are written
// here (byte for byte what `tar --format=gnu --numeric-owner --sort=name` makes; the
// tests compare against GNU tar) and compressed by `gzip -n` like ipkg-build does.
// The files, their modes and the control data come from package.mjs, which the .apk
// (build-apk.mjs) shares.
//
// usage: node scripts/build-ipk.mjs [--package NAME [--root DIR]] [--out dist] [--quiet]
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { byteOrder, IPK, packageRoot, parseArgs, publish, readControl, readScripts, runMain, sourceDateEpoch, walk } from "./package.mjs";

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

function gzip(data) {
  return execFileSync("gzip", ["-n", "-c"], { input: data, maxBuffer: 256 << 20 });
}

// ---- main ---------------------------------------------------------------------------

/** Builds the package (an entry of PACKAGES) from its root, or `root`, into `out`; returns the file's path. */
export function buildIpk(pkg, { root, out, quiet }) {
  root = packageRoot(pkg, root);
  const mtime = sourceDateEpoch();
  const dataTar = tar(walk(root), mtime);
  const { control, fields } = readControl(pkg, dataTar.length);
  const { Package: name, Version: version, Architecture: arch } = fields;

  const controlEntries = [{ name: "./", mode: 0o755, data: undefined }];
  const members = { control: { mode: 0o644, data: Buffer.from(control) } };
  // No conffiles: no package ships a config file. The plugin creates /etc/config/wgmgr on
  // its first write, so an upgrade never has a shipped default to fight the user's copy.
  for (const s of ["postinst", "prerm"]) members[s] = { mode: 0o755, data: readFileSync(join(IPK, s)) };
  for (const [s, text] of Object.entries(readScripts(pkg))) members[s] = { mode: 0o755, data: Buffer.from(text) };
  for (const m of Object.keys(members).sort(byteOrder)) controlEntries.push({ name: `./${m}`, ...members[m] });
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

  const file = publish(out, `${name}_${version}_${arch}.ipk`, ipk, (old) => old.startsWith(`${name}_`) && old.endsWith(`_${arch}.ipk`));
  if (!quiet) console.log(`Packaged ${root} into ${file} (${ipk.length} bytes, SOURCE_DATE_EPOCH=${mtime})`);
  return file;
}

runMain(import.meta, "build-ipk", (argv) => {
  const opts = parseArgs(argv, "build-ipk.mjs");
  for (const pkg of opts.packages) buildIpk(pkg, opts);
});
