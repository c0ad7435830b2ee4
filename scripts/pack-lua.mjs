// Turns TSTL's bundle into the installed plugin, as small as it can be made without
// changing what it does (every byte is flash on the router):
//   1. every local variable, parameter and local function gets a short name of its own
//      (TSTL's ____exports, __TS__ArrayMap, interfaceAddresses… become a, b, …); globals,
//      table fields and method names are left alone;
//   2. a #!/usr/bin/lua script without indentation, blank lines or comment lines.
// The result must compile to the same instructions and constants as the input (the
// `luac -l -l` listing, without line numbers and without the names of locals and
// upvalues), which proves that only names and layout changed.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import luaparse from "luaparse";

const [src, dest] = process.argv.slice(2);
const input = readFileSync(src, "utf8");

// ---- 1. short names for locals ------------------------------------------------------------

const KEYWORDS = new Set(
  "and break do else elseif end false for function if in local nil not or repeat return then true until while".split(" "),
);

/** The n-th short name: a … z A … Z _, then two characters, and so on. */
function shortName(n) {
  const FIRST = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";
  const REST = FIRST + "0123456789";
  let name = FIRST[n % FIRST.length];
  for (let k = Math.floor(n / FIRST.length); k > 0; k = Math.floor((k - 1) / REST.length)) name += REST[(k - 1) % REST.length];
  return name;
}

/**
 * The source with each local declaration renamed to the shortest name that no declaration
 * visible at that point has and that is no global. Two variables with one name are never
 * visible at once, so every reference stays bound to its own variable; names repeat from
 * function to function, which gzip likes. Scopes follow Lua 5.1: a `local` is visible
 * after its statement, a `local function` in its own body, loop variables in the loop,
 * and a repeat's locals in its `until` condition.
 */
function shortenLocals(code) {
  const ast = luaparse.parse(code, { ranges: true, scope: true, luaVersion: "5.1", comments: false });
  const globals = new Set(KEYWORDS); // names a local may not take
  const renames = []; // [start, end, name] per identifier to rewrite
  let scopes; // stack of Map(original name → { name: short name })
  let naming = false; // the first walk only finds the globals

  const lookup = (name) => {
    for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i].has(name)) return scopes[i].get(name);
    return undefined;
  };
  const declare = (id) => {
    let name = id.name;
    if (naming) {
      const taken = new Set();
      for (const scope of scopes) for (const d of scope.values()) taken.add(d.name);
      for (let n = 0; ; n++) if (!taken.has((name = shortName(n))) && !globals.has(name)) break;
      renames.push([id.range[0], id.range[1], name]);
    }
    scopes[scopes.length - 1].set(id.name, { name });
  };
  const inScope = (fn) => {
    scopes.push(new Map());
    fn();
    scopes.pop();
  };
  const block = (body) => body.forEach(visit);

  function visit(node) {
    if (node === null || typeof node !== "object") return;
    if (Array.isArray(node)) return node.forEach(visit);
    switch (node.type) {
      case "Identifier": {
        const decl = lookup(node.name);
        if (!decl) globals.add(node.name);
        else if (naming) renames.push([node.range[0], node.range[1], decl.name]);
        return;
      }
      case "MemberExpression":
        return visit(node.base); // a.b, a:b: `b` is a field name
      case "TableKeyString":
        return visit(node.value); // { b = … }: `b` is a field name
      case "LocalStatement":
        visit(node.init);
        return node.variables.forEach(declare);
      case "FunctionDeclaration":
        if (node.isLocal) declare(node.identifier);
        else visit(node.identifier);
        return inScope(() => {
          node.parameters.forEach((p) => p.type === "Identifier" && declare(p));
          block(node.body);
        });
      case "ForNumericStatement":
        visit([node.start, node.end, node.step]);
        return inScope(() => {
          declare(node.variable);
          block(node.body);
        });
      case "ForGenericStatement":
        visit(node.iterators);
        return inScope(() => {
          node.variables.forEach(declare);
          block(node.body);
        });
      case "RepeatStatement":
        return inScope(() => {
          block(node.body);
          visit(node.condition);
        });
      case "DoStatement":
      case "IfClause":
      case "ElseifClause":
      case "ElseClause":
      case "WhileStatement":
        visit(node.condition);
        return inScope(() => block(node.body));
      default:
        for (const [key, value] of Object.entries(node)) if (key !== "range" && key !== "type") visit(value);
    }
  }
  for (naming of [false, true]) {
    scopes = [];
    inScope(() => block(ast.body));
  }

  renames.sort((a, b) => a[0] - b[0]);
  let out = "";
  let at = 0;
  for (const [start, end, name] of renames) {
    out += code.slice(at, start) + name;
    at = end;
  }
  return out + code.slice(at);
}

// ---- 2. layout ---------------------------------------------------------------------------

const WORD = /[A-Za-z0-9_]/;

/**
 * The tokens of the source with white space only where two tokens would otherwise run
 * together ("local a", "- -1", "1 .."): a line break where the source had one between two
 * words (so most statements keep a line of their own), else a space; no comments.
 */
function compact(code) {
  const lexer = luaparse.parse(code, { wait: true, ranges: true, luaVersion: "5.1" });
  let out = "";
  let prevEnd = 0;
  for (let t = lexer.lex(); t.type !== luaparse.tokenTypes.EOF; t = lexer.lex()) {
    const text = code.slice(t.range[0], t.range[1]);
    const last = out.slice(-1);
    const first = text[0];
    const runTogether = (WORD.test(last) && WORD.test(first)) || ("-.=<>~[".includes(last) && last !== "" && "-.=<>~[".includes(first)) || (/[0-9]/.test(last) && first === ".");
    if (runTogether) out += code.slice(prevEnd, t.range[0]).includes("\n") ? "\n" : " ";
    out += text;
    prevEnd = t.range[1];
  }
  return out;
}

const output = "#!/usr/bin/lua\n" + compact(shortenLocals(input)) + "\n";

// ---- the proof ---------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), "wgmgr-pack-"));
/** The listing without line numbers, addresses and the names of locals and upvalues. */
const listing = (file) =>
  execFileSync("luac5.1", ["-p", "-l", "-l", file], { encoding: "utf8", maxBuffer: 64 << 20 })
    .replace(/^(main|function) <.*$/gm, "$1")
    .replace(/\[\d+\]/g, "[]")
    .replace(/0x[0-9a-f]+/g, "0x")
    .replace(/^(\t\d+\t\[\]\t[GS]ETUPVAL\s+\d+ \d+)\s*;.*$/gm, "$1")
    .replace(/^\t\d+\t[A-Za-z_][A-Za-z0-9_]*(\t\d+\t\d+)?\n/gm, "");
try {
  writeFileSync(join(dir, "packed.lua"), output.replace(/^#!.*\n/, ""));
  if (listing(src) !== listing(join(dir, "packed.lua"))) throw new Error("packing changed the program");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
writeFileSync(dest, output);
chmodSync(dest, 0o755);
