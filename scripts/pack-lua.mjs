// Turns TSTL's bundle into the installed plugin: a #!/usr/bin/lua script without
// indentation, blank lines or comment lines (about a quarter of its size on flash).
// The result must compile to the same instructions and constants as the input (the
// `luac -l -l` listing without line numbers), which proves only layout was removed.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [src, dest] = process.argv.slice(2);
const input = readFileSync(src, "utf8");
if (input.includes("[[") || input.includes("[=")) throw new Error("long strings present: stripping lines would be unsafe");
const lines = input
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !(l.startsWith("--") && !l.startsWith("--[")));
const output = "#!/usr/bin/lua\n" + lines.join("\n") + "\n";

const dir = mkdtempSync(join(tmpdir(), "wgmgr-pack-"));
const listing = (file) =>
  execFileSync("luac5.1", ["-p", "-l", "-l", file], { encoding: "utf8", maxBuffer: 64 << 20 })
    .replace(/^(main|function) <.*$/gm, "$1")
    .replace(/\[\d+\]/g, "[]")
    .replace(/0x[0-9a-f]+/g, "0x");
try {
  writeFileSync(join(dir, "packed.lua"), output.replace(/^#!.*\n/, ""));
  if (listing(src) !== listing(join(dir, "packed.lua"))) throw new Error("packing changed the program");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
writeFileSync(dest, output);
chmodSync(dest, 0o755);
