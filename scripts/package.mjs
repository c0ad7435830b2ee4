// What the .ipk (build-ipk.mjs) and the .apk (build-apk.mjs) are made of, in one place:
// the packages and where each one's parts are, the files under a root with the modes they
// install with, the control data from scripts/ipk/ and package.json, the maintainer
// scripts, the one mtime, and writing the result into dist/.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dirname, "..");
/** OpenWrt's CONTROL files: the app's control template and scripts, and the opkg wrappers every package has. */
export const IPK = join(REPO, "scripts/ipk");

/**
 * The packages `make` builds, by name (their control's Package), each with
 *   root: the tree it installs (made by make), relative to the repository;
 *   built: a file the root has once make has made it;
 *   control: its control template (see readControl);
 *   scripts: the directory of its maintainer scripts, postinst-pkg, prerm-pkg and postrm
 *     (package-pack.mk's Package/<name>/postinst, prerm and postrm), each only if it is there;
 *   budget: the most its .ipk or .apk may weigh (flash on a router is a few MB):
 *     `make size` fails above it and the package tests hold it.
 */
export const PACKAGES = [
  {
    name: "luci-app-wgmgr",
    root: "build/root",
    built: "usr/libexec/rpcd/wgmgr",
    control: "scripts/ipk/control",
    scripts: "scripts/ipk",
    // Raised only with features, each time by what they measurably cost: 42 KiB after the
    // hardening (issue 7); 52 KiB with sites and relays (issue 8: the wg-quick parser shared
    // by plugin and import page, the import planner and page, masquerade, the DDNS
    // watchdog, hub routing: +8.6 KiB); 60 KiB with per-device access and diagnose
    // (issue 9: the rules' planner, every check's message and fix, the access selector and
    // the findings panel: +8.3 KiB); 62 KiB with translatable plugin messages (issue 10:
    // each message's template and parameters, and the views' lookup: +1.4 KiB).
    budget: 62 * 1024,
  },
  {
    // The Simplified Chinese catalog, packaged the way luci.mk's LuciTranslation packages
    // a language (the Makefile makes its root).
    name: "luci-i18n-wgmgr-zh-cn",
    root: "build/i18n-root",
    built: "usr/lib/lua/luci/i18n/wgmgr.zh-cn.lmo",
    control: "scripts/ipk/luci-i18n-wgmgr-zh-cn/control",
    scripts: "scripts/ipk/luci-i18n-wgmgr-zh-cn",
    // 8 KiB for the pages' 197 messages; 16 KiB since the plugin's 181 (longer) messages
    // are translated too.
    budget: 16 * 1024,
  },
];

/** Installed files here must run, whatever mode the checkout gave them. */
const EXEC_DIRS = ["usr/libexec/rpcd/", "etc/init.d/", "usr/bin/", "usr/sbin/", "etc/uci-defaults/"];

/** The package of that name. */
export function packageNamed(name) {
  const pkg = PACKAGES.find((p) => p.name === name);
  if (!pkg) throw new Error(`no package ${name} (there are ${PACKAGES.map((p) => p.name).join(", ")})`);
  return pkg;
}

/** The package's root, or `root` instead; an error when make has not built it. */
export function packageRoot(pkg, root = join(REPO, pkg.root)) {
  if (!existsSync(join(root, pkg.built))) throw new Error(`${root} has no ${pkg.built}: run make first`);
  return root;
}

/**
 * --package NAME (default: every package), --root DIR (that package's tree instead of its
 * build directory), --out DIR (default dist), --quiet.
 */
export function parseArgs(argv, usage) {
  const opts = { packages: PACKAGES, root: undefined, out: join(REPO, "dist"), quiet: false };
  const fail = (why) => {
    throw new Error(`${why}\nusage: ${usage} [--package NAME [--root DIR]] [--out DIR] [--quiet]`);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--package") opts.packages = [packageNamed(argv[++i])];
    else if (a === "--root") opts.root = resolve(argv[++i]);
    else if (a === "--out") opts.out = resolve(argv[++i]);
    else if (a === "--quiet") opts.quiet = true;
    else fail(`unknown argument ${a}`);
  }
  if (opts.root !== undefined && opts.packages.length !== 1) fail("--root needs --package: whose tree is it?");
  return opts;
}

/** Every mtime in a package: SOURCE_DATE_EPOCH, else the last commit's time, else 0. */
export function sourceDateEpoch() {
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

export const byteOrder = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * The tree under `dir` in `tar --sort=name -C dir .` order: "./" first, then each
 * directory's entries sorted by name (bytewise), depth first; directories end in "/"
 * and have no data. Modes are set here, not taken from the builder's umask:
 * directories 0755, executables 0755 (anything with an exec bit, and everything in
 * the EXEC_DIRS), other files 0644.
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

/**
 * The package's control template filled in: version, licence, maintainer ("author") and
 * URL ("homepage"; no URL line without one) from package.json, Installed-Size as given,
 * and the description the way package-pack.mk prints it ("Description: " and then every
 * line with its leading whitespace turned into one space). Returns the .ipk's control
 * file and its fields by name.
 */
export function readControl(pkg, installedSize = 0) {
  const pkgJson = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
  const text = readFileSync(join(REPO, pkg.control), "utf8")
    .replace("@VERSION@", pkgJson.version)
    .replace("@LICENSE@", pkgJson.license)
    .replace("@MAINTAINER@", pkgJson.author)
    .replace(/^URL: @URL@\n/m, pkgJson.homepage ? `URL: ${pkgJson.homepage}\n` : "")
    .replace(/^Installed-Size: .*$/m, `Installed-Size: ${installedSize}`);
  const [head, desc] = text.split(/^Description:/m);
  const lines = desc.replace(/\n+$/, "").split("\n").map((l) => l.replace(/^\s*/, " "));
  const control = `${head}Description: ${lines.join("\n")}\n`;

  const fields = {};
  for (const line of control.replace(/\n$/, "").split("\n")) {
    const m = /^([A-Za-z0-9-]+): ?(.*)$/.exec(line);
    if (m) fields[m[1]] = m[2];
    else if (line.startsWith(" ")) fields.Description += "\n" + line;
    else throw new Error(`${pkg.control}: bad line "${line}"`);
  }
  for (const k of ["Package", "Version", "Architecture", "Maintainer"]) {
    if (!fields[k] || /@[A-Z_]+@/.test(fields[k])) throw new Error(`${pkg.control}: ${k} is missing or unfilled`);
  }
  if (/[^a-zA-Z0-9_.+-]/.test(fields.Package)) throw new Error(`${pkg.control}: illegal package name ${fields.Package}`);
  if (fields.Package !== pkg.name) throw new Error(`${pkg.control}: Package ${fields.Package}, but it is the control of ${pkg.name}`);
  return { control, fields };
}

/** The package's maintainer scripts by CONTROL file name (postinst-pkg, prerm-pkg, postrm), those it has. */
export function readScripts(pkg) {
  const scripts = {};
  for (const s of ["postinst-pkg", "prerm-pkg", "postrm"]) {
    const path = join(REPO, pkg.scripts, s);
    if (existsSync(path)) scripts[s] = readFileSync(path, "utf8");
  }
  return scripts;
}

/**
 * Writes `bytes` to out/file atomically (mode 0644), after removing the files in out
 * that isStale(name) picks: older builds of the same package would make
 * `opkg install ./luci-app-wgmgr_*.ipk` (or apk add) ambiguous.
 */
export function publish(out, file, bytes, isStale) {
  mkdirSync(out, { recursive: true });
  for (const old of readdirSync(out)) if (old !== file && isStale(old)) rmSync(join(out, old));
  const path = join(out, file);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  chmodSync(tmp, 0o644);
  renameSync(tmp, path);
  return path;
}

/** Runs a build script's main when it is the program node was started with. */
export function runMain(meta, name, main) {
  if (!process.argv[1] || resolve(process.argv[1]) !== resolve(meta.filename)) return;
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error(`${name}: ${e.message}`);
    process.exit(1);
  }
}
