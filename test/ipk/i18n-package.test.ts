// The translation package luci-i18n-wgmgr-zh-cn as an .ipk, built from build/i18n-root the
// way luci.mk's LuciTranslation packages a language: its layout (the checks every .ipk
// passes, checks.ts), control fields, the two files it installs (the catalog make compiled
// and the uci-defaults script that offers the language in LuCI), its install scripts in an
// image root and on a live router (instroot.ts), its own size budget, and reproducibility.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, readFileSync, unlinkSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedMtime, expectGnuOwned, expectGzipN, expectTarOrder, ipkgBuildReference, scrambledCopy } from "./checks";
import { ImageRoot, luciTmp, stubCalls } from "./instroot";
import { buildInto, controlText, ensureBuilt, type Ipk, packageNamed, parseControl, PKG, readIpk, removeTemps, REPO, tempDir } from "./opkg";

const NAME = "luci-i18n-wgmgr-zh-cn";
const I18N = packageNamed(NAME);
const ROOT = join(REPO, I18N.root);
/** The catalog `make` compiled from po/zh_Hans/wgmgr.po. */
const CATALOG = join(REPO, "build/i18n/wgmgr.zh-cn.lmo");
const LMO = "usr/lib/lua/luci/i18n/wgmgr.zh-cn.lmo";
const DEFAULTS = `etc/uci-defaults/${NAME}`;
/** luci.mk's LUCI_LANG.zh_Hans: the language's name under System → Language. */
const LANGUAGE = "简体中文 (Chinese Simplified)";

let file: string;
let bytes: Buffer;
let ipk: Ipk;

beforeAll(() => {
  ensureBuilt();
  file = buildInto({ package: NAME });
  bytes = readFileSync(file);
  ipk = readIpk(bytes);
});

afterAll(removeTemps);

const fields = () => parseControl(controlText(ipk, "control")!);
const field = (k: string) => fields().find(([n]) => n === k)?.[1];
const dataFiles = () => ipk.data.filter((m) => m.type === "0");
const member = (path: string) => ipk.data.find((m) => m.name === `./${path}`)!;

describe("layout (ipkg-build's, read the way opkg reads it)", () => {
  it("is named luci-i18n-wgmgr-zh-cn_<version>_all.ipk", () => {
    expect(file.endsWith(`/${NAME}_${PKG.version}_all.ipk`), file).toBe(true);
  });

  it("is a gzip -n'd GNU tar of ./debian-binary, ./data.tar.gz, ./control.tar.gz, owned by 0:0 with one mtime", () => {
    expectGzipN(bytes, ".ipk");
    expect(ipk.outer.map((m) => m.name)).toEqual(["./debian-binary", "./data.tar.gz", "./control.tar.gz"]);
    expect(ipk.outer[0].data.toString()).toBe("2.0\n");
    expectGzipN(ipk.dataGz, "data.tar.gz");
    expectGzipN(ipk.controlGz, "control.tar.gz");
    const mtime = expectedMtime();
    expectGnuOwned(ipk.outer, mtime, "outer");
    expectGnuOwned(ipk.control, mtime, "control");
    expectGnuOwned(ipk.data, mtime, "data");
  });

  it("lists names as tar --sort=name does, and has package-pack.mk's control members (postinst-pkg, no prerm-pkg or postrm)", () => {
    expectTarOrder(ipk.data.map((m) => m.name));
    expect(ipk.control.map((m) => m.name)).toEqual(["./", "./control", "./postinst", "./postinst-pkg", "./prerm"]);
  });

  it("is byte-identical to what ipkg-build's tar/gzip commands make of the same package directory", () => {
    const ref = ipkgBuildReference(ipk);
    expect(ref.dataGz.equals(ipk.dataGz), "data.tar.gz").toBe(true);
    expect(ref.controlGz.equals(ipk.controlGz), "control.tar.gz").toBe(true);
    expect(ref.ipk.equals(bytes), "the whole .ipk").toBe(true);
  });
});

describe("control (luci.mk's LuciTranslation)", () => {
  it("has OpenWrt's fields in package-pack.mk's order", () => {
    expect(fields().map(([k]) => k)).toEqual([
      "Package", "Version", "Depends", "Source", "SourceName", "License", "Section", ...(PKG.homepage ? ["URL"] : []), "Maintainer", "Architecture", "Installed-Size", "Description",
    ]);
  });

  it("is luci-i18n-wgmgr-zh-cn at the app's version, depending on exactly luci-app-wgmgr, section luci, arch all", () => {
    expect(field("Package")).toBe(NAME);
    expect(field("Version")).toBe(PKG.version);
    expect(field("Depends")).toBe(PKG.name);
    expect(field("Section")).toBe("luci");
    expect(field("Architecture")).toBe("all");
  });

  it("comes from the app's source, with its licence and maintainer", () => {
    expect(field("Source")).toBe(PKG.name);
    expect(field("SourceName")).toBe(PKG.name);
    expect(field("License")).toBe(PKG.license);
    expect(field("Maintainer")).toBe(PKG.author);
    expect(field("URL")).toBe(PKG.homepage);
  });

  it("is described as LuciTranslation describes one: Translation for <app> - <language>", () => {
    expect(field("Description")).toBe(`Translation for ${PKG.name} - ${LANGUAGE}`);
  });

  it("gives Installed-Size as ipkg-build computes it (the uncompressed data.tar's length)", () => {
    expect(Number(field("Installed-Size"))).toBe(ipk.dataTar.length);
  });

  it("has the app's postinst/prerm (package-pack.mk writes the same for every package), all scripts executable and valid sh", () => {
    const app = readIpk(readFileSync(buildInto()));
    for (const s of ["postinst", "prerm"]) expect(controlText(ipk, s), s).toBe(controlText(app, s));
    for (const m of ipk.control.filter((x) => x.type === "0" && x.name !== "./control")) {
      expect(m.mode, m.name).toBe(0o755);
      const r = spawnSync("sh", ["-n"], { input: m.data });
      expect(r.status, `sh -n ${m.name}: ${r.stderr}`).toBe(0);
    }
    expect(ipk.control.find((x) => x.name === "./control")!.mode).toBe(0o644);
  });
});

describe("data", () => {
  it("installs exactly the catalog and the uci-defaults script", () => {
    expect(dataFiles().map((m) => m.name)).toEqual([`./${DEFAULTS}`, `./${LMO}`]);
    for (const m of ipk.data.filter((x) => x.type === "5")) expect(m.mode, m.name).toBe(0o755);
  });

  it("installs the catalog make compiled, 0644, where LuCI loads *.zh-cn.lmo", () => {
    expect(member(LMO).mode).toBe(0o644);
    expect(member(LMO).data.equals(readFileSync(CATALOG))).toBe(true);
  });

  it("installs the uci-defaults script that adds the language to /etc/config/luci as LuCI's key for zh-cn (zh_cn)", () => {
    const m = member(DEFAULTS);
    expect(m.mode).toBe(0o755);
    expect(m.data.equals(readFileSync(join(REPO, I18N.scripts, "uci-defaults")))).toBe(true);
    // what the language is called must match the Description (both are luci.mk's LUCI_LANG)
    const code = m.data.toString().split("\n").filter((l) => !l.startsWith("#"));
    expect(code).toEqual([`uci set luci.languages.zh_cn='${LANGUAGE}'; uci commit luci`, ""]);
    // LuCI turns the setting zh_cn into the catalog suffix zh-cn
    expect(LMO.endsWith(`.${"zh_cn".replace("_", "-")}.lmo`)).toBe(true);
  });

  it(`stays within its own ${I18N.budget / 1024} KiB budget (\`make size\` shows what is in it)`, () => {
    expect(bytes.length, `.ipk is ${bytes.length} bytes; run make size`).toBeLessThanOrEqual(I18N.budget);
  });

  it("make size passes it against its budget and fails it over the budget", () => {
    const size = (f: string) => spawnSync(process.execPath, [join(REPO, "scripts/ipk/size.mjs"), f], { encoding: "utf8" });
    const fits = size(file);
    expect(fits.status, fits.stderr).toBe(0);
    expect(fits.stdout).toContain(`budget ${(I18N.budget / 1024).toFixed(1)} KiB`);
    expect(fits.stdout).toContain(`/${LMO}`);
    // 18 KiB that does not compress: over 16 KiB, though far within the app's budget
    const root = tempDir("wgmgr-heavy-i18n-");
    cpSync(ROOT, root, { recursive: true });
    writeFileSync(join(root, "usr/lib/lua/luci/i18n/heavy.zh-cn.lmo"), randomBytes(18 * 1024));
    const heavy = size(buildInto({ package: NAME, root }));
    expect(heavy.status).toBe(1);
    expect(heavy.stdout).toContain("OVER by");
    expect(heavy.stderr).toContain(`${NAME}'s .ipk is over its budget`);
  });
});

describe("install scripts, run as opkg runs them (instroot.ts)", () => {
  // postinst-pkg names the live system's /etc/uci-defaults/; the tests point it at a
  // directory of their own, which holds the script as a live router would.
  const redirect = (area: ImageRoot) => {
    const dir = join(area.dir, "live/etc/uci-defaults");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, NAME), member(DEFAULTS).data);
    return { script: join(dir, NAME), postinst: controlText(ipk, "postinst-pkg")!.replaceAll("/etc/uci-defaults/", `${dir}/`) };
  };

  describe("in an image root (IPKG_INSTROOT set), after the app", () => {
    let area: ImageRoot;
    let files: string[];
    let before: Record<string, string>;
    let tmpBefore: string[];

    beforeAll(() => {
      area = new ImageRoot();
      area.install(readIpk(readFileSync(buildInto())), PKG.name);
      files = area.install(ipk, NAME);
      // so that a postinst-pkg reaching for the live system would show
      writeFileSync(join(area.root, "usr/lib/opkg/info", `${NAME}.postinst-pkg`), redirect(area).postinst);
      before = area.snapshot();
      tmpBefore = luciTmp();
    });

    it("runs postinst → default_postinst → postinst-pkg, which does nothing: the script waits for the first boot", () => {
      const r = area.run(NAME, "postinst", "configure");
      expect(r.status, r.stderr).toBe(0);
      expect(r.log).toEqual([`default_postinst ${NAME} root=${area.root}`, "postinst-pkg status=0"]);
      expect(stubCalls(r), "no stubbed command ran").toEqual([]);
      expect(area.snapshot()).toEqual(before);
      expect(existsSync(join(area.root, DEFAULTS))).toBe(true);
      expect(luciTmp()).toEqual(tmpBefore);
    });

    it("at the first boot the script sets the language in /etc/config/luci (as /etc/init.d/boot sources it)", () => {
      const r = area.live("first-boot", `cd "${join(area.root, "etc/uci-defaults")}" && . ./${NAME}`);
      expect(r.status, r.stderr).toBe(0);
      expect(stubCalls(r)).toEqual([`uci set luci.languages.zh_cn=${LANGUAGE}`, "uci commit luci"]);
    });

    it("does nothing at all when IPKG_NO_SCRIPT=1", () => {
      expect(area.run(NAME, "postinst", "configure", { IPKG_NO_SCRIPT: "1" })).toMatchObject({ status: 0, log: [] });
    });

    it("removes cleanly: prerm → default_prerm (no prerm-pkg), the files go, there is no postrm", () => {
      const r = area.run(NAME, "prerm", "remove");
      expect(r.status, r.stderr).toBe(0);
      expect(r.log).toEqual([`default_prerm ${NAME} root=${area.root}`]);
      for (const f of files) unlinkSync(join(area.root, f));
      expect(existsSync(join(area.root, "usr/lib/opkg/info", `${NAME}.postrm`))).toBe(false);
      expect(existsSync(join(area.root, LMO))).toBe(false);
      expect(existsSync(join(area.root, "usr/libexec/rpcd/wgmgr")), "the app stays").toBe(true);
      expect(luciTmp()).toEqual(tmpBefore);
    });
  });

  describe("on a live router (IPKG_INSTROOT empty; commands stubbed)", () => {
    let area: ImageRoot;
    let defaults: string;
    let postinst: string;

    beforeAll(() => {
      area = new ImageRoot();
      ({ script: defaults, postinst } = redirect(area));
    });

    it("postinst-pkg names the installed script, and nothing of the live system besides", () => {
      const code = controlText(ipk, "postinst-pkg")!.split("\n").filter((l) => !/^\s*#/.test(l)).join("\n");
      expect(code.match(/\/[\w./-]+/g)).toEqual([`/${DEFAULTS}`, `/${DEFAULTS}`]);
    });

    it("postinst-pkg runs the uci-defaults script (setting the language) and deletes it", () => {
      const r = area.live("postinst-pkg", postinst);
      expect(r.status, r.stderr).toBe(0);
      expect(stubCalls(r)).toEqual([`uci set luci.languages.zh_cn=${LANGUAGE}`, "uci commit luci", `rm -f ${defaults}`]);
    });

    it("postinst-pkg does nothing when default_postinst has already run the script (it is gone)", () => {
      unlinkSync(defaults);
      const r = area.live("postinst-pkg", postinst);
      expect(r.status, r.stderr).toBe(0);
      expect(stubCalls(r)).toEqual([]);
    });

    it("no install script touches the network, the firewall, WireGuard or rpcd, nor any configuration but luci", () => {
      for (const name of ["postinst", "postinst-pkg", "prerm"]) {
        const code = controlText(ipk, name)!.split("\n").filter((l) => !/^\s*#/.test(l)).join("\n");
        expect(code, name).not.toMatch(/\b(ubus|wg|ifdown|ifup|fw4|nft|killall|rpcd)\b|\/etc\/config|network|firewall/);
      }
      writeFileSync(defaults, member(DEFAULTS).data);
      const uci = stubCalls(area.live("postinst-pkg", postinst)).filter((c) => c.startsWith("uci "));
      for (const c of uci) expect(c).toMatch(/^uci (set luci\.|commit luci$)/);
    });
  });
});

describe("reproducibility", () => {
  it("gives byte-identical packages from two builds of the same tree", () => {
    expect(readFileSync(buildInto({ package: NAME })).equals(bytes)).toBe(true);
  });

  it("ignores the builder's umask and the modes the checkout left on the files", () => {
    expect(readFileSync(buildInto({ package: NAME, umask: "077" })).equals(bytes), "umask 077").toBe(true);
    const copy = scrambledCopy(ROOT, [DEFAULTS]);
    expect(readFileSync(buildInto({ package: NAME, root: copy })).equals(bytes), "scrambled modes").toBe(true);
  });

  it("takes every mtime from SOURCE_DATE_EPOCH when it is set", () => {
    const p = readIpk(readFileSync(buildInto({ package: NAME, env: { SOURCE_DATE_EPOCH: "1700000000" } })));
    for (const m of [...p.outer, ...p.control, ...p.data]) expect(m.mtime, m.name).toBe(1700000000);
  });
});
