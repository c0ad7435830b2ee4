// Builds the LuCI JavaScript from htdocs/: every .ts file whose first line is
//   // require: <module> [<module> as <alias>] ...
// becomes a LuCI class file under <root>/www/luci-static/resources/ (same relative
// path, .js): a function body that starts with the 'require' directives LuCI's loader
// scans and returns the class (platform.md §4). Files without that line are helpers
// bundled into the files that import them; luasrc/common is bundled the same way, so
// the pages run the very checks the rpcd plugin is compiled from.
//
// The pages are type-checked first (htdocs/tsconfig.json); a type error fails the build.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const root = process.argv[2] ?? "build/root";
const src = "htdocs";
const outBase = join(root, "www/luci-static/resources");

function walk(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** `// require: view ui wgmgr as wg` → ["'require view';", "'require ui';", "'require wgmgr as wg';"] */
function directives(line) {
  const words = line.trim().split(/\s+/);
  const out = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i + 1] === "as") {
      out.push(`'require ${words[i]} as ${words[i + 2]}';`);
      i += 2;
    } else out.push(`'require ${words[i]}';`);
  }
  return out;
}

const entries = walk(src)
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
  .map((file) => ({ file, m: /^\/\/ require: (.*)$/m.exec(readFileSync(file, "utf8").split("\n")[0]) }))
  .filter((e) => e.m !== null);

try {
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", join(src, "tsconfig.json")], { stdio: "inherit" });
} catch {
  console.error("build-views: the pages have type errors (above)");
  process.exit(1);
}

// esbuild bundles each file as an ES module; its one `export default` becomes the
// factory's `return` (a top-level return is what LuCI's loader expects, and no
// module wrapper code is needed).
let total = 0;
for (const { file, m } of entries) {
  const outfile = join(outBase, relative(src, file).replace(/\.ts$/, ".js"));
  const result = await build({
    entryPoints: [file],
    bundle: true,
    minify: true,
    format: "esm",
    legalComments: "none",
    target: "es2020",
    charset: "utf8",
    logLevel: "warning",
    write: false,
  });
  const code = result.outputFiles[0].text;
  const tail = /export\s*\{\s*([\w$]+) as default\s*\};?\s*$/.exec(code);
  if (tail === null) {
    throw new Error(`${file}: a class file must end with \`export default <class>\` and export nothing else`);
  }
  const body = ["'use strict';", ...directives(m[1]), code.slice(0, tail.index) + `return ${tail[1]};`].join("\n") + "\n";
  mkdirSync(dirname(outfile), { recursive: true });
  writeFileSync(outfile, body);
  const bytes = Buffer.byteLength(body);
  total += bytes;
  console.log(`${relative(root, outfile).padEnd(52)} ${String(bytes).padStart(6)} B`);
}
console.log(`${"total".padEnd(52)} ${String(total).padStart(6)} B`);
