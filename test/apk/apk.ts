// The .apk as apk-tools reads it (scripts/apk/read.mjs, written from the APKv3 spec and
// independently of the writer scripts/apk/write.mjs), with types, a helper to build it
// into a temporary directory, and what every package's scripts are made of and run with.
// The .ipk side comes from test/ipk/opkg.ts.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readApk as read } from "../../scripts/apk/read.mjs";
import { buildInto, tempDir } from "../ipk/opkg";

export interface ApkFile {
  path: string; // no leading "/"
  mode: number;
  user: string;
  group: string;
  size: number;
  mtime: number;
  hash: string; // hex
  target?: string;
  data: Buffer;
}

export interface ApkDir {
  path: string; // "" for the root
  mode: number;
  user: string;
  group: string;
}

export interface Apk {
  compression: "deflate" | "none";
  schema: string;
  blocks: { type: "adb" | "sig" | "data"; offset: number; length: number }[];
  adb: Buffer;
  pkg: Record<string, unknown>;
  info: Record<string, string | number | string[]>;
  scripts: Record<string, string>;
  dirs: ApkDir[];
  files: ApkFile[];
}

export const readApk: (buf: Buffer) => Apk = read;

/** Builds an .apk (scripts/build-apk.mjs; the app's unless `package` names another) into a fresh temporary directory and returns its path. */
export function buildApkInto(opts: { env?: Record<string, string | undefined>; root?: string; umask?: string; package?: string } = {}): string {
  return buildInto({ ...opts, script: "build-apk" });
}

// package-pack.mk's apk scripts, as its recipe writes them (for comparison with the builder's):

/** A script's lines as package-pack.mk appends them, with sed '/^\s*#!/d'. */
export const body = (text: string) => text.split("\n").filter((l) => !/^\s*#!/.test(l)).join("\n");
/** What post-install and pre-deinstall start with: /lib/functions.sh loaded, root and pkgname exported. */
export const load = (name: string) =>
  "[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n" +
  ". ${IPKG_INSTROOT}/lib/functions.sh\n" +
  'export root="${IPKG_INSTROOT}"\n' +
  `export pkgname="${name}"\n`;

/**
 * An image root (IPKG_INSTROOT) whose /lib/functions.sh logs the calls the apk scripts
 * make (add_group_and_user, default_postinst, default_prerm) to `log`; `run` runs one of
 * a package's scripts there as apk does, with `path` first in PATH if given.
 */
export class ScriptRoot {
  readonly root = join(tempDir("wgmgr-apk-scripts-"), "root");
  readonly log = join(this.root, "..", "log");

  constructor() {
    mkdirSync(join(this.root, "lib"), { recursive: true });
    writeFileSync(
      join(this.root, "lib/functions.sh"),
      [
        'add_group_and_user() { echo "add_group_and_user $pkgname root=$root" >> "$LOG"; }',
        'default_postinst() { echo "default_postinst $pkgname root=$root upgrade=${PKG_UPGRADE:-0}" >> "$LOG"; }',
        'default_prerm() { echo "default_prerm $pkgname root=$root" >> "$LOG"; }',
        "",
      ].join("\n"),
    );
  }

  run(text: string, env: Record<string, string> = {}, path?: string) {
    writeFileSync(this.log, "");
    const file = join(this.root, "..", "script");
    writeFileSync(file, text, { mode: 0o755 });
    const r = spawnSync(file, [], { encoding: "utf8", env: { PATH: `${path ? `${path}:` : ""}/usr/bin:/bin`, IPKG_INSTROOT: this.root, LOG: this.log, ...env } });
    return { status: r.status, stderr: r.stderr, log: readFileSync(this.log, "utf8").trim().split("\n").filter(Boolean) };
  }
}
