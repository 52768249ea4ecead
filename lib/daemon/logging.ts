/**
 * Daemon-side logging: one LogTape configuration whose root logger writes
 * every category (the library's, `ctx.logger`'s and any `getLogger(...)` in
 * the program) to the log file, plus the terminal in the foreground. Only
 * this side loads LogTape: start, stop and status never do.
 *
 * @module
 */

import {
  configureSync,
  disposeSync,
  getConfig,
  getConsoleSink,
  getLogger,
  type Logger,
  type Sink,
} from "@logtape/logtape";
import type { ResolvedDaemonOptions } from "../types.ts";
import { type FileSink, fileSink } from "./_file_sink.ts";
import { textFormatter } from "./_format.ts";

/** The library's own category. */
export const LIBRARY_CATEGORY = ["daemonize"];

/** A live logging setup. */
export interface Logging {
  /** The library's lifecycle logger. */
  readonly library: Logger;
  /** `ctx.logger`: category `[name]`. */
  readonly app: Logger;
  /** Reopens the log file (SIGHUP); throws when it cannot be reopened. */
  reopen(): void;
  /** Writes every accepted record to disk now; safe to call more than once. */
  close(): void;
}

/**
 * Configures LogTape for the daemon, unless `configureLogging` is off or the
 * program configured LogTape itself (then its configuration is left alone and
 * the library only logs through it).
 */
export function setUpLogging(
  options: ResolvedDaemonOptions,
  foreground: boolean,
): Logging {
  const mine = options.configureLogging && getConfig() === null;
  let file: FileSink | null = null;
  if (mine) {
    const sinks: Record<string, Sink> = {};
    if (options.logFile !== null) {
      file = fileSink(options.logFile, textFormatter());
      sinks.file = file;
    }
    if (foreground) sinks.terminal = getConsoleSink();
    const ids = Object.keys(sinks);
    configureSync({
      reset: true,
      sinks,
      loggers: [
        { category: [], sinks: ids, lowestLevel: options.logLevel },
        {
          category: ["logtape", "meta"],
          sinks: ids,
          lowestLevel: "warning",
          parentSinks: "override",
        },
      ],
    });
  }
  let closed = false;
  return {
    library: getLogger(LIBRARY_CATEGORY),
    app: getLogger([options.name]),
    reopen() {
      file?.reopen();
    },
    close() {
      if (closed) return;
      closed = true;
      // Also when the program configured LogTape itself: its sinks may buffer too.
      if (getConfig() === null) return;
      try {
        disposeSync();
      } catch {
        /* an async-only sink; nothing more can be done synchronously */
      }
    },
  };
}
