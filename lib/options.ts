/**
 * Validates {@linkcode DaemonOptions} once, at the boundary, into the
 * {@linkcode ResolvedDaemonOptions} the rest of the library trusts.
 *
 * @module
 */

import { DaemonError } from "./errors.ts";
import type {
  DaemonOptions,
  LogFormat,
  LogLevel,
  Readiness,
  ResolvedDaemonOptions,
  RestartPolicy,
} from "./types.ts";

/** Where output goes when it goes nowhere. */
export const NULL_DEVICE = Deno.build.os === "windows" ? "NUL" : "/dev/null";
// setTimeout fires at once for delays that do not fit in 32 bits.
const MAX_TIMEOUT = 2 ** 31 - 1;
const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warning", "error"];
const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];
const READINESS: readonly Readiness[] = ["auto", "notify"];
const RESTART: readonly RestartPolicy[] = ["never", "on-failure", "always"];
const KNOWN: ReadonlySet<string> = new Set<keyof DaemonOptions>([
  "name",
  "pidFile",
  "logFile",
  "logLevel",
  "logFormat",
  "logSinks",
  "stdout",
  "stderr",
  "stdin",
  "cwd",
  "umask",
  "env",
  "readiness",
  "readyTimeout",
  "stopTimeout",
  "denoArgs",
  "args",
  "configureLogging",
  "onReload",
  "restart",
  "restartDelay",
  "maxRestarts",
  "sigusr1",
]);

function bad(option: string, what: string): DaemonError {
  return new DaemonError("BAD_OPTION", `option "${option}" ${what}`);
}

/** `file:///srv/app/main.ts` → `main`. */
export function moduleStem(module: string): string {
  const path = module.startsWith("file:") ? new URL(module).pathname : module;
  const base = path.slice(path.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(0, dot) : base;
}

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

function path(
  options: DaemonOptions,
  key: "pidFile" | "logFile" | "stdout" | "stderr" | "stdin" | "cwd",
  base: string,
): string | undefined {
  const value: unknown = options[key];
  if (value === undefined) return undefined;
  if (
    typeof value !== "string" || value.trim() === "" || value.includes("\0")
  ) {
    throw bad(key, "must be a non-empty path string");
  }
  if (Deno.build.os !== "windows") return absolutePath(value, base);
  return /^([A-Za-z]:)?[\\/]/.test(value) ? value : `${base}\\${value}`;
}

function timeout(
  options: DaemonOptions,
  key: "readyTimeout" | "stopTimeout" | "restartDelay",
  fallback = 10_000,
): number {
  const value: unknown = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > MAX_TIMEOUT) {
    throw bad(
      key,
      `must be a number of milliseconds from 0 to ${MAX_TIMEOUT}, got ${String(value)}`,
    );
  }
  return value;
}

function stringList(
  options: DaemonOptions,
  key: "denoArgs" | "args",
): string[] | undefined {
  const value: unknown = options[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw bad(key, "must be an array of strings");
  }
  const nul = value.findIndex((v) => v.includes("\0"));
  if (nul >= 0) {
    throw bad(key, `has a NUL byte in item ${nul}, which no command line can hold; remove it`);
  }
  return [...value];
}

/** Where resolution happens: the base for relative paths and the main module. */
export interface ResolveBase {
  /** The directory relative paths are resolved against. */
  cwd: string;
  /** The main module, for the default name. */
  mainModule: string;
  /**
   * The program's own arguments (`ctx.args`): the words after `--` on the
   * command line, the daemon's `Deno.args`, or a controller's `args`.
   */
  args: readonly string[];
}

/**
 * Validates `options` and fills in the defaults.
 *
 * @throws {DaemonError} `BAD_OPTION`, naming the option.
 */
export function resolveOptions(
  options: DaemonOptions | undefined,
  base: ResolveBase,
): ResolvedDaemonOptions {
  if (options === undefined) options = {};
  if (
    typeof options !== "object" || options === null || Array.isArray(options)
  ) {
    throw new DaemonError("BAD_OPTION", "options must be an object");
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) {
      const hint = [...KNOWN].find((k) => k.toLowerCase() === key.toLowerCase());
      throw bad(
        key,
        `is not an option${hint ? `; did you mean "${hint}"?` : ""}`,
      );
    }
  }

  const name = options.name ?? moduleStem(base.mainModule);
  if (typeof name !== "string" || name.trim() === "" || /[\0\n\r]/.test(name)) {
    throw bad("name", "must be a non-empty single-line string");
  }
  const logLevel = options.logLevel ?? "info";
  if (!LOG_LEVELS.includes(logLevel)) {
    throw bad(
      "logLevel",
      `must be one of ${LOG_LEVELS.join(", ")}, got ${String(logLevel)}`,
    );
  }
  const logFormat = options.logFormat ?? "text";
  if (!LOG_FORMATS.includes(logFormat)) {
    throw bad("logFormat", `must be "text" or "json", got ${String(logFormat)}`);
  }
  const readiness = options.readiness ?? "auto";
  if (!READINESS.includes(readiness)) {
    throw bad(
      "readiness",
      `must be "auto" or "notify", got ${String(readiness)}`,
    );
  }
  const umask = options.umask ?? 0o022;
  if (
    typeof umask !== "number" || !Number.isInteger(umask) || umask < 0 ||
    umask > 0o777
  ) {
    throw bad(
      "umask",
      `must be an integer from 0 to 0o777, got ${String(umask)}`,
    );
  }
  const env = options.env ?? {};
  if (
    typeof env !== "object" || env === null || Array.isArray(env) ||
    !Object.entries(env).every(([k, v]) => k !== "" && !k.includes("=") && typeof v === "string")
  ) {
    throw bad("env", "must be an object of string variables");
  }
  for (const [k, v] of Object.entries(env)) {
    if (k.includes("\0") || v.includes("\0")) {
      throw bad(
        "env",
        `has a NUL byte in the ${k.includes("\0") ? "name" : "value"} of ${
          JSON.stringify(k)
        }, which no environment can hold; remove it`,
      );
    }
  }
  const configureLogging = options.configureLogging ?? true;
  if (typeof configureLogging !== "boolean") {
    throw bad("configureLogging", "must be a boolean");
  }
  const logSinks = options.logSinks ?? {};
  if (
    typeof logSinks !== "object" || logSinks === null || Array.isArray(logSinks) ||
    !Object.values(logSinks).every((sink) => typeof sink === "function")
  ) {
    throw bad(
      "logSinks",
      "must be an object of LogTape sinks (functions that take a log record), keyed by name",
    );
  }
  if (!configureLogging && Object.keys(logSinks).length > 0) {
    throw bad(
      "logSinks",
      "needs the library to configure LogTape; with configureLogging: false add the sinks to your own configuration",
    );
  }
  const onReload = options.onReload ?? null;
  if (onReload !== null && typeof onReload !== "function") {
    throw bad("onReload", "must be a function");
  }
  const restart = options.restart ?? "never";
  if (!RESTART.includes(restart)) {
    throw bad("restart", `must be "never", "on-failure" or "always", got ${String(restart)}`);
  }
  const maxRestarts = options.maxRestarts ?? 10;
  if (!Number.isInteger(maxRestarts) || maxRestarts < 0 || maxRestarts > 1_000_000) {
    throw bad("maxRestarts", `must be a whole number from 0, got ${String(maxRestarts)}`);
  }
  const sigusr1 = options.sigusr1 ?? "ignore";
  if (sigusr1 !== "ignore" && sigusr1 !== "inspector") {
    throw bad("sigusr1", `must be "ignore" or "inspector", got ${String(sigusr1)}`);
  }

  // The command line (daemonize reads it) is checked here, with the rest.
  stringList(options, "args");

  const logFile = path(options, "logFile", base.cwd) ?? null;
  const output = logFile ?? NULL_DEVICE;
  return {
    name,
    pidFile: path(options, "pidFile", base.cwd) ?? null,
    logFile,
    logLevel,
    logFormat,
    logSinks: { ...logSinks },
    stdout: path(options, "stdout", base.cwd) ?? output,
    stderr: path(options, "stderr", base.cwd) ?? output,
    stdin: path(options, "stdin", base.cwd) ?? NULL_DEVICE,
    cwd: path(options, "cwd", base.cwd) ?? base.cwd,
    umask,
    env: { ...env },
    readiness,
    readyTimeout: timeout(options, "readyTimeout"),
    stopTimeout: timeout(options, "stopTimeout"),
    denoArgs: stringList(options, "denoArgs") ?? [],
    args: [...base.args],
    configureLogging,
    onReload,
    restart,
    restartDelay: timeout(options, "restartDelay", 100),
    maxRestarts,
    sigusr1,
  };
}

/** Throws `BAD_OPTION` unless a pidfile is set: start, stop and status need one. */
export function requirePidFile(options: ResolvedDaemonOptions): string {
  if (options.pidFile === null) {
    throw new DaemonError(
      "BAD_OPTION",
      `option "pidFile" is required to start, stop or query ${options.name}; set it, or use "run" to stay in the foreground`,
    );
  }
  return options.pidFile;
}
