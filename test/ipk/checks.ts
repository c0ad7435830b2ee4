// Expectations every .ipk must meet, whichever package it is (test/ipk/package.test.ts for
// the app, test/ipk/i18n-package.test.ts for the translation): gzip -n, GNU tar members
// owned by 0:0 with one mtime, names in tar --sort=name order, the same bytes as
// ipkg-build's own commands make, and a copy of a tree with scrambled modes to build from.
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { commitTime, type Ipk, type TarMember, tempDir } from "./opkg";

/** The mtime every member must have: SOURCE_DATE_EPOCH, else the last commit's time. */
export function expectedMtime(): number {
  const env = process.env.SOURCE_DATE_EPOCH;
  return env ? Number(env) : (commitTime() ?? 0);
}

/** gzip -n: no file name (FLG 0) and MTIME 0 in the header. */
export function expectGzipN(buf: Buffer, what: string) {
  expect([buf[0], buf[1], buf[2]], `${what}: gzip magic, deflate`).toEqual([0x1f, 0x8b, 8]);
  expect(buf[3], `${what}: no FNAME/FCOMMENT flags`).toBe(0);
  expect(buf.readUInt32LE(4), `${what}: MTIME 0`).toBe(0);
}

export function expectGnuOwned(members: TarMember[], mtime: number, what: string) {
  for (const m of members) {
    expect(m.magic, `${what} ${m.name}: GNU magic`).toBe("ustar  \0");
    expect(m.checksumOk, `${what} ${m.name}: checksum`).toBe(true);
    expect([m.uid, m.gid], `${what} ${m.name}: owner 0:0`).toEqual([0, 0]);
    expect([m.uname, m.gname], `${what} ${m.name}: numeric owner, no names`).toEqual(["", ""]);
    expect(m.mtime, `${what} ${m.name}: SOURCE_DATE_EPOCH mtime`).toBe(mtime);
  }
}

/** "./" first, then the order of tar --sort=name: each directory's entries bytewise, depth first. */
export function expectTarOrder(names: string[]) {
  const key = (n: string) => n.replace(/^\.\//, "").replace(/\/$/, "").split("/");
  const cmp = (a: string, b: string) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const c = Buffer.compare(Buffer.from(x[i]), Buffer.from(y[i]));
      if (c) return c;
    }
    return x.length - y.length;
  };
  expect(names[0]).toBe("./");
  expect(names.slice(1)).toEqual([...names.slice(1)].sort(cmp));
}

/**
 * What ipkg-build's tar/gzip commands make of the package directory the .ipk unpacks to:
 * unpacked with GNU tar into a tree plus CONTROL/, then the commands ipkg-build runs
 * (scripts/ipkg-build: data tar excluding CONTROL, Installed-Size from the uncompressed
 * data tar, control tar, outer tar).
 */
export function ipkgBuildReference(ipk: Ipk): { dataGz: Buffer; controlGz: Buffer; ipk: Buffer } {
  const t = tempDir("wgmgr-ipkg-build-");
  const pkgDir = join(t, "pkg");
  const work = join(t, "work");
  mkdirSync(join(pkgDir, "CONTROL"), { recursive: true });
  mkdirSync(work);
  writeFileSync(join(t, "data.tar.gz"), ipk.dataGz);
  writeFileSync(join(t, "control.tar.gz"), ipk.controlGz);
  execFileSync("tar", ["-xpzf", join(t, "data.tar.gz"), "-C", pkgDir]);
  execFileSync("tar", ["-xpzf", join(t, "control.tar.gz"), "-C", join(pkgDir, "CONTROL")]);
  const epoch = String(ipk.outer[0].mtime);
  const tarOpts = `--format=gnu --numeric-owner --owner=0 --group=0 --sort=name --mtime=@${epoch}`;
  const script = `
    set -e
    cd "$PKG"
    echo CONTROL > "$WORK/tarX"
    tar -X "$WORK/tarX" ${tarOpts} -cpf - . | gzip -n - > "$WORK/data.tar.gz"
    size=$(zcat < "$WORK/data.tar.gz" | wc -c)
    sed -i -e "s/^Installed-Size: .*/Installed-Size: $size/" CONTROL/control
    ( cd CONTROL && tar ${tarOpts} -cf - . | gzip -n - > "$WORK/control.tar.gz" )
    rm "$WORK/tarX"
    echo "2.0" > "$WORK/debian-binary"
    chmod 0644 "$WORK/debian-binary" "$WORK/data.tar.gz" "$WORK/control.tar.gz"
    ( cd "$WORK" && tar ${tarOpts} -cf - ./debian-binary ./data.tar.gz ./control.tar.gz | gzip -n - > "$OUT" )`;
  const out = join(t, "reference.ipk");
  execFileSync("sh", ["-c", script], { env: { ...process.env, PKG: pkgDir, WORK: work, OUT: out, LC_ALL: "C" } });
  return { dataGz: readFileSync(join(work, "data.tar.gz")), controlGz: readFileSync(join(work, "control.tar.gz")), ipk: readFileSync(out) };
}

/**
 * A copy of `root` with private modes, as a careless checkout or umask could leave it:
 * 0700 directories, 0700 for files with an exec bit and 0600 for the others, and the
 * files in `dropExec` (paths under root) without their exec bit. A package built from it
 * must come out the same.
 */
export function scrambledCopy(root: string, dropExec: string[] = []): string {
  const copy = join(tempDir("wgmgr-scrambled-"), "root");
  cpSync(root, copy, { recursive: true });
  const scramble = (p: string, rel: string) => {
    for (const name of readdirSync(p)) {
      const q = join(p, name);
      const r = rel + name;
      if (statSync(q).isDirectory()) {
        scramble(q, `${r}/`);
        chmodSync(q, 0o700);
      } else chmodSync(q, statSync(q).mode & 0o100 && !dropExec.includes(r) ? 0o700 : 0o600);
    }
  };
  scramble(copy, "");
  chmodSync(copy, 0o700);
  return copy;
}
