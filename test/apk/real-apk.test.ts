// The .apk in the hands of the real apk-tools 3, whose binary WGMGR_REAL_APK names (it is
// not packaged in Debian 12; build it from the apk-tools sources outside this repository).
// Without it every test here is skipped, loudly. With it: apk adbdump reads the package,
// apk extract checks every hash and writes the tree, apk mkpkg makes the same package
// from the same tree, and apk add / upgrade / del work in a fresh root, running the
// scripts against a /lib/functions.sh that logs (IPKG_INSTROOT set, --force-no-chroot),
// as an image build would; the translation luci-i18n-wgmgr-zh-cn installs with the app
// (and not without it) and both are removed.
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openwrtApk } from "../../scripts/build-apk.mjs";
import { packageNamed, readControl, readScripts } from "../../scripts/package.mjs";
import { ensureBuilt, removeTemps, ROOT, tempDir } from "../ipk/opkg";
import { type Apk, buildApkInto, readApk } from "./apk";

const APK = process.env.WGMGR_REAL_APK;
const skipReason = !APK ? "WGMGR_REAL_APK is not set" : !existsSync(APK) ? `WGMGR_REAL_APK=${APK} does not exist` : undefined;
if (skipReason) {
  console.warn(
    `\n${"!".repeat(78)}\n!! wgmgr apk: SKIPPING every test with the real apk-tools: ${skipReason}.\n` +
      `!! Set WGMGR_REAL_APK to an apk-tools 3 binary (apk --version: apk-tools 3.x). Nothing was verified with it.\n${"!".repeat(78)}\n`,
  );
}

const NAME = "luci-app-wgmgr";

/**
 * apk mkpkg, given the package's tree and what package-pack.mk passes it (info, scripts),
 * makes the same package as ours but for the unique id; and the test's reader reads apk's
 * own package the same way as ours. With `sameSize: false` the ADB blocks may differ in
 * size: write.mjs stores the same values in another order than apk mkpkg, so the padding
 * that aligns them can add up differently.
 */
function expectMkpkgMakesTheSame(file: string, pkg: Apk, tree: string, work: string, { sameSize = true } = {}) {
  const apk = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(APK!, args, { encoding: "utf8", env: { PATH: "/usr/bin:/bin", ...env } });
    return { status: r.status, out: r.stdout + r.stderr };
  };
  mkdirSync(work);
  const out = join(work, "mkpkg.apk");
  const args = ["mkpkg", "--files", tree, "--output", out];
  // the fields the package has: no url while package.json has no homepage
  for (const k of ["name", "version", "description", "arch", "license", "origin", "url", "maintainer"]) if (k in pkg.info) args.push("--info", `${k}:${pkg.info[k]}`);
  args.push("--info", `depends:${(pkg.info.depends as string[]).join(" ")}`);
  for (const [name, text] of Object.entries(pkg.scripts)) {
    writeFileSync(join(work, name), text);
    args.push("--script", `${name}:${join(work, name)}`);
  }
  const made = apk(args, { SOURCE_DATE_EPOCH: String(pkg.files[0].mtime) });
  expect(made.status, made.out).toBe(0);

  const withoutId = (dump: string) => {
    const d = dump.replace(/^ {2}hashes: .*\n/m, "");
    return sameSize ? d : d.replace(/^# ADB block, size: \d+,/m, "# ADB block,");
  };
  expect(withoutId(apk(["adbdump", file]).out)).toBe(withoutId(apk(["adbdump", out]).out));

  const ref = readApk(readFileSync(out));
  expect({ ...ref.info, hashes: "" }).toEqual({ ...pkg.info, hashes: "" });
  expect(ref.dirs).toEqual(pkg.dirs);
  expect(ref.files).toEqual(pkg.files);
  expect(ref.scripts).toEqual(pkg.scripts);
}

describe.skipIf(skipReason !== undefined).sequential("the real apk-tools", () => {
  let file: string;
  let pkg: Apk;
  let work: string;
  let root: string; // the system apk installs into
  let log: string; // what the scripts' /lib/functions.sh saw

  /** Runs apk; `--root` and script environment as an image build: IPKG_INSTROOT, no chroot. */
  const apk = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(APK!, args, { encoding: "utf8", env: { PATH: "/usr/bin:/bin", IPKG_INSTROOT: root, LOG: log, ...env } });
    return { status: r.status, out: r.stdout + r.stderr };
  };
  const rootArgs = () => ["--root", root, "--no-network", "--force-no-chroot", "--preserve-env"];
  const logged = () => readFileSync(log, "utf8").trim().split("\n").filter(Boolean);
  /** A dependency for apk add to resolve, made by apk mkpkg itself. */
  const stub = (name: string) => {
    const out = join(work, "stubs", `${name}.apk`);
    const r = apk(["mkpkg", "--info", `name:${name}`, "--info", "version:1.0-r1", "--info", "arch:noarch", "--output", out]);
    expect(r.status, r.out).toBe(0);
    return out;
  };

  beforeAll(() => {
    ensureBuilt();
    file = buildApkInto();
    pkg = readApk(readFileSync(file));
    work = tempDir("wgmgr-real-apk-");
    root = join(work, "root");
    log = join(work, "log");
    mkdirSync(join(root, "lib"), { recursive: true });
    mkdirSync(join(work, "stubs"));
    writeFileSync(log, "");
    writeFileSync(
      join(root, "lib/functions.sh"),
      [
        'add_group_and_user() { echo "add_group_and_user $pkgname" >> "$LOG"; }',
        'default_postinst() { echo "default_postinst $pkgname root=$root upgrade=${PKG_UPGRADE:-0} files=$(wc -l < "$root/lib/apk/packages/$pkgname.list")" >> "$LOG"; }',
        'default_prerm() { echo "default_prerm $pkgname root=$root" >> "$LOG"; }',
        "",
      ].join("\n"),
    );
  });

  afterAll(removeTemps);

  it("is apk-tools 3", () => {
    const r = apk(["--version"]);
    console.log(`real apk: ${r.out.trim()}`);
    expect(r.out).toMatch(/^apk-tools 3\./);
  });

  it("apk adbdump reads the whole package: info, every directory and file", () => {
    const r = apk(["adbdump", file]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/^#%SCHEMA: 676B6370$/m);
    for (const line of [`name: ${NAME}`, `version: ${pkg.info.version}`, "arch: noarch", `installed-size: ${pkg.info["installed-size"]}`, "  post-install: |"]) {
      expect(r.out, line).toContain(line);
    }
    for (const f of pkg.files) expect(r.out, f.path).toContain(`hash: ${f.hash}`);
  });

  it("apk extract checks every hash and writes build/root plus the list, with the packaged modes", () => {
    const dest = join(work, "extract");
    mkdirSync(dest);
    const r = apk(["extract", "--allow-untrusted", "--destination", dest, file]);
    expect(r.status, r.out).toBe(0);
    for (const f of pkg.files) {
      const p = join(dest, f.path);
      expect(lstatSync(p).mode & 0o7777, f.path).toBe(f.mode);
      expect(readFileSync(p).equals(f.path.startsWith("lib/apk/") ? f.data : readFileSync(join(ROOT, f.path))), f.path).toBe(true);
    }
  });

  it("apk mkpkg, given that tree and what package-pack.mk passes it, makes the same package but for the unique id", () => {
    expectMkpkgMakesTheSame(file, pkg, join(work, "extract"), join(work, "mkpkg"));
  });

  it("apk add refuses the unsigned package without --allow-untrusted", () => {
    const other = join(work, "strict");
    mkdirSync(other);
    const r = apk(["--root", other, "--initdb", "--no-network", "add", file]);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/UNTRUSTED/i);
  });

  it("apk add --allow-untrusted installs it with its dependencies and runs post-install (default_postinst)", () => {
    const deps = (pkg.info.depends as string[]).map(stub);
    const r = apk([...rootArgs(), "--initdb", "--allow-untrusted", "add", ...deps, file]);
    console.log(`real apk add:\n${r.out.trim()}`);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain(`Installing ${NAME} (${pkg.info.version})`);
    expect(r.out).toContain(`Executing ${NAME}-${pkg.info.version}.post-install`);
    expect(logged()).toEqual([`add_group_and_user ${NAME}`, `default_postinst ${NAME} root=${root} upgrade=0 files=${pkg.files.length - 1}`]);
    for (const f of pkg.files) {
      expect(lstatSync(join(root, f.path)).mode & 0o7777, f.path).toBe(f.mode);
      expect(readFileSync(join(root, f.path)).equals(f.data), f.path).toBe(true);
    }
    const info = apk([...rootArgs(), "info", "-L", NAME]);
    expect(info.out.trim().split("\n").slice(1).sort()).toEqual(pkg.files.map((f) => f.path).sort());
    // apk audit compares the installed files with the hashes the package gave
    const audited = () => apk([...rootArgs(), "audit", "--system"]).out.split("\n").filter((l) => pkg.files.some((f) => l.endsWith(` ${f.path}`)));
    expect(audited(), "apk audit --system").toEqual([]);
    const js = join(root, "www/luci-static/resources/wgmgr.js");
    const original = readFileSync(js);
    writeFileSync(js, Buffer.concat([original, Buffer.from("\n")]));
    expect(audited(), "apk audit --system after a change").toEqual(["U www/luci-static/resources/wgmgr.js"]);
    writeFileSync(js, original);
  });

  it("apk add of the next release upgrades it and runs post-upgrade (PKG_UPGRADE=1)", () => {
    writeFileSync(log, "");
    const app = packageNamed(NAME);
    const next = openwrtApk({ root: ROOT, fields: readControl(app).fields, scripts: readScripts(app), release: 2, mtime: pkg.files[0].mtime });
    const path = join(work, next.file);
    writeFileSync(path, next.bytes);
    const r = apk([...rootArgs(), "--allow-untrusted", "add", path]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(new RegExp(`Upgrading ${NAME} \\(${pkg.info.version} -> [^)]*-r2\\)`));
    expect(r.out).toContain(".post-upgrade");
    expect(logged()).toEqual([`add_group_and_user ${NAME}`, `default_postinst ${NAME} root=${root} upgrade=1 files=${pkg.files.length - 1}`]);
  });

  it("apk del runs pre-deinstall (default_prerm) and post-deinstall and removes every file", () => {
    writeFileSync(log, "");
    const r = apk([...rootArgs(), "del", NAME]);
    console.log(`real apk del:\n${r.out.trim()}`);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain(".pre-deinstall");
    expect(r.out).toContain(".post-deinstall");
    expect(logged()).toEqual([`default_prerm ${NAME} root=${root}`]);
    for (const f of pkg.files) expect(existsSync(join(root, f.path)), f.path).toBe(false);
    expect(existsSync(join(root, "lib/functions.sh"))).toBe(true);
  });
});

describe.skipIf(skipReason !== undefined).sequential("the real apk-tools with the translation", () => {
  const I18N = "luci-i18n-wgmgr-zh-cn";
  let app: string;
  let i18n: string;
  let pkg: Apk;
  let work: string;
  let root: string;
  let log: string;

  const apk = (args: string[]) => {
    const r = spawnSync(APK!, args, { encoding: "utf8", env: { PATH: "/usr/bin:/bin", IPKG_INSTROOT: root, LOG: log } });
    return { status: r.status, out: r.stdout + r.stderr };
  };
  const rootArgs = () => ["--root", root, "--no-network", "--force-no-chroot", "--preserve-env"];
  const logged = () => readFileSync(log, "utf8").trim().split("\n").filter(Boolean);

  beforeAll(() => {
    ensureBuilt();
    app = buildApkInto();
    i18n = buildApkInto({ package: I18N });
    pkg = readApk(readFileSync(i18n));
    work = tempDir("wgmgr-real-apk-i18n-");
    root = join(work, "root");
    log = join(work, "log");
    mkdirSync(join(root, "lib"), { recursive: true });
    writeFileSync(log, "");
    writeFileSync(
      join(root, "lib/functions.sh"),
      [
        'add_group_and_user() { echo "add_group_and_user $pkgname" >> "$LOG"; }',
        'default_postinst() { echo "default_postinst $pkgname files=$(paste -sd, "$root/lib/apk/packages/$pkgname.list")" >> "$LOG"; }',
        'default_prerm() { echo "default_prerm $pkgname" >> "$LOG"; }',
        "",
      ].join("\n"),
    );
  });

  afterAll(removeTemps);

  it("apk extract writes its files, and apk mkpkg makes the same package from them", () => {
    const dest = join(work, "extract");
    mkdirSync(dest);
    const r = apk(["extract", "--allow-untrusted", "--destination", dest, i18n]);
    expect(r.status, r.out).toBe(0);
    for (const f of pkg.files) expect(readFileSync(join(dest, f.path)).equals(f.data), f.path).toBe(true);
    // when this was written, ours had 8 bytes more padding than apk mkpkg's
    expectMkpkgMakesTheSame(i18n, pkg, dest, join(work, "mkpkg"), { sameSize: false });
  });

  it("apk add refuses the translation without the app it depends on", () => {
    const r = apk([...rootArgs(), "--initdb", "--allow-untrusted", "add", i18n]);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain("luci-app-wgmgr");
    expect(existsSync(join(root, "usr/lib/lua/luci/i18n"))).toBe(false);
  });

  it("apk add installs the app and the translation, running the translation's post-install (default_postinst with its list)", () => {
    const deps = readApk(readFileSync(app)).info.depends as string[];
    const stubs = deps.map((name) => {
      const out = join(work, `${name}.apk`);
      const r = apk(["mkpkg", "--info", `name:${name}`, "--info", "version:1.0-r1", "--info", "arch:noarch", "--output", out]);
      expect(r.status, r.out).toBe(0);
      return out;
    });
    writeFileSync(log, "");
    const r = apk([...rootArgs(), "--initdb", "--allow-untrusted", "add", ...stubs, app, i18n]);
    console.log(`real apk add (app and translation):\n${r.out.trim()}`);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain(`Installing ${I18N} (${pkg.info.version})`);
    expect(r.out).toContain(`Executing ${I18N}-${pkg.info.version}.post-install`);
    expect(logged().slice(-2)).toEqual([`add_group_and_user ${I18N}`, `default_postinst ${I18N} files=/etc/uci-defaults/${I18N},/usr/lib/lua/luci/i18n/wgmgr.zh-cn.lmo`]);
    for (const f of pkg.files) {
      expect(lstatSync(join(root, f.path)).mode & 0o7777, f.path).toBe(f.mode);
      expect(readFileSync(join(root, f.path)).equals(f.data), f.path).toBe(true);
    }
    const info = apk([...rootArgs(), "info", "-L", I18N]);
    expect(info.out.trim().split("\n").slice(1).sort()).toEqual(pkg.files.map((f) => f.path).sort());
  });

  it("apk del of the app alone keeps it while the translation needs it; both go together", () => {
    const kept = apk([...rootArgs(), "del", NAME]);
    expect(kept.status, kept.out).toBe(0);
    expect(kept.out).toContain(`${NAME}: ${I18N}`);
    expect(existsSync(join(root, "usr/libexec/rpcd/wgmgr"))).toBe(true);

    writeFileSync(log, "");
    const r = apk([...rootArgs(), "del", I18N, NAME]);
    console.log(`real apk del (translation and app):\n${r.out.trim()}`);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain(`${I18N}-${pkg.info.version}.pre-deinstall`);
    expect(r.out).not.toContain(`${I18N}-${pkg.info.version}.post-deinstall`);
    expect(logged()).toEqual([`default_prerm ${I18N}`, `default_prerm ${NAME}`]);
    for (const f of pkg.files) expect(existsSync(join(root, f.path)), f.path).toBe(false);
    expect(existsSync(join(root, "usr/libexec/rpcd/wgmgr"))).toBe(false);
  });
});
