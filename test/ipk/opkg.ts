// Reads an .ipk the way opkg's deb_extract does (opkg-lede libbb/unarchive.c): gunzip
// the outer stream, walk its tar headers, and pick control.tar.gz and data.tar.gz by
// name, with or without a leading "./". Written independently of scripts/build-ipk.mjs
// so that it checks the writer rather than agreeing with it. Also: helpers to build the
// package into a temporary directory, so tests never race over dist/.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";

export const REPO = resolve(import.meta.dirname, "../..");
export const ROOT = join(REPO, "build/root");
export const PKG = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { name: string; version: string; license: string };
export const IPK_NAME = `${PKG.name}_${PKG.version}_all.ipk`;

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

/** Every member of an uncompressed tar, in archive order (GNU long names followed). */
export function tarMembers(buf: Buffer): TarMember[] {
  const out: TarMember[] = [];
  let longName: string | undefined;
  let off = 0;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (at: number, len: number) => {
      const f = h.subarray(at, at + len);
      const nul = f.indexOf(0);
      return f.subarray(0, nul < 0 ? len : nul).toString("utf8");
    };
    const num = (at: number, len: number) => parseInt(str(at, len).trim() || "0", 8);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
    const size = num(124, 12);
    const type = String.fromCharCode(h[156] || 0x30);
    const data = Buffer.from(buf.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === "L") {
      longName = data.toString("utf8").replace(/\0+$/, "");
      continue;
    }
    out.push({
      name: longName ?? str(0, 100),
      type,
      mode: num(100, 8),
      uid: num(108, 8),
      gid: num(116, 8),
      size,
      mtime: num(136, 12),
      checksumOk: num(148, 8) === sum,
      magic: h.subarray(257, 265).toString("latin1"),
      uname: str(265, 32),
      gname: str(297, 32),
      data,
    });
    longName = undefined;
  }
  return out;
}

export interface Ipk {
  outer: TarMember[];
  control: TarMember[];
  data: TarMember[];
  controlGz: Buffer;
  dataGz: Buffer;
  dataTar: Buffer;
}

export function readIpk(ipk: Buffer): Ipk {
  const outer = tarMembers(gunzipSync(ipk));
  const find = (n: string) => {
    const m = outer.find((x) => x.name === n || x.name === `./${n}`);
    if (!m) throw new Error(`no ${n} in the package`);
    return m.data;
  };
  const controlGz = find("control.tar.gz");
  const dataGz = find("data.tar.gz");
  const dataTar = gunzipSync(dataGz);
  return { outer, control: tarMembers(gunzipSync(controlGz)), data: tarMembers(dataTar), controlGz, dataGz, dataTar };
}

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

/** A fresh temporary directory, removed by removeTemps() (call it in afterAll). */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

export function removeTemps(): void {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Builds the package into a fresh temporary directory and returns the .ipk's path. */
export function buildInto(opts: { env?: Record<string, string | undefined>; root?: string; umask?: string } = {}): string {
  const out = tempDir("wgmgr-ipk-");
  const env = { ...process.env, ...opts.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const args = [join(REPO, "scripts/build-ipk.mjs"), "--quiet", "--out", out, "--root", opts.root ?? ROOT];
  const r = opts.umask
    ? spawnSync("sh", ["-c", `umask ${opts.umask} && exec "$0" "$@"`, process.execPath, ...args], { env, encoding: "utf8" })
    : spawnSync(process.execPath, args, { env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`build-ipk failed: ${r.stderr}`);
  const files = readdirSync(out);
  if (files.length !== 1) throw new Error(`expected one .ipk in ${out}, got ${files.join(", ")}`);
  return join(out, files[0]);
}

/** build/root must exist (the views and menu may still be missing: that is fine). */
export function ensureBuilt(): void {
  if (!existsSync(join(ROOT, "usr/libexec/rpcd/wgmgr"))) {
    execFileSync("make", ["--no-print-directory", "plugin", "views", "static"], { cwd: REPO, stdio: "inherit" });
  }
}

/** The last commit's time, or undefined outside git. */
export function commitTime(): number | undefined {
  const r = spawnSync("git", ["log", "-1", "--format=%ct"], { cwd: REPO, encoding: "utf8" });
  return r.status === 0 && /^\d+/.test(r.stdout) ? Number(r.stdout.trim()) : undefined;
}
