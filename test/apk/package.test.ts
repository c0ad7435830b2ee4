// The .apk built from build/root, read the way apk-tools reads it (scripts/apk/read.mjs
// checks the container, the ADB tree and every file's hash): its layout, metadata and
// scripts (as OpenWrt's package-pack.mk makes them for apk mkpkg), that it holds the
// .ipk's files with the same contents and modes, the /lib/apk/packages list, and
// byte-for-byte reproducibility.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inflateRawSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openwrtApk } from "../../scripts/build-apk.mjs";
import { buildInto, commitTime, controlText, ensureBuilt, type Ipk, packageNamed, parseControl, PKG, readIpk, removeTemps, ROOT, tempDir } from "../ipk/opkg";
import { scrambledCopy } from "../ipk/checks";
import { type Apk, body, buildApkInto, load, readApk, ScriptRoot } from "./apk";

const NAME = "luci-app-wgmgr";
const LIST = `lib/apk/packages/${NAME}.list`;
/** What OpenWrt's package-pack.mk adds to the tree for apk: the list and its directories. */
const APK_ONLY = ["lib", "lib/apk", "lib/apk/packages", LIST];

let file: string;
let bytes: Buffer;
let apk: Apk;
let ipk: Ipk;
let control: Record<string, string>;

beforeAll(() => {
  ensureBuilt();
  file = buildApkInto();
  bytes = readFileSync(file);
  apk = readApk(bytes);
  ipk = readIpk(readFileSync(buildInto()));
  control = Object.fromEntries(parseControl(controlText(ipk, "control")!));
});

afterAll(removeTemps);

const ipkText = (name: string) => controlText(ipk, name)!;
/** The .ipk's data members as apk paths: no "./", no trailing "/", "" for the root. */
const ipkPaths = () => ipk.data.map((m) => ({ ...m, path: m.name.replace(/^\.\/?/, "").replace(/\/$/, "") }));

describe("container (read as apk-tools reads it)", () => {
  const { budget } = packageNamed(NAME);
  it(`stays within the ${budget / 1024} KiB budget (\`make size\` shows what is in it)`, () => {
    expect(bytes.length, `.apk is ${bytes.length} bytes; run make size`).toBeLessThanOrEqual(budget);
  });

  it("is named <name>-<version>-r<release>.apk", () => {
    expect(file.endsWith(`/${NAME}-${PKG.version}-r1.apk`), file).toBe(true);
  });

  it("is 'ADBd' and a raw deflate stream of 'ADB.pckg' and its blocks", () => {
    expect(bytes.subarray(0, 4).toString("latin1")).toBe("ADBd");
    expect(inflateRawSync(bytes.subarray(4)).subarray(0, 8).toString("latin1")).toBe("ADB.pckg");
    expect(apk.compression).toBe("deflate");
    expect(apk.schema).toBe("pckg");
  });

  it("has one ADB block, no signature, then one 8-byte aligned DATA block per non-empty file", () => {
    expect(apk.blocks[0].type).toBe("adb");
    expect(apk.blocks.filter((b) => b.type === "sig")).toEqual([]);
    const nonEmpty = apk.files.filter((f) => f.size > 0);
    expect(apk.blocks.slice(1).map((b) => b.type)).toEqual(nonEmpty.map(() => "data"));
    for (const b of apk.blocks) expect(b.offset % 8, `block at ${b.offset}`).toBe(0);
    // each DATA block: its directory and file index (8 bytes), then the file
    expect(apk.blocks.slice(1).map((b) => b.length)).toEqual(nonEmpty.map((f) => 8 + f.size));
  });

  it("has every file's SHA-256 in its entry, matching its data", () => {
    for (const f of apk.files) {
      expect(f.hash, f.path).toBe(createHash("sha256").update(f.data).digest("hex"));
      expect(f.data.length, f.path).toBe(f.size);
    }
  });

  it("is refused by the reader when a file's data does not match its hash", () => {
    // uncompressed ("ADB.") is as valid to apk as deflated, so the reader takes both
    const plain = inflateRawSync(bytes.subarray(4));
    expect(readApk(plain).files.length).toBe(apk.files.length);
    const firstData = apk.blocks.find((b) => b.type === "data")!;
    const tampered = Buffer.from(plain);
    tampered[firstData.offset + 4 + 8 + 10] ^= 1;
    expect(() => readApk(tampered)).toThrow(/sha256 .* the entry says/);
  });
});

describe("metadata (the .ipk's control fields as package-pack.mk passes them to apk mkpkg)", () => {
  it("has the .ipk's name, license, url, maintainer, origin (Source) and description (on one line)", () => {
    expect(apk.info.name).toBe(control.Package);
    expect(apk.info.license).toBe(control.License);
    expect(apk.info.url).toBe(control.URL);
    expect(apk.info.maintainer).toBe(control.Maintainer);
    expect(apk.info.origin).toBe(control.Source);
    expect(apk.info.description).toBe(control.Description.replace(/\s+/g, " ").trim());
    expect(apk.info.description).not.toMatch(/\n/);
  });

  it("has version <Version>-r<release> (apk's syntax; opkg's would be 0.1.0-1) and arch noarch for Architecture all", () => {
    expect(control.Version).toBe(PKG.version);
    expect(apk.info.version).toBe(`${PKG.version}-r1`);
    expect(control.Architecture).toBe("all");
    expect(apk.info.arch).toBe("noarch");
  });

  it("depends on the .ipk's Depends, sorted by name as apk stores them", () => {
    const depends = control.Depends.split(/,\s*/);
    expect(apk.info.depends).toEqual([...depends].sort());
    expect(depends).toEqual(["luci-base", "rpcd", "lua", "libuci-lua", "wireguard-tools", "kmod-wireguard"]);
  });

  it("gives installed-size as apk mkpkg computes it: the sum of the files' sizes", () => {
    const sum = apk.files.reduce((n, f) => n + f.size, 0);
    expect(apk.info["installed-size"]).toBe(sum);
  });

  it("has apk mkpkg's unique id: the first 20 bytes of the ADB block's SHA-256, taken with the id zeroed", () => {
    const id = Buffer.from(apk.info.hashes as string, "hex");
    expect(id.length).toBe(20);
    const at = apk.adb.indexOf(id);
    expect(at).toBeGreaterThan(0);
    const zeroed = Buffer.from(apk.adb);
    zeroed.fill(0, at, at + 20);
    expect(createHash("sha256").update(zeroed).digest().subarray(0, 20).equals(id)).toBe(true);
  });

  it("has nothing OpenWrt's build would not pass (no build-time, provides, tags, triggers)", () => {
    expect(Object.keys(apk.info).sort()).toEqual(
      // url only when package.json has a homepage, as the .ipk's URL
      ["arch", "depends", "description", "hashes", "installed-size", "license", "maintainer", "name", "origin", ...(PKG.homepage ? ["url"] : []), "version"],
    );
    expect(Object.keys(apk.pkg).sort()).toEqual(["info", "paths", "scripts"]);
  });
});

describe("files (compared with the .ipk, member by member)", () => {
  it("holds every directory and file of the .ipk, with the same contents and modes, and only the list besides", () => {
    const members = ipkPaths();
    const apkDirs = new Map(apk.dirs.map((d) => [d.path, d]));
    const apkFiles = new Map(apk.files.map((f) => [f.path, f]));
    for (const m of members) {
      if (m.type === "5") {
        expect(apkDirs.get(m.path)?.mode, `directory ${m.path || "/"}`).toBe(m.mode);
      } else {
        const f = apkFiles.get(m.path);
        expect(f?.mode, m.path).toBe(m.mode);
        expect(f?.data.equals(m.data), `${m.path} content`).toBe(true);
      }
    }
    const extra = [...apkDirs.keys(), ...apkFiles.keys()].filter((p) => !members.some((m) => m.path === p));
    expect(extra.sort()).toEqual(APK_ONLY);
  });

  it("owns everything as root:root with the .ipk's mtime (SOURCE_DATE_EPOCH, else the last commit's time)", () => {
    const env = process.env.SOURCE_DATE_EPOCH;
    const mtime = env ? Number(env) : (commitTime() ?? 0);
    expect(ipk.data[0].mtime).toBe(mtime);
    for (const x of [...apk.dirs, ...apk.files]) expect([x.user, x.group], x.path).toEqual(["root", "root"]);
    for (const f of apk.files) expect(f.mtime, f.path).toBe(mtime);
  });

  it("orders directories by path and each directory's files by name, bytewise, as apk mkpkg does", () => {
    const bytewise = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    const dirs = apk.dirs.map((d) => d.path);
    expect(dirs).toEqual([...dirs].sort(bytewise));
    expect(dirs[0]).toBe("");
    const names = apk.files.map((f) => f.path);
    const dirOf = (p: string) => p.slice(0, Math.max(p.lastIndexOf("/"), 0));
    expect(names).toEqual([...names].sort((a, b) => dirs.indexOf(dirOf(a)) - dirs.indexOf(dirOf(b)) || bytewise(a, b)));
  });

  it(`has /${LIST}, listing exactly the other installed files, sorted (package-pack.mk's find | sort)`, () => {
    const list = apk.files.find((f) => f.path === LIST)!;
    expect(list.mode).toBe(0o644);
    const installed = ipk.data.filter((m) => m.type === "0").map((m) => m.name.replace(/^\./, ""));
    expect(list.data.toString()).toBe([...installed].sort().map((p) => `${p}\n`).join(""));
    expect(apk.files.map((f) => `/${f.path}`).filter((p) => p !== `/${LIST}`).sort()).toEqual([...installed].sort());
  });

  it("ships no conffiles list (there is no config file) and nothing else under /lib/apk", () => {
    expect(apk.files.filter((f) => f.path.startsWith("lib/")).map((f) => f.path)).toEqual([LIST]);
  });
});

describe("scripts (package-pack.mk's apk wrappers around the .ipk's scripts)", () => {

  it("has post-install, post-upgrade, pre-deinstall and post-deinstall, and no pre-install/pre-upgrade (no preinst)", () => {
    expect(Object.keys(apk.scripts).sort()).toEqual(["post-deinstall", "post-install", "post-upgrade", "pre-deinstall"]);
  });

  it("post-install: default_postinst with root and pkgname exported, then postinst-pkg's lines", () => {
    expect(apk.scripts["post-install"]).toBe(
      '#!/bin/sh\n[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0\n' + load(NAME) + "add_group_and_user\ndefault_postinst\n" + body(ipkText("postinst-pkg")),
    );
  });

  it("post-upgrade: the same with PKG_UPGRADE=1", () => {
    expect(apk.scripts["post-upgrade"]).toBe("#!/bin/sh\nexport PKG_UPGRADE=1\n" + body(apk.scripts["post-install"]));
  });

  it("pre-deinstall: default_prerm, then prerm-pkg's lines; post-deinstall: postrm as it is", () => {
    expect(apk.scripts["pre-deinstall"]).toBe("#!/bin/sh\n" + load(NAME) + "default_prerm\n" + body(ipkText("prerm-pkg")));
    expect(apk.scripts["post-deinstall"]).toBe(ipkText("postrm"));
  });

  it("are valid sh", () => {
    for (const [name, text] of Object.entries(apk.scripts)) {
      const r = spawnSync("sh", ["-n"], { input: text });
      expect(r.status, `sh -n ${name}: ${r.stderr}`).toBe(0);
    }
  });

  describe("run in an image root (IPKG_INSTROOT set), with a /lib/functions.sh that logs", () => {
    let area: ScriptRoot;
    let root: string;
    const run = (script: string, env: Record<string, string> = {}) => area.run(apk.scripts[script], env);

    beforeAll(() => {
      area = new ScriptRoot();
      root = area.root;
    });

    it("post-install and post-upgrade call add_group_and_user and default_postinst for this package, and succeed", () => {
      const install = run("post-install");
      expect(install.status, install.stderr).toBe(0);
      expect(install.log).toEqual([`add_group_and_user ${NAME} root=${root}`, `default_postinst ${NAME} root=${root} upgrade=0`]);
      const upgrade = run("post-upgrade");
      expect(upgrade.status, upgrade.stderr).toBe(0);
      expect(upgrade.log).toEqual([`add_group_and_user ${NAME} root=${root}`, `default_postinst ${NAME} root=${root} upgrade=1`]);
    });

    it("pre-deinstall calls default_prerm for this package and succeeds", () => {
      const r = run("pre-deinstall");
      expect(r.status, r.stderr).toBe(0);
      expect(r.log).toEqual([`default_prerm ${NAME} root=${root}`]);
    });

    it("do nothing with IPKG_NO_SCRIPT=1 (post-install) or without /lib/functions.sh", () => {
      expect(run("post-install", { IPKG_NO_SCRIPT: "1" })).toMatchObject({ status: 0, log: [] });
      const bare = join(tempDir("wgmgr-apk-bare-"), "root");
      mkdirSync(bare);
      for (const s of ["post-install", "post-upgrade", "pre-deinstall"]) expect(run(s, { IPKG_INSTROOT: bare }), s).toMatchObject({ status: 0, log: [] });
    });
  });
});

describe("reproducibility", () => {
  it("gives byte-identical packages from two builds of the same tree", () => {
    expect(readFileSync(buildApkInto()).equals(bytes)).toBe(true);
  });

  it("ignores the builder's umask and the modes the checkout left on the files", () => {
    expect(readFileSync(buildApkInto({ umask: "077" })).equals(bytes), "umask 077").toBe(true);
    const copy = scrambledCopy(ROOT, ["usr/libexec/rpcd/wgmgr"]);
    expect(readFileSync(buildApkInto({ root: copy })).equals(bytes), "scrambled modes").toBe(true);
  });

  it("takes every mtime from SOURCE_DATE_EPOCH when it is set", () => {
    const p = readApk(readFileSync(buildApkInto({ env: { SOURCE_DATE_EPOCH: "1700000000" } })));
    for (const f of p.files) expect(f.mtime, f.path).toBe(1700000000);
  });
});

describe("another package from the same writer: other root, control and release, no scripts, an empty file", () => {
  const fields = {
    Package: "luci-i18n-wgmgr-zh-cn",
    Version: "0.1.0",
    Depends: "luci-app-wgmgr",
    Source: "luci-app-wgmgr",
    License: "GPL-2.0-only",
    URL: "https://wgmgr.test/i18n",
    Maintainer: "wgmgr maintainers <maintainers@users.noreply.h-seed-203a8d12.example>",
    Architecture: "all",
    Description: "Translation for luci-app-wgmgr -\n 简体中文 (Chinese Simplified)",
  };
  let root: string;

  beforeAll(() => {
    root = join(tempDir("wgmgr-i18n-"), "root");
    mkdirSync(join(root, "usr/lib/lua/luci/i18n"), { recursive: true });
    writeFileSync(join(root, "usr/lib/lua/luci/i18n/wgmgr.zh-cn.lmo"), "translations");
    writeFileSync(join(root, "usr/lib/lua/luci/i18n/empty"), "");
  });

  it("packs another root with other control fields and no scripts of its own", () => {
    const built = openwrtApk({ root, fields, scripts: {}, release: 3, mtime: 1700000000 });
    expect(built.file).toBe("luci-i18n-wgmgr-zh-cn-0.1.0-r3.apk");
    const p = readApk(built.bytes);
    expect(p.info).toMatchObject({ name: "luci-i18n-wgmgr-zh-cn", version: "0.1.0-r3", depends: ["luci-app-wgmgr"], arch: "noarch" });
    expect(p.info.description).toBe("Translation for luci-app-wgmgr - 简体中文 (Chinese Simplified)");
    expect(p.files.map((f) => f.path)).toEqual(["lib/apk/packages/luci-i18n-wgmgr-zh-cn.list", "usr/lib/lua/luci/i18n/empty", "usr/lib/lua/luci/i18n/wgmgr.zh-cn.lmo"]);
    expect(p.files[0].data.toString()).toBe("/usr/lib/lua/luci/i18n/empty\n/usr/lib/lua/luci/i18n/wgmgr.zh-cn.lmo\n");
    // the empty file has its hash and no data block
    expect(p.files[1].hash).toBe(createHash("sha256").update("").digest("hex"));
    expect(p.blocks.filter((b) => b.type === "data").length).toBe(2);
    // package-pack.mk's wrappers still call default_postinst/default_prerm; no postrm, no post-deinstall
    expect(Object.keys(p.scripts).sort()).toEqual(["post-install", "post-upgrade", "pre-deinstall"]);
    expect(p.scripts["post-install"]).toMatch(/export pkgname="luci-i18n-wgmgr-zh-cn"\nadd_group_and_user\ndefault_postinst\n$/);
  });

  it("refuses an opkg-style version and a versioned dependency it cannot store", () => {
    expect(() => openwrtApk({ root, fields: { ...fields, Version: "0.1.0-1" }, scripts: {}, mtime: 0 })).toThrow(/not an apk version/);
    expect(() => openwrtApk({ root, fields: { ...fields, Depends: "luci-app-wgmgr (>= 0.1.0)" }, scripts: {}, mtime: 0 })).toThrow(/not a package name/);
  });
});
