/**
 * The public types of `@daemonize/daemon`: what `main` receives, the options,
 * and the results the {@linkcode Daemon} controller resolves to.
 *
 * @module
 */

import type { Sink } from "@logtape/logtape";

/**
 * The levels `logLevel` accepts.
 *
 * @example Only warnings and errors in the log
 * ```ts
 * import type { DaemonOptions, LogLevel } from "@daemonize/daemon";
 *
 * const logLevel: LogLevel = "warning";
 * const options: DaemonOptions = { pidFile: "app.pid", logFile: "app.log", logLevel };
 * ```
 */
export type LogLevel = "debug" | "info" | "warning" | "error";

/**
 * The log file's format: `"text"`, one line per record as LogTape's text
 * formatter writes it (strings unquoted), or `"json"`, JSON Lines with
 * `@timestamp` (ISO 8601, UTC), `level` (`"DEBUG"`, `"INFO"`, `"WARN"`,
 * `"ERROR"`, `"FATAL"`), `message` (rendered, strings unquoted), `logger`
 * (the category joined with dots) and `properties` (the record's properties):
 * LogTape's `getJsonLinesFormatter()` fields, ready for Vector, Fluent Bit,
 * promtail and `jq`.
 *
 * @example JSON Lines for a log shipper
 * ```ts
 * import type { DaemonOptions, LogFormat } from "@daemonize/daemon";
 *
 * const logFormat: LogFormat = "json";
 * const options: DaemonOptions = { pidFile: "app.pid", logFile: "app.log", logFormat };
 * ```
 */
export type LogFormat = "text" | "json";

/**
 * When a started daemon counts as ready: `"auto"` once `main` has been called
 * and has not failed by the end of its first event-loop turn; `"notify"` when
 * `main` calls {@linkcode DaemonContext.ready}.
 *
 * @example A server that is ready once it listens
 * ```ts
 * import type { DaemonOptions, Readiness } from "@daemonize/daemon";
 *
 * const readiness: Readiness = "notify"; // main calls ctx.ready() in onListen
 * const options: DaemonOptions = { pidFile: "http.pid", readiness };
 * ```
 */
export type Readiness = "auto" | "notify";

/**
 * What `main` (or a class's `run` and `reload`) receives.
 *
 * @example Work until stopped
 * ```ts
 * import type { DaemonContext } from "@daemonize/daemon";
 * import { setTimeout as sleep } from "node:timers/promises";
 *
 * async function main({ signal, logger }: DaemonContext): Promise<void> {
 *   logger.info("up");
 *   while (!signal.aborted) {
 *     await sleep(1000, undefined, { signal }).catch(() => {}); // stop cuts it short
 *   }
 * }
 * ```
 */
export interface DaemonContext {
  /**
   * Aborted on SIGTERM, SIGINT or `stop`; its `reason` is an `AbortError`
   * DOMException whose message names the signal.
   */
  readonly signal: AbortSignal;
  /** A LogTape logger for the category `[name]`, writing to the log file. */
  readonly logger: DaemonLogger;
  /** The daemon's name. */
  readonly name: string;
  /** The daemon's process id. */
  readonly pid: number;
  /**
   * The program's own arguments: the words after `--` on the command line
   * (`app.ts start -- --port 8080` gives `["--port", "8080"]`), or the `args`
   * of the {@linkcode Daemon} controller that started it. The library's own
   * command and flags never appear here.
   */
  readonly args: readonly string[];
  /** The options after validation. */
  readonly options: ResolvedDaemonOptions;
  /**
   * Reports the daemon ready. With `readiness: "notify"` `start` returns only
   * after this is called; with `"auto"` it reports ready early. Calling it
   * twice is fine.
   */
  ready(): void;
}

/** A logging method: a message template with properties, or a tagged template. */
export interface DaemonLogMethod {
  /** `logger.info("user {id} logged in", { id })` */
  (message: string, properties?: Record<string, unknown>): void;
  /** ``logger.info`user ${id} logged in` `` */
  (message: TemplateStringsArray, ...values: readonly unknown[]): void;
}

/**
 * The part of LogTape's `Logger` that `ctx.logger` is typed as. It is a real
 * LogTape logger; for the whole of LogTape's API, call `getLogger([ctx.name])`
 * from `@logtape/logtape`, which returns the same logger.
 *
 * @example
 * ```ts
 * import type { DaemonLogger } from "@daemonize/daemon";
 *
 * function report(logger: DaemonLogger, jobs: number): void {
 *   logger.info("{jobs} jobs done", { jobs });
 *   logger.getChild("db").debug("pool idle");
 * }
 * ```
 */
export interface DaemonLogger {
  /** The logger's category, `[name]` for `ctx.logger`. */
  readonly category: readonly string[];
  /** A logger for a subcategory, writing to the same file. */
  getChild(subcategory: string | readonly [string] | readonly [string, ...string[]]): DaemonLogger;
  /** Logs at debug level. */
  readonly debug: DaemonLogMethod;
  /** Logs at info level. */
  readonly info: DaemonLogMethod;
  /** Logs at warning level. */
  readonly warn: DaemonLogMethod;
  /** Logs at warning level. */
  readonly warning: DaemonLogMethod;
  /** Logs at error level. */
  readonly error: DaemonLogMethod;
  /** Logs at fatal level. */
  readonly fatal: DaemonLogMethod;
}

/**
 * A daemon's entry point in the function form.
 *
 * @example
 * ```ts
 * import type { DaemonMain } from "@daemonize/daemon";
 *
 * const main: DaemonMain = async (ctx) => {
 *   ctx.logger.info("hello from {name}", { name: ctx.name });
 * };
 * ```
 */
export type DaemonMain = (ctx: DaemonContext) => void | Promise<void>;

/**
 * When the daemon's main is started again after it ends: `"never"`;
 * `"on-failure"` after main throws or rejects, a non-zero exit, or death by
 * a signal that `stop` did not send (kill -9, the OOM killer); `"always"`
 * also after main returns.
 *
 * @example Keep a worker alive
 * ```ts
 * import type { DaemonOptions, RestartPolicy } from "@daemonize/daemon";
 *
 * const restart: RestartPolicy = "on-failure";
 * const options: DaemonOptions = { pidFile: "worker.pid", restart, maxRestarts: 5 };
 * ```
 */
export type RestartPolicy = "never" | "on-failure" | "always";

/**
 * What a class given to `@daemon` provides.
 *
 * @example
 * ```ts
 * import type { DaemonContext, DaemonInstance } from "@daemonize/daemon";
 *
 * class Worker implements DaemonInstance {
 *   run(ctx: DaemonContext) {
 *     ctx.logger.info("working");
 *   }
 *   reload(ctx: DaemonContext) {
 *     ctx.logger.info("reloading");
 *   }
 * }
 * ```
 */
export interface DaemonInstance {
  /** The daemon's work; return (or resolve) to end the daemon. */
  run(ctx: DaemonContext): void | Promise<void>;
  /** Called on SIGHUP, after the log file has been reopened. */
  reload?(ctx: DaemonContext): void | Promise<void>;
}

/**
 * A class usable with `@daemon` and `daemonize`: constructible without arguments.
 *
 * @example
 * ```ts
 * import type { DaemonClass, DaemonContext } from "@daemonize/daemon";
 *
 * class Worker {
 *   run(_ctx: DaemonContext) {}
 * }
 * const form: DaemonClass = Worker;
 * ```
 */
export type DaemonClass = new () => DaemonInstance;

/**
 * Options of a daemon. Relative paths are resolved against the directory the
 * command was run from, as it was reached (the shell's `PWD` when it names
 * that directory, so `current -> releases/v2` keeps naming the same files).
 * The README's options table gives, for each, the Python
 * `Daemon` argument it replaces.
 *
 * @example
 * ```ts
 * import type { DaemonOptions } from "@daemonize/daemon";
 *
 * const options: DaemonOptions = {
 *   name: "app",
 *   pidFile: "/run/app/app.pid",
 *   logFile: "/var/log/app/app.log",
 *   stopTimeout: 5000,
 * };
 * ```
 */
export interface DaemonOptions {
  /** Name in messages and the logger category. Default: the main module's file stem. */
  name?: string;
  /** The pidfile, guarded by an exclusive lock. Required for start, stop and status. */
  pidFile?: string;
  /** The one log file the library and all of the program's loggers write to. */
  logFile?: string;
  /**
   * The lowest level written to the log. Default `"info"`. The library's own
   * lifecycle lines (category `["daemonize"]`: started, stopping and why,
   * exiting and why) are written at any level.
   */
  logLevel?: LogLevel;
  /** The log file's format: `"text"` (default) or `"json"` (JSON Lines). */
  logFormat?: LogFormat;
  /**
   * More LogTape sinks beside the log file (OpenTelemetry, syslog, a second
   * file...), keyed by a name of your choice. Each gets every record the log
   * file gets; wrap one in LogTape's `withFilter(sink, filter)` to give it
   * only some levels or categories. The log file keeps its reopen on SIGHUP
   * and its flush on exit; on exit the library also disposes of these sinks
   * (a synchronous `Symbol.dispose` is called on every exit path but
   * SIGKILL; an async one is started, not awaited). Like `onReload`, they
   * live in the script: the `Daemon` controller does not pass them on.
   * Not used when the program configured LogTape itself.
   *
   * @example Warnings and errors also to a sink of your own
   * ```ts
   * import type { DaemonOptions } from "@daemonize/daemon";
   * import { type LogRecord, withFilter } from "@logtape/logtape";
   *
   * const problems: LogRecord[] = []; // or getOpenTelemetrySink(), getFileSink("problems.log"), ...
   * const options: DaemonOptions = {
   *   pidFile: "app.pid",
   *   logFile: "app.log",
   *   logSinks: { problems: withFilter((record) => problems.push(record), "warning") },
   * };
   * ```
   */
  logSinks?: Record<string, Sink>;
  /** Where the daemon's raw standard output goes. Default: the log file, else the null device. */
  stdout?: string;
  /** Where the daemon's raw standard error goes. Default: the log file, else the null device. */
  stderr?: string;
  /** What the daemon reads as standard input. Default: the null device. */
  stdin?: string;
  /** The daemon's working directory. Default: the directory start was run from. */
  cwd?: string;
  /** The daemon's file-mode creation mask. Default `0o022`. */
  umask?: number;
  /** Extra environment variables for the daemon. */
  env?: Record<string, string>;
  /** When the daemon counts as started. Default `"auto"`. */
  readiness?: Readiness;
  /** How long `start` waits for ready, in ms. Default 10 000. */
  readyTimeout?: number;
  /** How long `stop` waits after SIGTERM before SIGKILL, in ms. Default 10 000. */
  stopTimeout?: number;
  /** Extra `deno run` flags for the re-executed daemon (scoped permissions, `--config`, ...). */
  denoArgs?: string[];
  /**
   * The command line to act on: the command, its flags, then `--` and the
   * program's own arguments (which become `ctx.args`). Default `Deno.args`.
   * The daemon that `start` launches does not read it: its `Deno.args` are
   * the program's own arguments.
   */
  args?: string[];
  /**
   * Whether the library configures LogTape. Default `true`, and even then a
   * program that configured LogTape itself before `daemonize` is left alone.
   */
  configureLogging?: boolean;
  /** Called on SIGHUP in the function form (a class uses its `reload`). */
  onReload?: DaemonMain;
  /** When main is started again after it ends. Default `"never"`. */
  restart?: RestartPolicy;
  /**
   * The first wait before a restart, in ms; it doubles after each
   * consecutive failure up to 30 s (or itself, when longer), and resets once
   * main has stayed up 30 s.
   * Default 100.
   */
  restartDelay?: number;
  /** Consecutive failures after which the daemon gives up. Default 10. */
  maxRestarts?: number;
  /**
   * What a SIGUSR1 does: `"ignore"` (default: logged and ignored) or
   * `"inspector"` (Deno's own behaviour: it opens the V8 inspector on
   * 127.0.0.1:9229, without authentication).
   */
  sigusr1?: "ignore" | "inspector";
}

/**
 * The options after validation: every default filled in, every path
 * absolute. The daemon sees them as `ctx.options`; the controller as
 * `await Daemon.options()`.
 *
 * @example
 * ```ts
 * import type { DaemonContext } from "@daemonize/daemon";
 *
 * function where(ctx: DaemonContext): string {
 *   return `pid in ${ctx.options.pidFile}, log in ${ctx.options.logFile ?? "nowhere"}`;
 * }
 * ```
 */
export interface ResolvedDaemonOptions {
  /** See {@linkcode DaemonOptions.name}. */
  readonly name: string;
  /** Absolute, or null when not set. */
  readonly pidFile: string | null;
  /** Absolute, or null when not set. */
  readonly logFile: string | null;
  /** See {@linkcode DaemonOptions.logLevel}. */
  readonly logLevel: LogLevel;
  /** See {@linkcode DaemonOptions.logFormat}. */
  readonly logFormat: LogFormat;
  /** See {@linkcode DaemonOptions.logSinks}; empty when not set. */
  readonly logSinks: Readonly<Record<string, Sink>>;
  /** Absolute path of raw standard output (the log file or the null device by default). */
  readonly stdout: string;
  /** Absolute path of raw standard error (the log file or the null device by default). */
  readonly stderr: string;
  /** Absolute path of standard input (the null device by default). */
  readonly stdin: string;
  /** The daemon's working directory, absolute. */
  readonly cwd: string;
  /** See {@linkcode DaemonOptions.umask}. */
  readonly umask: number;
  /** See {@linkcode DaemonOptions.env}. */
  readonly env: Readonly<Record<string, string>>;
  /** See {@linkcode DaemonOptions.readiness}. */
  readonly readiness: Readiness;
  /** In ms. */
  readonly readyTimeout: number;
  /** In ms. */
  readonly stopTimeout: number;
  /** See {@linkcode DaemonOptions.denoArgs}. */
  readonly denoArgs: readonly string[];
  /** The program's own arguments: the same as {@linkcode DaemonContext.args}. */
  readonly args: readonly string[];
  /** See {@linkcode DaemonOptions.configureLogging}. */
  readonly configureLogging: boolean;
  /** See {@linkcode DaemonOptions.onReload}. */
  readonly onReload: DaemonMain | null;
  /** See {@linkcode DaemonOptions.restart}. */
  readonly restart: RestartPolicy;
  /** In ms. */
  readonly restartDelay: number;
  /** See {@linkcode DaemonOptions.maxRestarts}. */
  readonly maxRestarts: number;
  /** See {@linkcode DaemonOptions.sigusr1}. */
  readonly sigusr1: "ignore" | "inspector";
}

/**
 * A daemon's state as read from its pidfile and the lock on it.
 *
 * @example
 * ```ts
 * import { Daemon, type DaemonStatus } from "@daemonize/daemon";
 *
 * async function report(app: Daemon): Promise<string> {
 *   const status: DaemonStatus = await app.status();
 *   return status.running ? `running as ${status.pid}` : "not running";
 * }
 * ```
 */
export interface DaemonStatus {
  /** The daemon's name. */
  name: string;
  /** True when a process holds the pidfile's lock. */
  running: boolean;
  /** The running daemon's pid, or the pid a stale pidfile names. */
  pid: number | null;
  /** When the running daemon wrote its pidfile. */
  startedAt: Date | null;
  /** The pidfile's absolute path. */
  pidFile: string;
  /** The log file's absolute path, when one is set. */
  logFile: string | null;
  /** True when a pidfile exists but no process holds its lock. */
  stale: boolean;
  /** True while the daemon is on its way out after a stop request. */
  stopping?: boolean;
  /** With a `restart` policy: how many times main was started again since `start`. */
  restarts?: number;
  /** With a `restart` policy: when and why main last ended. */
  lastExit?: { at: Date; reason: string } | null;
  /** With a `restart` policy: the process that runs main (`pid` is its keeper). */
  mainPid?: number | null;
  /** With a `restart` policy: it gave up after `maxRestarts` consecutive failures. */
  gaveUp?: boolean;
}

/**
 * What `start` and `restart` resolve to.
 *
 * @example
 * ```ts
 * import type { StartResult } from "@daemonize/daemon";
 *
 * function say(result: StartResult): string {
 *   return result.alreadyRunning ? `already running (pid ${result.pid})` : `started (pid ${result.pid})`;
 * }
 * ```
 */
export interface StartResult extends DaemonStatus {
  /** True when a daemon was already running and no new one was started. */
  alreadyRunning: boolean;
}

/**
 * What `stop` resolves to.
 *
 * @example
 * ```ts
 * import type { StopResult } from "@daemonize/daemon";
 *
 * function say(result: StopResult): string {
 *   if (!result.wasRunning) return "not running";
 *   return `stopped ${result.stoppedPid}${result.killed ? " (needed SIGKILL)" : ""}`;
 * }
 * ```
 */
export interface StopResult extends DaemonStatus {
  /** The pid that was stopped, when a daemon was running. */
  stoppedPid: number | null;
  /** True when the daemon ignored SIGTERM for `stopTimeout` and got SIGKILL. */
  killed: boolean;
  /** False when no daemon was running. */
  wasRunning: boolean;
  /**
   * True when no daemon was running and its stale pidfile was removed (it
   * is left in place when another program holds a lock on it).
   */
  removedStale: boolean;
  /**
   * Why the pidfile is still there after the daemon exited (it could not be
   * removed: an immutable directory, say), or null. The daemon is stopped
   * either way; the command line then exits 1.
   */
  pidFileError: string | null;
}

/**
 * What `reload` resolves to.
 *
 * @example
 * ```ts
 * import type { ReloadResult } from "@daemonize/daemon";
 *
 * const say = (result: ReloadResult) => result.reloaded ? `reloaded ${result.pid}` : "not running";
 * ```
 */
export interface ReloadResult extends DaemonStatus {
  /** True when the running daemon reopened its files. */
  reloaded: boolean;
  /** Why the daemon could not reload (it could not reopen its log, say), or null. */
  error: string | null;
}
