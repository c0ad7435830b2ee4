// Each method's arguments, declared once: a name, how to read it (its type and the checks
// of that one field) and an example value. From that one declaration come rpcd's `list`
// signature (the examples), the reading of a request into a typed object (read once,
// before anything is loaded) and the refusal of names a method does not know.

import { T } from "./common/text";
import { isValidText, Problem } from "./common/validate";
import { check, fail } from "./errors";
import { isObject } from "./json";

export type Args = Record<string, unknown>;
export type Reply = Record<string, unknown>;

/** Reads the argument `field` of a request; throws an ApiError naming the field. */
export type Reader<T> = (args: Args, field: string) => T;

export interface Arg<T> {
  read: Reader<T>;
  /** For `list`: rpcd takes each argument's type from its example's type. */
  example: unknown;
}

export const arg = <T>(read: Reader<T>, example: unknown): Arg<T> => ({ read, example });

type Spec = Record<string, Arg<unknown>>;
export type Request<S extends Spec> = { [K in keyof S]: ReturnType<S[K]["read"]> };

export interface Method {
  spec: Spec;
  call: (args: Args) => Reply;
}

/** The session id uhttpd appends to every call from LuCI; accepted by every method. */
export const SESSION = "ubus_rpc_session";

/** A method: its arguments and what it does with a request read from them. */
export function method<S extends Spec>(spec: S, handler: (req: Request<S>, session: string | undefined) => Reply): Method {
  return { spec, call: (args) => handler(readRequest(spec, args), sessionOf(args)) };
}

export function argNames(spec: Spec): string[] {
  const names: string[] = [];
  for (const [name] of pairs(spec)) names.push(name as string);
  table.sort(names);
  return names;
}

/** The example arguments of a method, as rpcd's `list` wants them. */
export function signature(spec: Spec): Reply {
  const out: Reply = {};
  for (const name of argNames(spec)) out[name] = spec[name].example;
  return out;
}

function readRequest<S extends Spec>(spec: S, args: Args): Request<S> {
  const names = argNames(spec);
  for (const [key] of pairs(args)) {
    if (key !== SESSION && spec[key as string] === undefined) {
      fail("UNKNOWN_ARGUMENT", T('There is no argument "{name}" here; the arguments are: {names}.', { name: tostring(key), names: names.join(", ") }), tostring(key));
    }
  }
  const req: Record<string, unknown> = {};
  for (const name of names) req[name] = spec[name].read(args, name);
  return req as Request<S>;
}

/** The LuCI session a call came with (uhttpd adds it), validated before it names a path. */
export function sessionOf(args: Args): string | undefined {
  const sid = args[SESSION];
  if (sid === undefined) return undefined;
  if (typeof sid !== "string" || string.find(sid, "^%x+$")[0] === undefined || sid.length !== 32) {
    fail("INVALID_SESSION", T("ubus_rpc_session must be a LuCI session id (32 hex digits)."), SESSION);
  }
  return sid;
}

// ---- readers of plain types ------------------------------------------------------------

const MAX_STRING = 4096;

function typeName(v: unknown): string {
  const t = type(v);
  if (t === "table") return isObject(v) ? "an object" : "a list";
  return t === "nil" ? "nothing" : `a ${t}`;
}

function wrongType(field: string, want: string, v: unknown): never {
  return fail("INVALID_ARGUMENT", T('"{field}" must be {want}, not {got}.', { field, want, got: typeName(v) }), field);
}

/** Every string a request brings must be text that strict JSON readers accept back. */
function checkText(field: string, s: string): string {
  if (s.length > MAX_STRING) fail("INVALID_ARGUMENT", T('"{field}" is too long.', { field }), field);
  if (!isValidText(s)) fail("INVALID_UTF8", T('"{field}" is not valid UTF-8 text.', { field }), field);
  return s;
}

export function str(args: Args, field: string): string | undefined {
  const v = args[field];
  if (v === undefined) return undefined;
  if (typeof v !== "string") wrongType(field, "a string", v);
  return checkText(field, v);
}

/** A string that must be given and not be empty. */
export function requiredStr(args: Args, field: string): string {
  const v = str(args, field);
  if (v === undefined || v === "") fail("MISSING_ARGUMENT", T('"{field}" is required.', { field }), field);
  return v;
}

/** A whole number; numeric strings are accepted too, since LuCI forms send strings. */
export function int(args: Args, field: string): number | undefined {
  const v = args[field];
  if (v === undefined) return undefined;
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    if (v === "") return undefined;
    const n = tonumber(v);
    if (n !== undefined && string.find(v, "^%d+$")[0] !== undefined) return n;
  }
  return wrongType(field, "a whole number", v);
}

export function bool(args: Args, field: string): boolean | undefined {
  const v = args[field];
  if (v === undefined) return undefined;
  if (typeof v === "boolean") return v;
  // ubus/LuCI may deliver "1"/"0" or 1/0.
  if (v === 1 || v === "1" || v === "true") return true;
  if (v === 0 || v === "0" || v === "false") return false;
  return wrongType(field, "true or false", v);
}

/** A list of strings, given either as a JSON array or as one comma/space separated string. */
export function strList(args: Args, field: string): string[] | undefined {
  const v = args[field];
  if (v === undefined) return undefined;
  if (typeof v === "string") return [checkText(field, v)];
  if (type(v) !== "table" || isObject(v)) wrongType(field, "a list of strings", v);
  const items = v as unknown[];
  if (items.length > 256) fail("INVALID_ARGUMENT", T('"{field}" has too many entries.', { field }), field);
  for (const [k, item] of pairs(items as unknown as LuaTable<AnyNotNil, unknown>)) {
    if (typeof k !== "number" || typeof item !== "string") wrongType(field, "a list of strings", v);
    checkText(field, item as string);
  }
  return items as string[];
}

/** A reader whose value must also pass a shared check (undefined and "" are not checked). */
export function checked<T>(read: Reader<T>, problem: (v: NonNullable<T>) => Problem | undefined): Reader<T> {
  return (args, field) => {
    const v = read(args, field);
    if (v !== undefined && (v as unknown) !== "") {
      const p = problem(v as NonNullable<T>);
      check(field, p);
    }
    return v;
  };
}
