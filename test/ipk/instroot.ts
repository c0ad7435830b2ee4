// Installing packages the way opkg does, into a temporary image root with IPKG_INSTROOT set
// (as when an image is built): the data goes into the root, the control files into
// usr/lib/opkg/info/<pkg>.*, and the maintainer scripts run with a test double of
// /lib/functions.sh (fixtures/functions.sh). Every command a script could use to touch the
// live system (rm, killall, uci, ...) is a recording stub first in PATH. A package's own
// scripts can also run as on a live router (IPKG_INSTROOT empty), with the same stubs.
// Used by install.test.ts (the app) and i18n-package.test.ts (the translation).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { type Ipk, REPO, tempDir } from "./opkg";

/** Commands a maintainer script could use to change a live router. */
export const STUBS = ["rm", "killall", "uci", "ubus", "wg", "ifup", "ifdown", "fw4", "rpcd", "reload_config", "service", "kill", "ip", "nft", "opkg"];

export interface Run {
  status: number | null;
  stderr: string;
  /** what the functions.sh double logged, and "STUB <command> <args>" for every stubbed command */
  log: string[];
}

/** The commands of a run that were stubs, without the "STUB " in front. */
export const stubCalls = (r: Run) => r.log.filter((x) => x.startsWith("STUB ")).map((x) => x.slice(5));

/** A test's own area: root/ (the image root, with lib/functions.sh), bin/ (the stubs) and the log. */
export class ImageRoot {
  readonly dir = tempDir("wgmgr-instroot-");
  readonly root = join(this.dir, "root");
  readonly bin = join(this.dir, "bin");
  readonly log = join(this.dir, "log");

  constructor() {
    mkdirSync(join(this.root, "lib"), { recursive: true });
    copyFileSync(join(REPO, "test/ipk/fixtures/functions.sh"), join(this.root, "lib/functions.sh"));
    mkdirSync(this.bin);
    for (const s of STUBS) writeFileSync(join(this.bin, s), `#!/bin/sh\necho "STUB ${s} $*" >> "$IPK_TEST_LOG"\nexit 0\n`, { mode: 0o755 });
    writeFileSync(this.log, "");
  }

  /** Unpacks the data into the root and the control files into usr/lib/opkg/info, as opkg does; returns the files. */
  install(ipk: Ipk, pkg: string): string[] {
    const files: string[] = [];
    for (const m of ipk.data) {
      const path = join(this.root, m.name);
      if (m.type === "5") mkdirSync(path, { recursive: true, mode: m.mode });
      else {
        writeFileSync(path, m.data);
        chmodSync(path, m.mode);
        files.push("/" + m.name.replace(/^\.\//, ""));
      }
    }
    const info = join(this.root, "usr/lib/opkg/info");
    mkdirSync(info, { recursive: true });
    for (const m of ipk.control) {
      if (m.type !== "0") continue;
      const path = join(info, `${pkg}.${m.name.replace(/^\.\//, "")}`);
      writeFileSync(path, m.data);
      chmodSync(path, m.mode);
    }
    writeFileSync(join(info, `${pkg}.list`), files.map((f) => f + "\n").join(""));
    return files;
  }

  /** Runs an installed maintainer script the way opkg does: /bin/sh -c "<path> <arg>". */
  run(pkg: string, name: string, arg: string, env: Record<string, string> = {}): Run {
    const path = join(this.root, "usr/lib/opkg/info", `${pkg}.${name}`);
    return this.#sh(`${path} ${arg}`, [], { IPKG_INSTROOT: this.root, PKG_ROOT: this.root, ...env });
  }

  /**
   * Runs a script's text on a "live" system (IPKG_INSTROOT empty), stubs first in PATH:
   * sourced in a subshell, as default_postinst/default_prerm run postinst-pkg/prerm-pkg,
   * or with `exec`, as opkg runs postrm.
   */
  live(name: string, text: string, how: "source" | "exec" = "source"): Run {
    const path = join(this.dir, `live.${name}`);
    writeFileSync(path, text, { mode: 0o755 });
    return this.#sh(how === "source" ? `( . "$1" )` : `"$1" remove`, [path], { IPKG_INSTROOT: "" });
  }

  #sh(command: string, args: string[], env: Record<string, string>): Run {
    writeFileSync(this.log, "");
    const r = spawnSync("/bin/sh", ["-c", command, "sh", ...args], {
      encoding: "utf8",
      env: { PATH: `${this.bin}:/usr/bin:/bin`, IPK_TEST_LOG: this.log, ...env },
    });
    return { status: r.status, stderr: r.stderr, log: readFileSync(this.log, "utf8").split("\n").filter(Boolean) };
  }

  /** Every path of the area with its mode and a hash of its content (the log left out). */
  snapshot(): Record<string, string> {
    const out: Record<string, string> = {};
    const visit = (p: string) => {
      const st = lstatSync(p);
      const rel = relative(this.dir, p) || ".";
      if (st.isDirectory()) {
        out[rel + "/"] = st.mode.toString(8);
        for (const n of readdirSync(p)) visit(join(p, n));
      } else if (p !== this.log) out[rel] = `${st.mode.toString(8)} ${createHash("sha256").update(readFileSync(p)).digest("hex")}`;
    };
    visit(this.dir);
    return out;
  }
}

/** LuCI's caches in the real /tmp: names and modification times. */
export function luciTmp(): string[] {
  return readdirSync(tmpdir())
    .filter((n) => n.startsWith("luci-"))
    .map((n) => `${n} ${lstatSync(join(tmpdir(), n)).mtimeMs}`)
    .sort();
}
