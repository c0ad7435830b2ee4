// Structured errors. A method throws ApiError; main.ts turns it into the reply
// {"error", "message", "field"}, and nothing has been written when it is thrown.

import type { Problem } from "./common/validate";

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
