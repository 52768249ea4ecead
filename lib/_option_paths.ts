// The path options (pidFile, logFile, stdout, stderr, stdin, cwd): checked,
// and made absolute against the directory the program was launched from.

import { badOption } from "./_bad_option.ts";
import type { DaemonOptions } from "./types.ts";

/** Where output goes when it goes nowhere. */
export const NULL_DEVICE = Deno.build.os === "windows" ? "NUL" : "/dev/null";

/** Joins a relative path onto `base`, normalising `.` and `..`. */
export function absolutePath(path: string, base: string): string {
  const joined = path.startsWith("/") ? path : `${base}/${path}`;
  const parts: string[] = [];
  for (const part of joined.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return "/" + parts.join("/");
}

/**
 * The path option `key`, absolute against `base`; `undefined` when unset.
 *
 * @throws {DaemonError} `BAD_OPTION` unless it is a non-empty path string.
 */
export function resolvePath(
  options: DaemonOptions,
  key: "pidFile" | "logFile" | "stdout" | "stderr" | "stdin" | "cwd",
  base: string,
): string | undefined {
  const value: unknown = options[key];
  if (value === undefined) return undefined;
  if (
    typeof value !== "string" || value.trim() === "" || value.includes("\0")
  ) {
    throw badOption(key, "must be a non-empty path string");
  }
  if (Deno.build.os !== "windows") return absolutePath(value, base);
  return /^([A-Za-z]:)?[\\/]/.test(value) ? value : `${base}\\${value}`;
}
