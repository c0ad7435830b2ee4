// The package as opkg reads it (scripts/ipk/read.mjs, written independently of the
// writer scripts/build-ipk.mjs), with types, and helpers to build the package into a
// temporary directory, so tests never race over dist/.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { readIpk as readPackage, tarMembers as readTar } from "../../scripts/ipk/read.mjs";
import { PACKAGES as packages } from "../../scripts/package.mjs";
import { removeTempDir, tempDir as newTempDir } from "../lib/temp.mjs";

export const REPO = resolve(import.meta.dirname, "../..");
export const ROOT = join(REPO, "build/root");
export const PKG = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { name: string; version: string; license: string; author: string; homepage?: string };
export const IPK_NAME = `${PKG.name}_${PKG.version}_all.ipk`;

/** The packages make builds (scripts/package.mjs). */
export interface Package {
  name: string;
  root: string; // relative to the repository
  built: string;
  control: string;
  scripts: string;
  budget: number; // bytes
}
export const PACKAGES: Package[] = packages;
export const packageNamed = (name: string): Package => PACKAGES.find((p) => p.name === name)!;

export interface TarMember {
  name: string;
  type: string; // "0" file, "5" directory, ...
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  size: number;
  mtime: number;
  magic: string; // "ustar  \0" for GNU format
  checksumOk: boolean;
  data: Buffer;
}

export interface Ipk {
  outer: TarMember[];
  control: TarMember[];
  data: TarMember[];
  controlGz: Buffer;
  dataGz: Buffer;
  dataTar: Buffer;
}

// The reader itself is scripts/ipk/read.mjs (shared with `make size`).
export const tarMembers: (buf: Buffer) => TarMember[] = readTar;
export const readIpk: (ipk: Buffer) => Ipk = readPackage;

/** A control member's text by its name with or without "./". */
export function controlText(ipk: Ipk, name: string): string | undefined {
  return ipk.control.find((m) => m.name === name || m.name === `./${name}`)?.data.toString("utf8");
}

/** The control file's fields in order, continuation lines joined. */
export function parseControl(text: string): [string, string][] {
  const fields: [string, string][] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (/^\s/.test(line)) fields[fields.length - 1][1] += "\n" + line;
    else {
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (!m) throw new Error(`bad control line: ${line}`);
      fields.push([m[1], m[2]]);
    }
  }
  return fields;
}

const temps: string[] = [];

/** A fresh temporary directory, removed by removeTemps() (call it in afterAll), or at exit. */
export function tempDir(prefix: string): string {
  const d = newTempDir(prefix);
  temps.push(d);
  return d;
}

export function removeTemps(): void {
  for (const d of temps.splice(0)) removeTempDir(d);
}

/**
 * Builds a package (the app's unless `package` names another) into a fresh temporary
 * directory and returns its path: the .ipk, or with `script: "build-apk"` the .apk.
 * `root` replaces the package's tree.
 */
export function buildInto(
  opts: { env?: Record<string, string | undefined>; root?: string; umask?: string; script?: "build-ipk" | "build-apk"; package?: string } = {},
): string {
  const script = opts.script ?? "build-ipk";
  const out = tempDir(`wgmgr-${script}-`);
  const env = { ...process.env, ...opts.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const args = [join(REPO, `scripts/${script}.mjs`), "--quiet", "--out", out, "--package", opts.package ?? PKG.name];
  if (opts.root) args.push("--root", opts.root);
  const r = opts.umask
    ? spawnSync("sh", ["-c", `umask ${opts.umask} && exec "$0" "$@"`, process.execPath, ...args], { env, encoding: "utf8" })
    : spawnSync(process.execPath, args, { env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
  const files = readdirSync(out);
  if (files.length !== 1) throw new Error(`expected one package in ${out}, got ${files.join(", ")}`);
  return join(out, files[0]);
}

/** Every package's tree must exist (the views and menu may still be missing: that is fine). */
export function ensureBuilt(): void {
  if (PACKAGES.some((p) => !existsSync(join(REPO, p.root, p.built)))) {
    execFileSync("make", ["--no-print-directory", "plugin", "views", "static", "i18n"], { cwd: REPO, stdio: "inherit" });
  }
}

/** The last commit's time, or undefined outside git. */
export function commitTime(): number | undefined {
  const r = spawnSync("git", ["log", "-1", "--format=%ct"], { cwd: REPO, encoding: "utf8" });
  return r.status === 0 && /^\d+/.test(r.stdout) ? Number(r.stdout.trim()) : undefined;
}
