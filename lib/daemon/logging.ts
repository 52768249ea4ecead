/**
 * Daemon-side logging: one LogTape configuration whose root logger writes
 * every category (the library's, `ctx.logger`'s and any `getLogger(...)` in
 * the program) to the log file, and to the program's own `logSinks`, plus
 * the terminal in the foreground. Only this side loads LogTape: start, stop
 * and status never do.
 *
 * A program that configured LogTape itself, with this copy of LogTape or
 * any other, keeps its configuration: the library then only logs through
 * it and leaves the console alone.
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
  type LogLevel as LogTapeLevel,
  type Sink,
} from "@logtape/logtape";
import type { ResolvedDaemonOptions } from "../types.ts";
import { captureConsole } from "./_console.ts";
import { type FileSink, fileSink } from "./_file_sink.ts";
import { formatter } from "./_format.ts";

/** The library's own category: its lifecycle lines pass at info whatever `logLevel` is. */
const LIBRARY_CATEGORY = ["daemonize"];

/** A live logging setup. */
export interface Logging {
  /** The library's lifecycle logger. */
  readonly library: Logger;
  /** `ctx.logger`: category `[name]`. */
  readonly app: Logger;
  /**
   * Routes `console.*` into the log (daemon mode), but only when the
   * library's own configuration is in force and writes a log file;
   * otherwise the console is left as it is, writing to raw stdout/stderr.
   */
  captureConsole(): void;
  /** Reopens the log file (SIGHUP); throws when it cannot be reopened. */
  reopen(): void;
  /** Writes every accepted record to disk now; safe to call more than once. */
  close(): void;
}

// What a configured copy of LogTape leaves in the global object: 2.4 and
// later set a flag; every 2.x shares its root logger there, whose tree then
// carries the configured sinks and filters.
const INSPECTION_STATE = Symbol.for("logtape.inspectionState");
const ROOT_LOGGER = Symbol.for("logtape.rootLogger");

interface LoggerNode {
  sinks?: unknown;
  filters?: unknown;
  children?: Record<string, unknown>;
}

function carriesConfiguration(node: unknown, depth: number): boolean {
  if (typeof node !== "object" || node === null || depth > 100) return false;
  const { sinks, filters, children } = node as LoggerNode;
  if (Array.isArray(sinks) && sinks.length > 0) return true;
  if (Array.isArray(filters) && filters.length > 0) return true;
  for (const ref of Object.values(children ?? {})) {
    const child = ref instanceof WeakRef ? ref.deref() : ref;
    if (carriesConfiguration(child, depth + 1)) return true;
  }
  return false;
}

/** True when LogTape is configured already, by whichever copy of it. */
function logTapeConfigured(): boolean {
  if (getConfig() !== null) return true;
  const global = globalThis as unknown as Record<symbol, unknown>;
  const state = global[INSPECTION_STATE] as { configured?: unknown } | undefined;
  if (state?.configured === true) return true;
  return carriesConfiguration(global[ROOT_LOGGER], 0);
}

function rootSinks(): readonly unknown[] {
  const root = (globalThis as unknown as Record<symbol, LoggerNode | undefined>)[ROOT_LOGGER];
  return Array.isArray(root?.sinks) ? root.sinks : [];
}

// The lower of two levels: lifecycle lines pass at info even under
// logLevel "warning", and at debug when the program asked for debug.
function lifecycleLevel(level: LogTapeLevel): LogTapeLevel {
  return level === "debug" || level === "trace" ? level : "info";
}

function dispose(sink: Sink): void {
  try {
    if (Symbol.dispose in sink) {
      (sink as Sink & Disposable)[Symbol.dispose]();
    } else if (Symbol.asyncDispose in sink) {
      // Started, not awaited: the process may exit before it settles.
      Promise.resolve((sink as Sink & AsyncDisposable)[Symbol.asyncDispose]()).catch(() => {});
    }
  } catch { /* one sink failing to close does not stop the others */ }
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
  const configuredBefore = options.configureLogging && logTapeConfigured();
  const mine = options.configureLogging && !configuredBefore;
  let file: FileSink | null = null;
  const extras = Object.entries(options.logSinks);
  if (mine) {
    const sinks: Record<string, Sink> = {};
    if (options.logFile !== null) {
      file = fileSink({
        path: options.logFile,
        format: formatter(options.logFormat),
        mode: 0o644 & ~options.umask,
        category: LIBRARY_CATEGORY,
      });
      sinks.file = file;
    }
    if (foreground) sinks.terminal = getConsoleSink();
    const own = Object.keys(sinks);
    // Wrapped, so that LogTape takes async ones under configureSync too; the
    // library disposes of them itself in close().
    for (const [name, sink] of extras) sinks[`sink:${name}`] = (record) => sink(record);
    const ids = Object.keys(sinks);
    configureSync({
      reset: true,
      sinks,
      loggers: [
        { category: [], sinks: ids, lowestLevel: options.logLevel },
        {
          category: LIBRARY_CATEGORY,
          sinks: ids,
          lowestLevel: lifecycleLevel(options.logLevel),
          parentSinks: "override",
        },
        {
          category: ["logtape", "meta"],
          sinks: own,
          lowestLevel: "warning",
          parentSinks: "override",
        },
      ],
    });
  }
  const library = getLogger(LIBRARY_CATEGORY);
  if (configuredBefore && extras.length > 0) {
    library.warn(
      'option "logSinks" is not used: the program configured LogTape itself, so add those sinks to its configuration',
    );
  }
  let closed = false;
  let release: (() => void) | null = null;
  return {
    library,
    app: getLogger([options.name]),
    captureConsole() {
      if (file === null || release !== null) return;
      const sink = file;
      release = captureConsole(
        getLogger([options.name, "console"]),
        () => !closed && rootSinks().includes(sink),
      );
    },
    reopen() {
      file?.reopen();
    },
    close() {
      if (closed) return;
      closed = true;
      release?.();
      if (mine) {
        try {
          disposeSync();
        } catch { /* a sink failing to close; the file sink is flushed first */ }
        for (const [, sink] of extras) dispose(sink);
        return;
      }
      // The program's own configuration (this copy's) may buffer too.
      if (getConfig() === null) return;
      try {
        disposeSync();
      } catch {
        /* an async-only sink; nothing more can be done synchronously */
      }
    },
  };
}
