// The logging options: the level and format of the log, and the extra
// LogTape sinks (which need the library to configure LogTape).

import { badOption } from "./_bad_option.ts";
import type { DaemonOptions, LogFormat, LogLevel, ResolvedDaemonOptions } from "./types.ts";

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warning", "error"];
const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

/** `logLevel`, `"info"` when unset. @throws {DaemonError} `BAD_OPTION` */
export function resolveLogLevel(options: DaemonOptions): LogLevel {
  const logLevel = options.logLevel ?? "info";
  if (!LOG_LEVELS.includes(logLevel)) {
    throw badOption(
      "logLevel",
      `must be one of ${LOG_LEVELS.join(", ")}, got ${String(logLevel)}`,
    );
  }
  return logLevel;
}

/** `logFormat`, `"text"` when unset. @throws {DaemonError} `BAD_OPTION` */
export function resolveLogFormat(options: DaemonOptions): LogFormat {
  const logFormat = options.logFormat ?? "text";
  if (!LOG_FORMATS.includes(logFormat)) {
    throw badOption("logFormat", `must be "text" or "json", got ${String(logFormat)}`);
  }
  return logFormat;
}

/**
 * `configureLogging` (true when unset) and `logSinks` (the caller's object,
 * not yet copied; empty when unset).
 *
 * @throws {DaemonError} `BAD_OPTION`, also for sinks the library would not configure.
 */
export function resolveSinks(
  options: DaemonOptions,
): Pick<ResolvedDaemonOptions, "configureLogging" | "logSinks"> {
  const configureLogging = options.configureLogging ?? true;
  if (typeof configureLogging !== "boolean") {
    throw badOption("configureLogging", "must be a boolean");
  }
  const logSinks = options.logSinks ?? {};
  if (
    typeof logSinks !== "object" || logSinks === null || Array.isArray(logSinks) ||
    !Object.values(logSinks).every((sink) => typeof sink === "function")
  ) {
    throw badOption(
      "logSinks",
      "must be an object of LogTape sinks (functions that take a log record), keyed by name",
    );
  }
  if (!configureLogging && Object.keys(logSinks).length > 0) {
    throw badOption(
      "logSinks",
      "needs the library to configure LogTape; with configureLogging: false add the sinks to your own configuration",
    );
  }
  return { configureLogging, logSinks };
}
