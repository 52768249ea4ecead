/**
 * Validates {@linkcode DaemonOptions} once, at the boundary, into the
 * {@linkcode ResolvedDaemonOptions} the rest of the library trusts.
 *
 * @module
 */

import { badOption } from "./_bad_option.ts";
import { resolveLogFormat, resolveLogLevel, resolveSinks } from "./_option_logging.ts";
import { NULL_DEVICE, resolvePath } from "./_option_paths.ts";
import { resolveRestart } from "./_option_restart.ts";
import { DaemonError } from "./errors.ts";
import type { DaemonOptions, Readiness, ResolvedDaemonOptions } from "./types.ts";

// setTimeout fires at once for delays that do not fit in 32 bits.
const MAX_TIMEOUT = 2 ** 31 - 1;
const READINESS: readonly Readiness[] = ["auto", "notify"];
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

/** `file:///srv/app/main.ts` → `main`. */
export function moduleStem(module: string): string {
  const path = module.startsWith("file:") ? new URL(module).pathname : module;
  const base = path.slice(path.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(0, dot) : base;
}

function timeout(
  options: DaemonOptions,
  key: "readyTimeout" | "stopTimeout" | "restartDelay",
  fallback = 10_000,
): number {
  const value: unknown = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > MAX_TIMEOUT) {
    throw badOption(
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
    throw badOption(key, "must be an array of strings");
  }
  const nul = value.findIndex((v) => v.includes("\0"));
  if (nul >= 0) {
    throw badOption(
      key,
      `has a NUL byte in item ${nul}, which no command line can hold; remove it`,
    );
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
      throw badOption(
        key,
        `is not an option${hint ? `; did you mean "${hint}"?` : ""}`,
      );
    }
  }

  const name = options.name ?? moduleStem(base.mainModule);
  if (typeof name !== "string" || name.trim() === "" || /[\0\n\r]/.test(name)) {
    throw badOption("name", "must be a non-empty single-line string");
  }
  const logLevel = resolveLogLevel(options);
  const logFormat = resolveLogFormat(options);
  const readiness = options.readiness ?? "auto";
  if (!READINESS.includes(readiness)) {
    throw badOption(
      "readiness",
      `must be "auto" or "notify", got ${String(readiness)}`,
    );
  }
  const umask = options.umask ?? 0o022;
  if (
    typeof umask !== "number" || !Number.isInteger(umask) || umask < 0 ||
    umask > 0o777
  ) {
    throw badOption(
      "umask",
      `must be an integer from 0 to 0o777, got ${String(umask)}`,
    );
  }
  const env = options.env ?? {};
  if (
    typeof env !== "object" || env === null || Array.isArray(env) ||
    !Object.entries(env).every(([k, v]) => k !== "" && !k.includes("=") && typeof v === "string")
  ) {
    throw badOption("env", "must be an object of string variables");
  }
  for (const [k, v] of Object.entries(env)) {
    if (k.includes("\0") || v.includes("\0")) {
      throw badOption(
        "env",
        `has a NUL byte in the ${k.includes("\0") ? "name" : "value"} of ${
          JSON.stringify(k)
        }, which no environment can hold; remove it`,
      );
    }
  }
  const { configureLogging, logSinks } = resolveSinks(options);
  const onReload = options.onReload ?? null;
  if (onReload !== null && typeof onReload !== "function") {
    throw badOption("onReload", "must be a function");
  }
  const { restart, maxRestarts } = resolveRestart(options);
  const sigusr1 = options.sigusr1 ?? "ignore";
  if (sigusr1 !== "ignore" && sigusr1 !== "inspector") {
    throw badOption("sigusr1", `must be "ignore" or "inspector", got ${String(sigusr1)}`);
  }

  // The command line (daemonize reads it) is checked here, with the rest.
  stringList(options, "args");

  const logFile = resolvePath(options, "logFile", base.cwd) ?? null;
  const output = logFile ?? NULL_DEVICE;
  return {
    name,
    pidFile: resolvePath(options, "pidFile", base.cwd) ?? null,
    logFile,
    logLevel,
    logFormat,
    logSinks: { ...logSinks },
    stdout: resolvePath(options, "stdout", base.cwd) ?? output,
    stderr: resolvePath(options, "stderr", base.cwd) ?? output,
    stdin: resolvePath(options, "stdin", base.cwd) ?? NULL_DEVICE,
    cwd: resolvePath(options, "cwd", base.cwd) ?? base.cwd,
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
