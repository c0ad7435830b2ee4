// The .apk as apk-tools reads it (scripts/apk/read.mjs, written from the APKv3 spec and
// independently of the writer scripts/apk/write.mjs), with types, and a helper to build
// it into a temporary directory. The .ipk side comes from test/ipk/opkg.ts.
import { readApk as read } from "../../scripts/apk/read.mjs";
import { buildInto } from "../ipk/opkg";

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

/** Builds the .apk (scripts/build-apk.mjs) into a fresh temporary directory and returns its path. */
export function buildApkInto(opts: { env?: Record<string, string | undefined>; root?: string; umask?: string } = {}): string {
  return buildInto({ ...opts, script: "build-apk" });
}
