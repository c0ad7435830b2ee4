// Packs each package's tree (PACKAGES in package.mjs) into dist/<name>-<version>-r<release>.apk,
// the package OpenWrt 25.12's apk (apk-tools 3) installs, from the same files, modes,
// control data and scripts as the .ipk (package.mjs) and the way OpenWrt's
// include/package-pack.mk makes one with `apk mkpkg`:
//
//   - info from the control fields: version <Version>-r<release> (apk's spelling of
//     OpenWrt's PKG_VERSION-PKG_RELEASE), arch noarch for "all", origin from Source,
//     the description on one line, depends "a, b (>= 1)" as the apk dependencies a b>=1;
//   - the maintainer scripts wrapped as package-pack.mk wraps them: post-install (and
//     post-upgrade, the same with PKG_UPGRADE=1) calls default_postinst from
//     /lib/functions.sh and then runs postinst-pkg's lines; pre-deinstall calls
//     default_prerm and then prerm-pkg's lines; post-deinstall is postrm;
//   - /lib/apk/packages/<name>.list, the installed files, which default_postinst and
//     default_prerm read (to run uci-defaults, enable init scripts, ...).
//
// The container itself is written by apk/write.mjs.
//
// usage: node scripts/build-apk.mjs [--package NAME [--root DIR]] [--out dist] [--quiet]
import { writeApk } from "./apk/write.mjs";
import { byteOrder, packageRoot, parseArgs, publish, readControl, readScripts, runMain, sourceDateEpoch, walk } from "./package.mjs";

/**
 * OpenWrt's PKG_RELEASE: raise it when a package changes but package.json's version does
 * not. One for all packages, as they come from one source (one OpenWrt Makefile).
 */
export const RELEASE = 1;

/** The apk info package-pack.mk passes to `apk mkpkg --info` for these control fields. */
export function apkInfo(fields, release) {
  return {
    name: fields.Package,
    version: `${fields.Version}-r${release}`,
    description: fields.Description.replace(/\s+/g, " ").trim(),
    arch: fields.Architecture === "all" ? "noarch" : fields.Architecture,
    license: fields.License,
    origin: fields.Source,
    url: fields.URL,
    maintainer: fields.Maintainer,
    // parentheses and spaces dropped, then split at the commas: "b (>= 1)" → "b>=1"
    depends: (fields.Depends ?? "").replace(/[()\s]/g, "").split(",").filter(Boolean),
  };
}

/** The apk scripts package-pack.mk writes around the package's postinst-pkg, prerm-pkg and postrm. */
export function apkScripts(name, { "postinst-pkg": postinst, "prerm-pkg": prerm, postrm }) {
  // package-pack.mk appends a script with `sed '/^\s*#!/d'`: every #! line goes
  const body = (text) => (text ?? "").split(/(?<=\n)/).filter((l) => !/^\s*#!/.test(l)).join("");
  const load = [
    "[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0",
    ". ${IPKG_INSTROOT}/lib/functions.sh",
    'export root="${IPKG_INSTROOT}"',
    `export pkgname="${name}"`,
  ].join("\n");
  const postInstall = `#!/bin/sh\n[ "\${IPKG_NO_SCRIPT}" = "1" ] && exit 0\n${load}\nadd_group_and_user\ndefault_postinst\n${body(postinst)}`;
  const scripts = {
    "post-install": postInstall,
    "post-upgrade": "#!/bin/sh\nexport PKG_UPGRADE=1\n" + body(postInstall),
    "pre-deinstall": `#!/bin/sh\n${load}\ndefault_prerm\n${body(prerm)}`,
  };
  if (postrm !== undefined) scripts["post-deinstall"] = postrm.replace(/^\s*#!/, "#!");
  return scripts;
}

/**
 * An OpenWrt .apk of the tree under `root`: control fields as readControl() returns them,
 * scripts { "postinst-pkg"?, "prerm-pkg"?, postrm? } (texts), every file with `mtime`.
 * Returns its file name (<name>-<version>.apk, as OpenWrt names it) and its bytes.
 */
export function openwrtApk({ root, fields, scripts, release = RELEASE, mtime }) {
  const info = apkInfo(fields, release);
  const files = walk(root).map((e) => ({ path: e.name.replace(/^\.\/?/, "").replace(/\/$/, ""), mode: e.mode, data: e.data }));
  const installed = files.filter((f) => f.data !== undefined).map((f) => `/${f.path}\n`);
  for (const dir of ["lib", "lib/apk", "lib/apk/packages"]) {
    if (!files.some((f) => f.path === dir)) files.push({ path: dir, mode: 0o755, data: undefined });
  }
  // `find . -type f,l -printf "/%P\n" | sort` in the C locale, before the .list exists
  files.push({ path: `lib/apk/packages/${info.name}.list`, mode: 0o644, data: Buffer.from(installed.sort(byteOrder).join("")) });
  const bytes = writeApk({ info, files, scripts: apkScripts(info.name, scripts), mtime });
  return { file: `${info.name}-${info.version}.apk`, bytes };
}

/** Builds the package (an entry of PACKAGES) from its root, or `root`, into `out`; returns the file's path. */
export function buildApk(pkg, { root, out, quiet }) {
  root = packageRoot(pkg, root);
  const mtime = sourceDateEpoch();
  const { fields } = readControl(pkg);
  const { file, bytes } = openwrtApk({ root, fields, scripts: readScripts(pkg), mtime });

  // other versions of this package, not packages whose name merely starts the same
  const name = fields.Package.replace(/[.+]/g, "\\$&");
  const stale = new RegExp(`^${name}-[0-9][^-]*-r[0-9]+\\.apk$`);
  const path = publish(out, file, bytes, (old) => stale.test(old));
  if (!quiet) console.log(`Packaged ${root} into ${path} (${bytes.length} bytes, SOURCE_DATE_EPOCH=${mtime})`);
  return path;
}

runMain(import.meta, "build-apk", (argv) => {
  const opts = parseArgs(argv, "build-apk.mjs");
  for (const pkg of opts.packages) buildApk(pkg, opts);
});
