// Structured errors and warnings. A method throws ApiError; main.ts turns it into the
// reply {"error", "message", "field", "msgid", "params"}, and nothing has been written
// when it is thrown. Warnings go into the reply's "warnings" as {"code", "message",
// "msgid", "params"}. Messages are made with T() so that the views can translate them.

import { problem, type Problem } from "./common/validate";
import type { Text } from "./common/text";

export interface ApiError extends Text {
  error: string;
  field?: string;
}

/** A warning is shaped as a problem: a stable code and a message. */
export type Warning = Problem;
export const warning = problem;

export function fail(code: string, text: Text, field?: string): never {
  const e: ApiError = { error: code, ...text, field };
  throw e;
}

/** Throws the problem a shared check found, naming the field it came from. */
export function check(field: string, p: Problem | undefined): void {
  if (p !== undefined) fail(p.code, p, field);
}

export function isApiError(e: unknown): e is ApiError {
  return type(e) === "table" && typeof (e as ApiError).error === "string" && typeof (e as ApiError).message === "string";
}
