// rpcd exec plugin entry point: `wgmgr list` prints the method signatures,
// `wgmgr call <method>` reads the ubus message (JSON) on stdin and prints one JSON
// object. rpcd ignores the exit status and discards stderr, so every outcome,
// errors included, is a JSON object on stdout (platform.md §1).

import { Args, Reply, signature } from "./args";
import { isApiError } from "./errors";
import { T, Text } from "./common/text";
import * as json from "./json";
import { METHODS } from "./methods";
import { shellQuote } from "./system";

// The command line, from the global table: inside TSTL's module functions (which are
// vararg functions) a bare `arg` would be Lua 5.1's implicit per-function vararg table.
const argv = (_G as unknown as { arg: LuaTable<number, string> }).arg;

const MAX_INPUT = 256 * 1024;

function logInternal(message: string): void {
  // rpcd discards stderr; syslog is where an administrator looks.
  os.execute(`logger -t wgmgr ${shellQuote(message)} 2>/dev/null`);
}

function call(method: string): Reply {
  const m = METHODS[method];
  if (m === undefined) return errorReply("UNKNOWN_METHOD", T('wgmgr has no method "{method}".', { method }));
  const input = (io.read("*a") as string | undefined) ?? "";
  if (input.length > MAX_INPUT) return errorReply("INVALID_ARGUMENT", T("The request is too large."));
  const [args, err, key] = json.decode(input === "" ? "{}" : input);
  if (err !== undefined || !json.isObject(args)) {
    return errorReply("INVALID_ARGUMENT", T("The arguments must be one JSON object ({detail}).", { detail: err ?? "not an object" }), key);
  }
  const [ok, result] = pcall(() => m.call(args as Args));
  if (ok) return result as Reply;
  const e: unknown = result;
  if (isApiError(e)) return errorReply(e.error, e, e.field);
  logInternal(`${method}: ${tostring(result)}`);
  return errorReply("INTERNAL", T("wgmgr failed unexpectedly: {detail}", { detail: tostring(result) }));
}

function errorReply(error: string, text: Text, field?: string): Reply {
  return { error, ...text, field };
}

function main(): void {
  // Start each collection cycle as soon as the last one ends (Lua's default waits until
  // memory doubles): routers have little RAM; at 1000 peers this trims the peak by ~2 MB
  // for ~5% more time (make bench).
  collectgarbage("setpause", 100);
  const mode = argv.get(1);
  let reply: Reply;
  if (mode === "list") {
    reply = {};
    for (const [name, m] of pairs(METHODS)) reply[name] = json.asObject(signature(m.spec));
  } else if (mode === "call") {
    reply = call(argv.get(2) ?? "");
  } else {
    io.stderr.write("usage: wgmgr list | wgmgr call <method> < args.json\n");
    os.exit(1);
  }
  json.write(json.asObject(reply));
  io.write("\n");
}

main();
