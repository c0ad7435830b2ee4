// `make size`: how big the .ipk is and what is in it, biggest first. Reads the package
// the way opkg does (gunzip the outer tar, find data.tar.gz, gunzip and walk it), so it
// shows exactly what lands on the router. Node built-ins only.
//
// usage: node scripts/ipk/size.mjs [path/to/package.ipk]
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";
import { join, relative, resolve } from "node:path";

const BUDGET = 32 * 1024;
const REPO = resolve(import.meta.dirname, "../..");

/** Members of a tar as [{name, type, size, mode, data}], following GNU long names. */
function members(buf) {
  const out = [];
  let longName;
  for (let off = 0; off + 512 <= buf.length; ) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a, n) => h.toString("latin1", a, a + n).replace(/\0.*$/s, "");
    const num = (a, n) => parseInt(str(a, n).trim() || "0", 8);
    const size = num(124, 12);
    const type = str(156, 1) || "0";
    const data = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === "L") {
      longName = data.toString("utf8").replace(/\0.*$/s, "");
      continue;
    }
    out.push({ name: longName ?? str(0, 100), type, size, mode: num(100, 8), data });
    longName = undefined;
  }
  return out;
}

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
  const outer = members(gunzipSync(ipk));
  const get = (n) => outer.find((m) => m.name === n || m.name === `./${n}`);
  const data = get("data.tar.gz");
  const control = get("control.tar.gz");
  if (!data || !control) throw new Error(`${file}: no data.tar.gz/control.tar.gz inside, not an ipk`);
  const dataTar = gunzipSync(data.data);

  const files = members(dataTar)
    .filter((m) => m.type === "0")
    .map((m) => ({ path: m.name.replace(/^\.\//, "/"), size: m.size, gz: gzipSync(m.data).length, mode: m.mode }))
    .sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1));

  const left = BUDGET - ipk.length;
  console.log(relative(process.cwd(), file) || file);
  console.log(
    `  .ipk ${ipk.length} bytes (${kib(ipk.length)}); budget ${kib(BUDGET)}: ` +
      (left >= 0 ? `${kib(left)} left` : `OVER by ${kib(-left)}`),
  );
  console.log(`  data.tar.gz ${data.size}, control.tar.gz ${control.size}, Installed-Size ${dataTar.length} (the uncompressed data.tar)`);
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
