// `make size`: how big the .ipk is and what is in it, biggest first. Reads the package
// the way opkg does (read.mjs), so it shows exactly what lands on the router.
//
// usage: node scripts/ipk/size.mjs [path/to/package.ipk]
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { readIpk } from "./read.mjs";
import { join, relative, resolve } from "node:path";

const BUDGET = 32 * 1024;
const REPO = resolve(import.meta.dirname, "../..");

function findIpk() {
  const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
  const file = join(REPO, "dist", `${pkg.name}_${pkg.version}_all.ipk`);
  if (!existsSync(file)) {
    const found = existsSync(join(REPO, "dist")) ? readdirSync(join(REPO, "dist")).filter((f) => f.endsWith(".ipk")) : [];
    throw new Error(`${file} not found${found.length ? ` (dist has ${found.join(", ")})` : ""}: run make ipk`);
  }
  return file;
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

try {
  const file = process.argv[2] ? resolve(process.argv[2]) : findIpk();
  const ipk = readFileSync(file);
  const { data, dataGz, controlGz, dataTar } = readIpk(ipk);

  const files = data
    .filter((m) => m.type === "0")
    .map((m) => ({ path: m.name.replace(/^\.\//, "/"), size: m.size, gz: gzipSync(m.data).length, mode: m.mode }))
    .sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1));

  const left = BUDGET - ipk.length;
  console.log(relative(process.cwd(), file) || file);
  console.log(
    `  .ipk ${ipk.length} bytes (${kib(ipk.length)}); budget ${kib(BUDGET)}: ` +
      (left >= 0 ? `${kib(left)} left` : `OVER by ${kib(-left)}`),
  );
  console.log(`  data.tar.gz ${dataGz.length}, control.tar.gz ${controlGz.length}, Installed-Size ${dataTar.length} (the uncompressed data.tar)`);
  console.log(`\n  ${"bytes".padStart(8)} ${"gzip'd".padStart(8)}  mode  installed file (biggest first)`);
  for (const f of files) {
    console.log(`  ${String(f.size).padStart(8)} ${String(f.gz).padStart(8)}  ${f.mode.toString(8).padStart(4, "0")}  ${f.path}`);
  }
  const total = files.reduce((n, f) => n + f.size, 0);
  console.log(`  ${String(total).padStart(8)} ${"".padStart(8)}        ${files.length} files`);
  console.log(`\n  (gzip'd: each file compressed alone, a guide to its share of the .ipk)`);
} catch (e) {
  console.error(`size: ${e.message}`);
  process.exit(1);
}
