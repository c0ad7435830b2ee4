// The translation package luci-i18n-wgmgr-zh-cn as an .apk, read the way apk-tools reads it
// (scripts/apk/read.mjs checks the container, the ADB tree and every file's hash): its
// metadata as package-pack.mk passes the .ipk's control fields to apk mkpkg, the .ipk's
// files plus the /lib/apk/packages list, package-pack.mk's scripts around its
// postinst-pkg (run in an image root), its own size budget, and reproducibility.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inflateRawSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scrambledCopy } from "../ipk/checks";
import { STUBS } from "../ipk/instroot";
import { buildInto, commitTime, controlText, ensureBuilt, type Ipk, packageNamed, parseControl, PKG, readIpk, removeTemps, REPO } from "../ipk/opkg";
import { type Apk, body, buildApkInto, load, readApk, ScriptRoot } from "./apk";

const NAME = "luci-i18n-wgmgr-zh-cn";
const I18N = packageNamed(NAME);
const LIST = `lib/apk/packages/${NAME}.list`;
const LMO = "usr/lib/lua/luci/i18n/wgmgr.zh-cn.lmo";
const DEFAULTS = `etc/uci-defaults/${NAME}`;

let file: string;
let bytes: Buffer;
let apk: Apk;
let ipk: Ipk;
let control: Record<string, string>;

beforeAll(() => {
  ensureBuilt();
  file = buildApkInto({ package: NAME });
  bytes = readFileSync(file);
  apk = readApk(bytes);
  ipk = readIpk(readFileSync(buildInto({ package: NAME })));
  control = Object.fromEntries(parseControl(controlText(ipk, "control")!));
});

afterAll(removeTemps);

const apkFile = (path: string) => apk.files.find((f) => f.path === path)!;

describe("container (read as apk-tools reads it)", () => {
  it("is named luci-i18n-wgmgr-zh-cn-<version>-r1.apk", () => {
    expect(file.endsWith(`/${NAME}-${PKG.version}-r1.apk`), file).toBe(true);
  });

  it("is 'ADBd' and a raw deflate stream of 'ADB.pckg', one ADB block, no signature, a DATA block per file", () => {
    expect(bytes.subarray(0, 4).toString("latin1")).toBe("ADBd");
    expect(inflateRawSync(bytes.subarray(4)).subarray(0, 8).toString("latin1")).toBe("ADB.pckg");
    expect(apk.blocks.map((b) => b.type)).toEqual(["adb", ...apk.files.map(() => "data")]);
  });

  it(`stays within its own ${I18N.budget / 1024} KiB budget, as \`make size\` holds it`, () => {
    expect(bytes.length, `.apk is ${bytes.length} bytes; run make size`).toBeLessThanOrEqual(I18N.budget);
    const size = spawnSync(process.execPath, [join(REPO, "scripts/ipk/size.mjs"), file], { encoding: "utf8" });
    expect(size.status, size.stderr).toBe(0);
    expect(size.stdout).toContain(`.apk ${bytes.length} bytes (${(bytes.length / 1024).toFixed(1)} KiB); budget ${(I18N.budget / 1024).toFixed(1)} KiB`);
  });
});

describe("metadata (the .ipk's control fields as package-pack.mk passes them to apk mkpkg)", () => {
  it("is luci-i18n-wgmgr-zh-cn <version>-r1, arch noarch, depending on exactly luci-app-wgmgr", () => {
    expect(apk.info.name).toBe(NAME);
    expect(apk.info.version).toBe(`${PKG.version}-r1`);
    expect(apk.info.arch).toBe("noarch");
    expect(apk.info.depends).toEqual([PKG.name]);
  });

  it("has the .ipk's description, licence, maintainer and origin", () => {
    expect(apk.info.description).toBe(control.Description);
    expect(apk.info.description).toBe(`Translation for ${PKG.name} - 简体中文 (Chinese Simplified)`);
    expect(apk.info.license).toBe(control.License);
    expect(apk.info.maintainer).toBe(control.Maintainer);
    expect(apk.info.origin).toBe(control.Source);
    expect(Object.keys(apk.info).sort()).toEqual(
      ["arch", "depends", "description", "hashes", "installed-size", "license", "maintainer", "name", "origin", ...(PKG.homepage ? ["url"] : []), "version"],
    );
  });
});

describe("files (compared with the .ipk)", () => {
  it("holds the .ipk's two files with their contents and modes, and the list besides", () => {
    expect(apk.files.map((f) => f.path).sort()).toEqual([DEFAULTS, LIST, LMO]);
    for (const m of ipk.data.filter((x) => x.type === "0")) {
      const f = apkFile(m.name.slice(2));
      expect(f.mode, f.path).toBe(m.mode);
      expect(f.data.equals(m.data), f.path).toBe(true);
    }
    expect(apkFile(LMO).mode).toBe(0o644);
    expect(apkFile(LMO).data.equals(readFileSync(join(REPO, "build/i18n/wgmgr.zh-cn.lmo")))).toBe(true);
  });

  it("has every directory of the .ipk (0755) and lib/apk/packages for the list", () => {
    const ipkDirs = ipk.data.filter((m) => m.type === "5").map((m) => m.name.replace(/^\.\/?/, "").replace(/\/$/, ""));
    expect(apk.dirs.map((d) => d.path).sort()).toEqual([...ipkDirs, "lib", "lib/apk", "lib/apk/packages"].sort());
    for (const d of apk.dirs) expect(d.mode, d.path || "/").toBe(0o755);
  });

  it(`has /${LIST}, listing the installed files (what default_postinst reads to run the uci-defaults script)`, () => {
    expect(apkFile(LIST).data.toString()).toBe(`/${DEFAULTS}\n/${LMO}\n`);
  });

  it("owns everything as root:root with the .ipk's mtime", () => {
    const env = process.env.SOURCE_DATE_EPOCH;
    const mtime = env ? Number(env) : (commitTime() ?? 0);
    for (const x of [...apk.dirs, ...apk.files]) expect([x.user, x.group], x.path).toEqual(["root", "root"]);
    for (const f of apk.files) expect(f.mtime, f.path).toBe(mtime);
  });
});

describe("scripts (package-pack.mk's apk wrappers around the .ipk's postinst-pkg)", () => {
  it("has post-install, post-upgrade and pre-deinstall, and no post-deinstall (there is no postrm)", () => {
    expect(Object.keys(apk.scripts).sort()).toEqual(["post-install", "post-upgrade", "pre-deinstall"]);
  });

  it("post-install: default_postinst for this package, then postinst-pkg's lines; post-upgrade the same with PKG_UPGRADE=1", () => {
    expect(apk.scripts["post-install"]).toBe(
      '#!/bin/sh\n[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0\n' + load(NAME) + "add_group_and_user\ndefault_postinst\n" + body(controlText(ipk, "postinst-pkg")!),
    );
    expect(apk.scripts["post-upgrade"]).toBe("#!/bin/sh\nexport PKG_UPGRADE=1\n" + body(apk.scripts["post-install"]));
  });

  it("pre-deinstall: default_prerm for this package and nothing else", () => {
    expect(apk.scripts["pre-deinstall"]).toBe("#!/bin/sh\n" + load(NAME) + "default_prerm\n");
  });

  it("are valid sh", () => {
    for (const [name, text] of Object.entries(apk.scripts)) {
      const r = spawnSync("sh", ["-n"], { input: text });
      expect(r.status, `sh -n ${name}: ${r.stderr}`).toBe(0);
    }
  });

  describe("run in an image root (IPKG_INSTROOT set), every command a stub", () => {
    let area: ScriptRoot;
    let bin: string;
    // The live system's /etc/uci-defaults/ is a directory of the test's own holding the
    // script, so that a script reaching for the live system would be seen.
    const redirected = (script: string) => apk.scripts[script].replaceAll("/etc/uci-defaults/", `${join(area.root, "../live/etc/uci-defaults")}/`);

    beforeAll(() => {
      area = new ScriptRoot();
      bin = join(area.root, "../bin");
      mkdirSync(bin);
      for (const s of STUBS) writeFileSync(join(bin, s), `#!/bin/sh\necho "STUB ${s} $*" >> "$LOG"\n`, { mode: 0o755 });
      mkdirSync(join(area.root, "../live/etc/uci-defaults"), { recursive: true });
      writeFileSync(join(area.root, "../live", DEFAULTS), apkFile(DEFAULTS).data);
    });

    it("post-install and post-upgrade call add_group_and_user and default_postinst, and nothing else: the script waits for the first boot", () => {
      const root = area.root;
      for (const [script, upgrade] of [["post-install", 0], ["post-upgrade", 1]] as const) {
        const r = area.run(redirected(script), {}, bin);
        expect(r.status, r.stderr).toBe(0);
        expect(r.log, script).toEqual([`add_group_and_user ${NAME} root=${root}`, `default_postinst ${NAME} root=${root} upgrade=${upgrade}`]);
      }
    });

    it("pre-deinstall calls default_prerm and nothing else", () => {
      const r = area.run(redirected("pre-deinstall"), {}, bin);
      expect(r.status, r.stderr).toBe(0);
      expect(r.log).toEqual([`default_prerm ${NAME} root=${area.root}`]);
    });

    it("post-install does nothing with IPKG_NO_SCRIPT=1", () => {
      expect(area.run(redirected("post-install"), { IPKG_NO_SCRIPT: "1" }, bin)).toMatchObject({ status: 0, log: [] });
    });
  });
});

describe("reproducibility", () => {
  it("gives byte-identical packages from two builds of the same tree", () => {
    expect(readFileSync(buildApkInto({ package: NAME })).equals(bytes)).toBe(true);
  });

  it("ignores the builder's umask and the modes the checkout left on the files", () => {
    expect(readFileSync(buildApkInto({ package: NAME, umask: "077" })).equals(bytes), "umask 077").toBe(true);
    const copy = scrambledCopy(join(REPO, I18N.root), [DEFAULTS]);
    expect(readFileSync(buildApkInto({ package: NAME, root: copy })).equals(bytes), "scrambled modes").toBe(true);
  });

  it("takes every mtime from SOURCE_DATE_EPOCH when it is set", () => {
    const p = readApk(readFileSync(buildApkInto({ package: NAME, env: { SOURCE_DATE_EPOCH: "1700000000" } })));
    for (const f of p.files) expect(f.mtime, f.path).toBe(1700000000);
  });
});
