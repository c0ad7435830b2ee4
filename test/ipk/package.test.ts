// The .ipk built from build/root: its layout (what ipkg-build writes and opkg reads),
// control fields, modes and owners, that it holds exactly build/root and everything the
// menu, ACL and views refer to, its size budget, and byte-for-byte reproducibility.
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedMtime, expectGnuOwned, expectGzipN, expectTarOrder, ipkgBuildReference, scrambledCopy } from "./checks";
import { buildInto, controlText, ensureBuilt, IPK_NAME, type Ipk, packageNamed, parseControl, PKG, readIpk, removeTemps, REPO, ROOT, type TarMember, tempDir } from "./opkg";

const DEPENDS = ["luci-base", "rpcd", "lua", "libuci-lua", "wireguard-tools", "kmod-wireguard"];
const CONTROL_MEMBERS = ["./", "./control", "./postinst", "./postinst-pkg", "./postrm", "./prerm", "./prerm-pkg"];
const SCRIPTS = ["postinst", "postinst-pkg", "postrm", "prerm", "prerm-pkg"];
/** LuCI JS modules that luci-base itself provides (luci.js built-ins and its resources/). */
const LUCI_BASE_MODULES = new Set([
  "baseclass", "dom", "poll", "request", "session", "view", "rpc", "uci", "ui", "form", "fs", "network",
  "firewall", "validation", "xhr", "tools.widgets", "tools.views", "tools.prng", "protocol.static", "protocol.dhcp",
]);
/** ubus objects that the package's dependencies provide (rpcd, luci-base, procd, netifd). */
const DEPENDENCY_OBJECTS = new Set(["session", "uci", "file", "rc", "luci", "luci-rpc", "system", "service", "network", "network.device", "network.wireless", "iwinfo"]);

/** The size budget `make size` enforces (scripts/package.mjs). */
const CEILING = packageNamed(PKG.name).budget;

let file: string;
let bytes: Buffer;
let ipk: Ipk;

beforeAll(() => {
  ensureBuilt();
  file = buildInto();
  bytes = readFileSync(file);
  ipk = readIpk(bytes);
});

afterAll(removeTemps);

const dataFiles = () => ipk.data.filter((m) => m.type === "0");
const dataMember = (path: string) => ipk.data.find((m) => m.name === `./${path.replace(/^\//, "")}`);

/** build/root as tar would list it: "./", dirs with a trailing "/", files; unordered. */
function rootTree(): Map<string, { dir: boolean; data?: Buffer }> {
  const out = new Map<string, { dir: boolean; data?: Buffer }>([["./", { dir: true }]]);
  const visit = (abs: string) => {
    for (const name of readdirSync(abs)) {
      const p = join(abs, name);
      const rel = "./" + relative(ROOT, p);
      if (statSync(p).isDirectory()) {
        out.set(rel + "/", { dir: true });
        visit(p);
      } else out.set(rel, { dir: false, data: readFileSync(p) });
    }
  };
  visit(ROOT);
  return out;
}

describe("layout (ipkg-build's, read the way opkg reads it)", () => {
  it("is named <Package>_<Version>_all.ipk", () => {
    expect(file.endsWith("/" + IPK_NAME)).toBe(true);
  });

  it("is a gzip -n'd GNU tar of ./debian-binary, ./data.tar.gz, ./control.tar.gz in ipkg-build's order", () => {
    expectGzipN(bytes, ".ipk");
    expect(ipk.outer.map((m) => m.name)).toEqual(["./debian-binary", "./data.tar.gz", "./control.tar.gz"]);
    expect(ipk.outer.every((m) => m.type === "0" && m.mode === 0o644)).toBe(true);
    expect(ipk.outer[0].data.toString()).toBe("2.0\n");
    expectGzipN(ipk.dataGz, "data.tar.gz");
    expectGzipN(ipk.controlGz, "control.tar.gz");
  });

  it("owns everything as 0:0 (numeric, no names) with the last commit's time as mtime", () => {
    const mtime = expectedMtime();
    expectGnuOwned(ipk.outer, mtime, "outer");
    expectGnuOwned(ipk.control, mtime, "control");
    expectGnuOwned(ipk.data, mtime, "data");
  });

  it("lists names sorted as tar --sort=name does (each directory's entries bytewise, depth first)", () => {
    expectTarOrder(ipk.data.map((m) => m.name));
    expect(ipk.control.map((m) => m.name)).toEqual(CONTROL_MEMBERS);
  });

  it("is byte-identical to what ipkg-build's tar/gzip commands make of the same package directory", () => {
    const ref = ipkgBuildReference(ipk);
    expect(ref.dataGz.equals(ipk.dataGz), "data.tar.gz").toBe(true);
    expect(ref.controlGz.equals(ipk.controlGz), "control.tar.gz").toBe(true);
    expect(ref.ipk.equals(bytes), "the whole .ipk").toBe(true);
  });

  it("is accepted by GNU tar at both levels", () => {
    const t = tempDir("wgmgr-tar-");
    expect(execFileSync("tar", ["-tzf", file], { encoding: "utf8" }).trim().split("\n")).toEqual(["./debian-binary", "./data.tar.gz", "./control.tar.gz"]);
    execFileSync("tar", ["-xzf", file, "-C", t]);
    expect(execFileSync("tar", ["-tzf", join(t, "data.tar.gz")], { encoding: "utf8" })).toContain("./usr/libexec/rpcd/wgmgr");
    expect(execFileSync("tar", ["-tzf", join(t, "control.tar.gz")], { encoding: "utf8" })).toContain("./control");
  });
});

describe("control", () => {
  const fields = () => parseControl(controlText(ipk, "control")!);
  const field = (k: string) => fields().find(([n]) => n === k)?.[1];

  it("has OpenWrt's fields in package-pack.mk's order", () => {
    // URL only when package.json has a homepage (the project has no public home yet).
    expect(fields().map(([k]) => k)).toEqual([
      "Package", "Version", "Depends", "Source", "SourceName", "License", "Section", ...(PKG.homepage ? ["URL"] : []), "Maintainer", "Architecture", "Installed-Size", "Description",
    ]);
    for (const [k, v] of fields()) expect(v.trim(), k).not.toBe("");
  });

  it("names the package, the version and licence from package.json, section luci, arch all", () => {
    expect(field("Package")).toBe("luci-app-wgmgr");
    expect(field("Package")).toMatch(/^[a-zA-Z0-9_.+-]+$/);
    expect(field("Version")).toBe(PKG.version);
    expect(field("License")).toBe(PKG.license);
    expect(field("Maintainer")).toBe(PKG.author);
    expect(field("URL")).toBe(PKG.homepage);
    expect(field("Section")).toBe("luci");
    expect(field("Architecture")).toBe("all");
  });

  it("depends on exactly what the plugin and views need on the router", () => {
    expect(field("Depends")!.split(/,\s*/)).toEqual(DEPENDS);
  });

  it("gives Installed-Size as ipkg-build computes it (the uncompressed data.tar's length)", () => {
    expect(Number(field("Installed-Size"))).toBe(ipk.dataTar.length);
    expect(ipk.dataTar.length % 10240).toBe(0);
  });

  it("ships no config file (the plugin creates /etc/config/wgmgr), so upgrades never clash over it", () => {
    expect(ipk.control.find((x) => x.name === "./conffiles")).toBeUndefined();
    expect(dataMember("/etc/config/wgmgr")).toBeUndefined();
  });

  it("has OpenWrt's postinst/prerm stubs, calling default_postinst/default_prerm", () => {
    expect(controlText(ipk, "postinst")).toBe(
      '#!/bin/sh\n[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0\n. ${IPKG_INSTROOT}/lib/functions.sh\ndefault_postinst $0 $@\n',
    );
    expect(controlText(ipk, "prerm")).toBe("#!/bin/sh\n. ${IPKG_INSTROOT}/lib/functions.sh\ndefault_prerm $0 $@\n");
  });

  it("has executable, syntactically valid scripts and 0644 control/conffiles", () => {
    for (const s of SCRIPTS) {
      const m = ipk.control.find((x) => x.name === `./${s}`)!;
      expect(m.mode, s).toBe(0o755);
      expect(m.data.toString().startsWith("#!/bin/sh\n"), s).toBe(true);
      const r = spawnSync("sh", ["-n"], { input: m.data });
      expect(r.status, `sh -n ${s}: ${r.stderr}`).toBe(0);
    }
    expect(ipk.control.find((x) => x.name === "./control")!.mode).toBe(0o644);
    expect(ipk.control[0].mode).toBe(0o755);
  });
});

describe("data", () => {
  it("holds exactly build/root, file for file", () => {
    const tree = rootTree();
    expect(ipk.data.map((m) => m.name).sort()).toEqual([...tree.keys()].sort());
    for (const m of ipk.data) {
      const want = tree.get(m.name)!;
      expect(m.type, m.name).toBe(want.dir ? "5" : "0");
      if (!want.dir) expect(m.data.equals(want.data!), `${m.name} content`).toBe(true);
    }
  });

  it("has 0755 directories, an executable plugin, and 0644 or 0755 files", () => {
    for (const m of ipk.data) {
      if (m.type === "5") expect(m.mode, m.name).toBe(0o755);
      else expect([0o644, 0o755], m.name).toContain(m.mode);
    }
    expect(dataMember("/usr/libexec/rpcd/wgmgr")?.mode).toBe(0o755);
    for (const m of dataFiles()) {
      if (/^\.\/(usr\/share|www|etc\/config)\//.test(m.name)) expect(m.mode, `${m.name} is data, not a program`).toBe(0o644);
    }
  });

  it("has every view the menu refers to and every ACL group the menu depends on", () => {
    const menus = dataFiles().filter((m) => /^\.\/usr\/share\/luci\/menu\.d\/[^/]+\.json$/.test(m.name));
    const groups = new Set(aclFiles().flatMap((m) => Object.keys(JSON.parse(m.data.toString()))));
    if (menus.length === 0) console.warn("package.test: no menu.d file in build/root yet; nothing to check");
    for (const menu of menus) {
      for (const [node, spec] of Object.entries<any>(JSON.parse(menu.data.toString()))) {
        if (spec.action?.type === "view") {
          const view = `/www/luci-static/resources/view/${spec.action.path}.js`;
          expect(dataMember(view), `${menu.name}: ${node} → ${view}`).toBeDefined();
        }
        for (const g of spec.depends?.acl ?? []) expect(groups.has(g), `${menu.name}: ${node} depends on ACL group ${g}`).toBe(true);
      }
    }
  });

  it("has the rpcd plugin for every ubus object the ACL grants, with the methods it grants", () => {
    const acls = aclFiles();
    if (acls.length === 0) console.warn("package.test: no acl.d file in build/root yet; nothing to check");
    const methods = pluginMethods();
    for (const acl of acls) {
      for (const [group, spec] of Object.entries<any>(JSON.parse(acl.data.toString()))) {
        for (const perm of ["read", "write"]) {
          for (const [object, granted] of Object.entries<any>(spec[perm]?.ubus ?? {})) {
            if (DEPENDENCY_OBJECTS.has(object) || object.startsWith("network.interface")) continue;
            const plugin = dataMember(`/usr/libexec/rpcd/${object}`);
            expect(plugin, `${acl.name}: ${group}.${perm} grants ubus ${object}`).toBeDefined();
            expect(plugin!.mode & 0o100, `${object} is executable (rpcd skips it otherwise)`).toBeTruthy();
            if (object !== "wgmgr") continue;
            for (const m of granted as string[]) {
              if (/[*?[]/.test(m)) continue;
              expect(methods, `${acl.name}: ${group}.${perm} grants wgmgr.${m}`).toContain(m);
            }
          }
        }
      }
    }
  });

  it("has every LuCI module the views require, or it comes with luci-base", () => {
    const views = dataFiles().filter((m) => m.name.startsWith("./www/luci-static/resources/view/") && m.name.endsWith(".js"));
    for (const v of views) {
      for (const mod of requires(v.data.toString())) {
        if (LUCI_BASE_MODULES.has(mod)) continue;
        const path = `/www/luci-static/resources/${mod.replace(/\./g, "/")}.js`;
        expect(dataMember(path), `${v.name} requires '${mod}': ship ${path} or add the package providing it to Depends`).toBeDefined();
      }
    }
  });

  it(`stays within the ${CEILING / 1024} KiB budget (\`make size\` shows what is in it)`, () => {
    expect(bytes.length, `.ipk is ${bytes.length} bytes; run make size`).toBeLessThanOrEqual(CEILING);
  });

  it("make size (scripts/ipk/size.mjs) passes this package and fails one over the budget", () => {
    const size = (file: string) => spawnSync(process.execPath, [join(REPO, "scripts/ipk/size.mjs"), file], { encoding: "utf8" });
    const fits = size(file);
    expect(fits.status, fits.stderr).toBe(0);
    expect(fits.stdout).toContain(`budget ${(CEILING / 1024).toFixed(1)} KiB`);
    // The same tree with 60 KiB that does not compress: over the budget, and make size says so.
    const root = tempDir("wgmgr-heavy-root-");
    cpSync(ROOT, root, { recursive: true });
    writeFileSync(join(root, "www/heavy.bin"), randomBytes(60 * 1024));
    const heavy = size(buildInto({ root }));
    expect(heavy.status).toBe(1);
    expect(heavy.stdout).toContain("OVER by");
    expect(heavy.stderr).toContain(`${PKG.name}'s .ipk is over its budget`);
  });
});

describe("reproducibility", () => {
  it("gives byte-identical packages from two builds of the same tree", () => {
    expect(readFileSync(buildInto()).equals(bytes)).toBe(true);
  });

  it("ignores the builder's umask and the modes the checkout left on the files", () => {
    expect(readFileSync(buildInto({ umask: "077" })).equals(bytes), "umask 077").toBe(true);
    // A copy of build/root with private modes and the plugin without its exec bit.
    const copy = scrambledCopy(ROOT, ["usr/libexec/rpcd/wgmgr"]);
    expect(readFileSync(buildInto({ root: copy })).equals(bytes), "scrambled modes").toBe(true);
  });

  it("takes every mtime from SOURCE_DATE_EPOCH when it is set", () => {
    const p = readIpk(readFileSync(buildInto({ env: { SOURCE_DATE_EPOCH: "1700000000" } })));
    for (const m of [...p.outer, ...p.control, ...p.data]) expect(m.mtime, m.name).toBe(1700000000);
  });

  it("uses mtime 0 outside a git checkout", () => {
    const repo = tempDir("wgmgr-nogit-");
    mkdirSync(join(repo, "scripts"));
    cpSync(join(REPO, "scripts/build-ipk.mjs"), join(repo, "scripts/build-ipk.mjs"));
    cpSync(join(REPO, "scripts/package.mjs"), join(repo, "scripts/package.mjs"));
    cpSync(join(REPO, "scripts/ipk"), join(repo, "scripts/ipk"), { recursive: true });
    cpSync(join(REPO, "package.json"), join(repo, "package.json"));
    const out = join(repo, "dist");
    execFileSync(process.execPath, [join(repo, "scripts/build-ipk.mjs"), "--quiet", "--package", PKG.name, "--root", ROOT, "--out", out], {
      env: { ...process.env, SOURCE_DATE_EPOCH: "", GIT_CEILING_DIRECTORIES: tmpdir() },
    });
    const p = readIpk(readFileSync(join(out, IPK_NAME)));
    for (const m of [...p.outer, ...p.control, ...p.data]) expect(m.mtime, m.name).toBe(0);
  });
});

function aclFiles(): TarMember[] {
  return dataFiles().filter((m) => /^\.\/usr\/share\/rpcd\/acl\.d\/[^/]+\.json$/.test(m.name));
}

/** The methods the packaged plugin announces to rpcd (`wgmgr list`), run under Lua 5.1. */
function pluginMethods(): string[] {
  const t = tempDir("wgmgr-list-");
  const plugin = join(t, "wgmgr");
  writeFileSync(plugin, dataMember("/usr/libexec/rpcd/wgmgr")!.data);
  const r = spawnSync("lua5.1", [plugin, "list"], {
    encoding: "utf8",
    env: { ...process.env, LUA_PATH: join(REPO, "test/lua/?.lua") + ";;", WGMGR_CONFDIR: t, WGMGR_RUNDIR: t, UCI_SAVEDIR: t },
  });
  expect(r.status, r.stderr).toBe(0);
  return Object.keys(JSON.parse(r.stdout));
}

/** The modules a LuCI view pulls in: its leading 'require x [as y]' string directives. */
function requires(src: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:\/\/[^\n]*\n|\/\*[\s\S]*?\*\/|(['"])((?:(?!\1)[^\\\n])*)\1\s*;?)/y;
  let m: RegExpExecArray | null;
  while ((m = re.exec(src))) {
    if (m[1] === undefined) continue; // a comment
    const s = m[2];
    if (s === "use strict") continue;
    const req = /^require\s+(\S+)(?:\s+as\s+\S+)?$/.exec(s);
    if (!req) break;
    out.push(req[1]);
  }
  return out;
}
