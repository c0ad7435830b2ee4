// Bundles each LuCI view (htdocs/view/wgmgr/<name>.ts) into the form LuCI's loader
// accepts (platform.md §4): a function body starting with 'require' directives that
// returns the view class. LuCI modules arrive as the factory's parameters, so they are
// ambient in TypeScript; shared code (validation, address math) is bundled from luasrc/common.
import { build } from "esbuild";
import { readdirSync, existsSync } from "node:fs";
import { join, basename } from "node:path";

const root = process.argv[2] ?? "build/root";
const viewDir = "htdocs/view/wgmgr";
const outDir = join(root, "www/luci-static/resources/view/wgmgr");
const views = existsSync(viewDir) ? readdirSync(viewDir).filter((f) => f.endsWith(".ts")) : [];

// Each view declares the LuCI modules it needs on its first line: `// require: view form rpc ui`.
import { readFileSync } from "node:fs";
for (const file of views) {
  const src = readFileSync(join(viewDir, file), "utf8");
  const m = /^\/\/ require: (.*)$/m.exec(src);
  const mods = m ? m[1].trim().split(/\s+/) : ["view"];
  const banner = "'use strict';\n" + mods.map((r) => `'require ${r}';`).join("\n");
  await build({
    entryPoints: [join(viewDir, file)],
    outfile: join(outDir, basename(file, ".ts") + ".js"),
    bundle: true,
    minify: true,
    format: "iife",
    globalName: "__v",
    banner: { js: banner },
    footer: { js: "return __v.default;" },
    legalComments: "none",
    target: "es2017",
    logLevel: "warning",
  });
}
