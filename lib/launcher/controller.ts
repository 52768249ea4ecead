/**
 * The {@linkcode Daemon} controller: start, stop, restart and query a daemon
 * script from code, without a shell.
 *
 * @module
 */

import { DaemonError } from "../errors.ts";
import { absolutePath, portableOptions, resolveOptions } from "../options.ts";
import type {
  DaemonOptions,
  DaemonStatus,
  ReloadResult,
  ResolvedDaemonOptions,
  StartResult,
  StopResult,
} from "../types.ts";
import type { LaunchPlan } from "./spawn.ts";

/**
 * Options of a {@linkcode Daemon} controller: the script, and options laid
 * over its own.
 *
 * @example
 * ```ts
 * import type { DaemonControllerOptions } from "@daemonize/daemon";
 *
 * const options: DaemonControllerOptions = {
 *   module: new URL("./app.ts", import.meta.url),
 *   pidFile: "app.pid",
 *   logFile: "app.log",
 * };
 * ```
 */
export interface DaemonControllerOptions extends DaemonOptions {
  /**
   * The daemon script (a module that calls `daemonize`): a path, relative to
   * the current directory, or a URL.
   */
  module: string | URL;
}

/**
 * Manages a daemon script from code. Options given here are laid over the
 * script's own; give at least the same `pidFile` (and `logFile`, so a failed
 * start can show the script's output). `args` are extra arguments for the
 * script, after the command.
 *
 * @example Start, query and stop a daemon script
 * ```ts
 * import { Daemon } from "@daemonize/daemon";
 *
 * const app = new Daemon({ module: "./app.ts", pidFile: "app.pid", logFile: "app.log" });
 * if (import.meta.main) {
 *   const started = await app.start(); // resolves once the daemon is ready
 *   console.log(started.pid, (await app.status()).running);
 *   await app.stop(); // resolves once it has exited
 * }
 * ```
 */
export class Daemon {
  /** The controller's options after validation. */
  readonly options: ResolvedDaemonOptions;
  #plan: LaunchPlan;

  /**
   * Validates the options; nothing is started yet.
   *
   * @throws {DaemonError} `BAD_OPTION`, naming the option.
   */
  constructor(options: DaemonControllerOptions) {
    if (typeof options !== "object" || options === null) {
      throw new DaemonError(
        "BAD_OPTION",
        "new Daemon() takes an options object with a module",
      );
    }
    const { module, ...rest } = options;
    if (
      !(module instanceof URL) && (typeof module !== "string" || module === "")
    ) {
      throw new DaemonError(
        "BAD_OPTION",
        'option "module" must be the path or URL of the daemon script',
      );
    }
    const cwd = Deno.cwd();
    const ref = module instanceof URL
      ? module.href
      : /^[a-z][a-z0-9+.-]+:/i.test(module)
      ? module
      : absolutePath(module, cwd);
    this.options = resolveOptions(rest, { cwd, mainModule: ref });
    this.#plan = {
      options: this.options,
      module: ref,
      args: [...(rest.args ?? [])],
      portable: portableOptions(rest, cwd),
      launchCwd: cwd,
    };
  }

  /**
   * Starts the daemon; resolves once it is ready, or at once when it is
   * already running (`alreadyRunning: true`).
   *
   * @throws {DaemonError} `START_FAILED`, `READY_TIMEOUT`, `BAD_PIDFILE`, `PERMISSION`, `UNSUPPORTED`.
   */
  async start(): Promise<StartResult> {
    const { startDaemon } = await import("./start.ts");
    return await startDaemon(this.#plan);
  }

  /**
   * Stops the daemon; resolves once it has exited and its pidfile is gone.
   *
   * @throws {DaemonError} `BAD_PIDFILE`, `STOP_TIMEOUT`, `PERMISSION`, `UNSUPPORTED`.
   */
  async stop(): Promise<StopResult> {
    const { stopDaemon } = await import("./stop.ts");
    return await stopDaemon(this.options);
  }

  /** Stops, then starts; resolves to the start's result. */
  async restart(): Promise<StartResult> {
    await this.stop();
    return await this.start();
  }

  /**
   * Sends the running daemon SIGHUP: it reopens its log file and calls
   * `reload` / `onReload`. Resolves with `reloaded: false` when none runs.
   */
  async reload(): Promise<ReloadResult> {
    const { reloadDaemon } = await import("./reload.ts");
    return await reloadDaemon(this.options);
  }

  /** The daemon's status, from its pidfile and the lock on it. */
  async status(): Promise<DaemonStatus> {
    const { daemonStatus } = await import("./status.ts");
    return await daemonStatus(this.options);
  }
}
