// Structured errors and typed argument readers. A method throws ApiError; main.ts
// turns it into the reply {"error", "message", "field"} before anything is written.

import type { Problem } from "./common/validate";
import { isObject } from "./json";

export interface ApiError {
  error: string;
  message: string;
  field?: string;
}

export function fail(code: string, message: string, field?: string): never {
  const e: ApiError = { error: code, message, field };
  throw e;
}

/** Throws the problem a shared check found, naming the field it came from. */
export function check(field: string, p: Problem | undefined): void {
  if (p !== undefined) fail(p.code, p.message, field);
}

export function isApiError(e: unknown): e is ApiError {
  return type(e) === "table" && typeof (e as ApiError).error === "string" && typeof (e as ApiError).message === "string";
}

export type Args = Record<string, unknown>;

const MAX_STRING = 4096;

function typeName(v: unknown): string {
  const t = type(v);
  if (t === "table") return isObject(v) ? "an object" : "a list";
  return t === "nil" ? "nothing" : `a ${t}`;
}

function wrongType(field: string, want: string, v: unknown): never {
  return fail("INVALID_ARGUMENT", `"${field}" must be ${want}, not ${typeName(v)}.`, field);
}

export function str(args: Args, field: string): string | undefined {
  const v = args[field];
  if (v === undefined) return undefined;
  if (typeof v !== "string") wrongType(field, "a string", v);
  if (v.length > MAX_STRING) fail("INVALID_ARGUMENT", `"${field}" is too long.`, field);
  return v;
}

export function requiredStr(args: Args, field: string): string {
  const v = str(args, field);
  if (v === undefined || v === "") fail("MISSING_ARGUMENT", `"${field}" is required.`, field);
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
  if (typeof v === "string") {
    if (v.length > MAX_STRING) fail("INVALID_ARGUMENT", `"${field}" is too long.`, field);
    return [v];
  }
  if (type(v) !== "table" || isObject(v)) wrongType(field, "a list of strings", v);
  const items = v as unknown[];
  if (items.length > 256) fail("INVALID_ARGUMENT", `"${field}" has too many entries.`, field);
  for (const [k, item] of pairs(items as unknown as LuaTable<AnyNotNil, unknown>)) {
    if (typeof k !== "number" || typeof item !== "string") wrongType(field, "a list of strings", v);
    if ((item as string).length > MAX_STRING) fail("INVALID_ARGUMENT", `"${field}" is too long.`, field);
  }
  return items as string[];
}
