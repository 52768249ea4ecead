/**
 * The public types of `@daemonize/daemon`: what `main` receives, the options,
 * and the results the {@linkcode Daemon} controller resolves to.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";

/** The levels `logLevel` accepts. */
export type LogLevel = "debug" | "info" | "warning" | "error";

/**
 * When a started daemon counts as ready: `"auto"` once `main` has been called
 * and has not failed by the end of its first event-loop turn; `"notify"` when
 * `main` calls {@linkcode DaemonContext.ready}.
 */
export type Readiness = "auto" | "notify";

/** What `main` (or a class's `run` and `reload`) receives. */
export interface DaemonContext {
  /** Aborted on SIGTERM, SIGINT or `stop`; its `reason` names the signal. */
  readonly signal: AbortSignal;
  /** A LogTape logger for the category `[name]`, writing to the log file. */
  readonly logger: Logger;
  /** The daemon's name. */
  readonly name: string;
  /** The daemon's process id. */
  readonly pid: number;
  /** The command-line arguments after the command (`start`, `run`, ...). */
  readonly args: readonly string[];
  /** The options after validation. */
  readonly options: ResolvedDaemonOptions;
  /**
   * Reports the daemon ready. With `readiness: "notify"` `start` returns only
   * after this is called; otherwise it does nothing. Calling it twice is fine.
   */
  ready(): void;
}

/** A daemon's entry point in the function form. */
export type DaemonMain = (ctx: DaemonContext) => void | Promise<void>;

/** What a class given to `@daemon` provides. */
export interface DaemonInstance {
  /** The daemon's work; return (or resolve) to end the daemon. */
  run(ctx: DaemonContext): void | Promise<void>;
  /** Called on SIGHUP, after the log file has been reopened. */
  reload?(ctx: DaemonContext): void | Promise<void>;
}

/** A class usable with `@daemon` and `daemonize`: constructible without arguments. */
export type DaemonClass = new () => DaemonInstance;

/**
 * Options of a daemon. Paths are resolved against the directory the command
 * was run from. Each has the Python `Daemon` argument it replaces in the
 * README.
 */
export interface DaemonOptions {
  /** Name in messages and the logger category. Default: the main module's file stem. */
  name?: string;
  /** The pidfile, guarded by an exclusive lock. Required for start, stop and status. */
  pidFile?: string;
  /** The one log file the library and all of the program's loggers write to. */
  logFile?: string;
  /** The lowest level written to the log. Default `"info"`. */
  logLevel?: LogLevel;
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
  /** The command line to act on. Default `Deno.args`. */
  args?: string[];
  /**
   * Whether the library configures LogTape. Default `true`, and even then a
   * program that configured LogTape itself before `daemonize` is left alone.
   */
  configureLogging?: boolean;
  /** Called on SIGHUP in the function form (a class uses its `reload`). */
  onReload?: DaemonMain;
}

/** The options after validation: every default filled in, every path absolute. */
export interface ResolvedDaemonOptions {
  readonly name: string;
  readonly pidFile: string | null;
  readonly logFile: string | null;
  readonly logLevel: LogLevel;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdin: string;
  readonly cwd: string;
  readonly umask: number;
  readonly env: Readonly<Record<string, string>>;
  readonly readiness: Readiness;
  readonly readyTimeout: number;
  readonly stopTimeout: number;
  readonly denoArgs: readonly string[];
  readonly args: readonly string[];
  readonly configureLogging: boolean;
  readonly onReload: DaemonMain | null;
}

/** A daemon's state as read from its pidfile and the lock on it. */
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
}

/** What `start` and `restart` resolve to. */
export interface StartResult extends DaemonStatus {
  /** True when a daemon was already running and no new one was started. */
  alreadyRunning: boolean;
}

/** What `stop` resolves to. */
export interface StopResult extends DaemonStatus {
  /** The pid that was stopped, when a daemon was running. */
  stoppedPid: number | null;
  /** True when the daemon ignored SIGTERM for `stopTimeout` and got SIGKILL. */
  killed: boolean;
  /** True when no daemon was running (a stale pidfile is removed). */
  wasRunning: boolean;
}

/** What `reload` resolves to. */
export interface ReloadResult extends DaemonStatus {
  /** True when a running daemon was sent SIGHUP. */
  reloaded: boolean;
}
