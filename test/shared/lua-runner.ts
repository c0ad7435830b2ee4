// Lua side of the shared-code vectors: reads [[name, args...], ...] as JSON on stdin,
// prints the results as a JSON array (false stands for "none", as JSON has no nil in Lua).
import * as json from "../../luasrc/json";
import { FUNCTIONS } from "./functions";

const [cases, err] = json.decode(io.read("*a") as string);
if (err !== undefined) error(err);
const out: unknown[] = [];
for (const c of cases as unknown[][]) {
  const [name, ...args] = c as [string, ...unknown[]];
  out.push(FUNCTIONS[name](...args));
}
io.write(json.encode(out));
