// `make size`: how big each package's .ipk and .apk are and what is in them, biggest first,
// against the package's budget (PACKAGES in scripts/package.mjs). Reads each package the
// way opkg (read.mjs) or apk (../apk/read.mjs) does, so it shows exactly what lands on the
// router.
//
// usage: node scripts/ipk/size.mjs [path/to/package.ipk|.apk ...]
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { readIpk } from "./read.mjs";
import { readApk } from "../apk/read.mjs";
import { join, relative, resolve } from "node:path";
import { PACKAGES, packageNamed, REPO } from "../package.mjs";

/** dist's .ipk and .apk of every package, at package.json's version. */
function findPackages() {
  const { version } = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
  const dist = join(REPO, "dist");
  const found = existsSync(dist) ? readdirSync(dist) : [];
  const files = [];
  const missing = [];
  for (const { name } of PACKAGES) {
    const ipk = `${name}_${version}_all.ipk`;
    const apk = found.find((f) => f.startsWith(`${name}-${version}-r`) && f.endsWith(".apk"));
    if (found.includes(ipk)) files.push(join(dist, ipk));
    else missing.push(ipk);
    if (apk) files.push(join(dist, apk));
    else missing.push(`${name}-${version}-r*.apk`);
  }
  if (missing.length) {
    const have = found.filter((f) => /\.(ipk|apk)$/.test(f));
    throw new Error(`dist has no ${missing.join(", ")}${have.length ? ` (it has ${have.join(", ")})` : ""}: run make`);
  }
  return files;
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

const over = [];

/** The line on a package's size against the budget of the package of that name. */
function budget(bytes, what, name) {
  const { budget } = packageNamed(name);
  const left = budget - bytes;
  if (left < 0) over.push(`${name}'s ${what} is over its budget of ${kib(budget)}`);
  return `  ${what} ${bytes} bytes (${kib(bytes)}); budget ${kib(budget)}: ` + (left >= 0 ? `${kib(left)} left` : `OVER by ${kib(-left)}`);
}

/** Installed files, biggest first, with each one's gzip'd size as a guide to its share. */
function table(files) {
  const rows = files
    .map((f) => ({ ...f, gz: gzipSync(f.data).length }))
    .sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1));
  console.log(`\n  ${"bytes".padStart(8)} ${"gzip'd".padStart(8)}  mode  installed file (biggest first)`);
  for (const f of rows) {
    console.log(`  ${String(f.size).padStart(8)} ${String(f.gz).padStart(8)}  ${f.mode.toString(8).padStart(4, "0")}  ${f.path}`);
  }
  const total = rows.reduce((n, f) => n + f.size, 0);
  console.log(`  ${String(total).padStart(8)} ${"".padStart(8)}        ${rows.length} files`);
}

function showIpk(bytes) {
  const { control, data, dataGz, controlGz, dataTar } = readIpk(bytes);
  const fields = control.find((m) => m.name === "./control" || m.name === "control")?.data.toString("utf8") ?? "";
  const name = /^Package: *(\S+)$/m.exec(fields)?.[1] ?? "(no Package field)";
  console.log(budget(bytes.length, ".ipk", name));
  console.log(`  data.tar.gz ${dataGz.length}, control.tar.gz ${controlGz.length}, Installed-Size ${dataTar.length} (the uncompressed data.tar)`);
  table(data.filter((m) => m.type === "0").map((m) => ({ path: m.name.replace(/^\.\//, "/"), size: m.size, mode: m.mode, data: m.data })));
  console.log(`\n  (gzip'd: each file compressed alone, a guide to its share of the .ipk)`);
}

function showApk(bytes) {
  const { blocks, info, files } = readApk(bytes);
  console.log(budget(bytes.length, ".apk", info.name));
  const adb = blocks.find((b) => b.type === "adb").length;
  console.log(`  ${info.name} ${info.version}: metadata (ADB block) ${adb}, installed-size ${info["installed-size"]} in ${files.length} files, all deflated together`);
  table(files.map((f) => ({ path: `/${f.path}`, size: f.size, mode: f.mode, data: f.data })));
}

try {
  const files = process.argv.length > 2 ? process.argv.slice(2).map((f) => resolve(f)) : findPackages();
  files.forEach((file, i) => {
    if (i) console.log("");
    console.log(relative(process.cwd(), file) || file);
    const bytes = readFileSync(file);
    if (file.endsWith(".apk")) showApk(bytes);
    else showIpk(bytes);
  });
  if (over.length) {
    for (const o of over) console.error(`\nsize: ${o} (PACKAGES in scripts/package.mjs)`);
    process.exit(1);
  }
} catch (e) {
  console.error(`size: ${e.message}`);
  process.exit(1);
}
