/**
 * Turn any Deno program into a well-behaved Unix daemon.
 *
 * `daemonize(main, options)` gives a script the commands `start`, `stop`,
 * `restart`, `status`, `reload`, `logs` and `run`. Start re-executes the program detached and
 * returns only once it is really up; the pidfile is guarded by an exclusive
 * kernel lock, so a stale pidfile never matters and stop never signals a
 * process that is not the daemon; and the library, `ctx.logger` and every
 * LogTape logger in the program write to one log file, with nothing lost on
 * exit.
 *
 * @example A daemon script (`app.ts`)
 * ```ts
 * import { daemonize } from "@daemonize/daemon";
 * import { setTimeout as sleep } from "node:timers/promises";
 *
 * if (import.meta.main) {
 *   await daemonize(async ({ signal, logger }) => {
 *     logger.info("worker up");
 *     // An abortable sleep: stop never waits for the next tick.
 *     while (!signal.aborted) await sleep(1000, undefined, { signal }).catch(() => {});
 *   }, { name: "app", pidFile: "app.pid", logFile: "app.log" });
 * }
 * ```
 *
 * ```sh
 * deno run -A app.ts start     # returns once the daemon is up
 * deno run -A app.ts status    # LSB exit codes; --json for machines
 * deno run -A app.ts logs -f   # follow its log
 * deno run -A app.ts stop      # returns once it has exited
 * ```
 *
 * The class form is {@linkcode daemon}; the controller for programs and
 * tests is {@linkcode Daemon}. Every failure is a {@linkcode DaemonError}
 * with a stable code.
 *
 * @module
 */

export { daemonize } from "./lib/daemonize.ts";
export { daemon } from "./lib/decorator.ts";
export { Daemon, type DaemonControllerOptions } from "./lib/launcher/controller.ts";
export { DaemonError, type DaemonErrorCode } from "./lib/errors.ts";
export type {
  DaemonClass,
  DaemonContext,
  DaemonInstance,
  DaemonLogger,
  DaemonLogMethod,
  DaemonMain,
  DaemonOptions,
  DaemonStatus,
  LogFormat,
  LogLevel,
  Readiness,
  ReloadResult,
  ResolvedDaemonOptions,
  RestartPolicy,
  StartResult,
  StopResult,
} from "./lib/types.ts";
