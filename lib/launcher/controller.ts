/**
 * The {@linkcode Daemon} controller: start, stop, restart and query a daemon
 * script from code, without a shell.
 *
 * @module
 */

import { DaemonError, type DaemonErrorCode } from "../errors.ts";
import { absolutePath } from "../_option_paths.ts";
import { resolveOptions } from "../options.ts";
import { layOver, portableOptions } from "../_portable.ts";
import { assertDenoVersion } from "../_version.ts";
import { launchDirectory } from "../_cwd.ts";
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
 * over the script's own. Only `module` is needed (and `pidFile` when the
 * script sets none); the rest override what the script says.
 *
 * @example
 * ```ts
 * import type { DaemonControllerOptions } from "@daemonize/daemon";
 *
 * const options: DaemonControllerOptions = {
 *   module: new URL("./app.ts", import.meta.url),
 *   args: ["--port", "8080"], // the daemon's ctx.args
 *   stopTimeout: 2000,
 * };
 * ```
 */
export interface DaemonControllerOptions extends Omit<DaemonOptions, "args" | "onReload"> {
  /**
   * The daemon script (a module that calls `daemonize`): a path, relative to
   * the current directory, or a URL.
   */
  module: string | URL;
  /**
   * The program's own arguments: the daemon's `ctx.args` (and `Deno.args`),
   * what `-- ...` gives on the command line. Default: none.
   */
  args?: string[];
}

interface Learned {
  options: ResolvedDaemonOptions;
  plan: LaunchPlan;
}

/**
 * Manages a daemon script from code. It learns the script's own options by
 * running the script once, on first use, in a mode where `daemonize` only
 * reports them; options given here are laid over those. So, given only the
 * module (and its pidFile), it manages the daemon the script defines, under
 * the script's own `name`, and a failed start shows the script's own log
 * output.
 *
 * Permissions: the first call of any method runs the script with the real
 * Deno binary (`--allow-run=<Deno.execPath()>`, `--allow-env`, and read
 * access to the script); each method then needs what its command needs (see
 * the method, or the README's Permissions table). `-A` covers them all.
 *
 * @example Start, query and stop a daemon script
 * ```ts
 * import { Daemon } from "@daemonize/daemon";
 *
 * const app = new Daemon({ module: "./app.ts", pidFile: "app.pid" });
 * if (import.meta.main) {
 *   const started = await app.start(); // resolves once the daemon is ready
 *   console.log(started.name, started.pid, (await app.status()).running);
 *   await app.stop(); // resolves once it has exited
 * }
 * ```
 */
export class Daemon {
  #module: string;
  #cwd: string;
  #overrides: DaemonOptions;
  #args: string[];
  #readyTimeout: number;
  #learned: Promise<Learned> | null = null;

  /**
   * Checks the options; nothing is run yet and no permission is needed
   * (with `--allow-env=PWD` and read access to the current directory,
   * relative paths follow the shell's `PWD`).
   *
   * @throws {DaemonError} `BAD_OPTION`, naming the option; `UNSUPPORTED` on
   * a Deno that is too old.
   */
  constructor(options: DaemonControllerOptions) {
    assertDenoVersion();
    if (typeof options !== "object" || options === null) {
      throw new DaemonError(
        "BAD_OPTION",
        "new Daemon() takes an options object with a module",
      );
    }
    const { module, args, ...overrides } = options as DaemonControllerOptions & DaemonOptions;
    if (
      !(module instanceof URL) && (typeof module !== "string" || module === "")
    ) {
      throw new DaemonError(
        "BAD_OPTION",
        'option "module" must be the path or URL of the daemon script',
      );
    }
    if (overrides.onReload !== undefined) {
      throw new DaemonError(
        "BAD_OPTION",
        'option "onReload" is not a controller option: SIGHUP is handled inside the daemon, ' +
          "so set onReload (or a class's reload) in the script itself",
      );
    }
    const cwd = launchDirectory();
    this.#module = module instanceof URL
      ? module.href
      : /^[a-z][a-z0-9+.-]+:/i.test(module)
      ? module
      : absolutePath(module, cwd);
    this.#cwd = cwd;
    // Checked now, so that a mistake shows here; laid over the script's own
    // options once they are known.
    const checked = resolveOptions({ ...overrides, args }, {
      cwd,
      mainModule: this.#module,
      args: [],
    });
    this.#overrides = overrides;
    this.#args = [...(args ?? [])];
    this.#readyTimeout = checked.readyTimeout;
  }

  // The script's options are learned once per controller; a failure is not
  // kept, so the next call tries again.
  #learn(failCode: DaemonErrorCode): Promise<Learned> {
    this.#learned ??= this.#describe(failCode).catch((err) => {
      this.#learned = null;
      throw err;
    });
    return this.#learned;
  }

  async #describe(failCode: DaemonErrorCode): Promise<Learned> {
    const { describeScript } = await import("./_describe.ts");
    const own = await describeScript({
      module: this.#module,
      cwd: this.#cwd,
      env: this.#overrides.env ?? {},
      denoArgs: this.#overrides.denoArgs ?? [],
      timeoutMs: this.#readyTimeout,
    }, failCode);
    const options = resolveOptions(layOver(own, this.#overrides), {
      cwd: this.#cwd,
      mainModule: this.#module,
      args: this.#args,
    });
    return {
      options,
      plan: {
        options,
        module: this.#module,
        args: this.#args,
        portable: portableOptions(this.#overrides, this.#cwd),
        launchCwd: this.#cwd,
      },
    };
  }

  /**
   * The options the daemon runs with: the script's own, with this
   * controller's laid over them. The first call (of any method) runs the
   * script once to learn them; later calls reuse what it said.
   *
   * @throws {DaemonError} `BAD_OPTION` when the script cannot report its
   * options (it fails before calling `daemonize`, or its options are
   * invalid); `PERMISSION` without the right to run Deno.
   *
   * Requires `--allow-run` for the real Deno binary, `--allow-env`, and
   * read access to the script (first call only).
   */
  async options(): Promise<ResolvedDaemonOptions> {
    return (await this.#learn("BAD_OPTION")).options;
  }

  /**
   * Starts the daemon; resolves once it is ready, or at once when it is
   * already running (`alreadyRunning: true`).
   *
   * Requires `--allow-read` and `--allow-write` (pidfile, log and output
   * files), `--allow-env`, and `--allow-run` for `/bin/sh` and the real Deno
   * binary (`Deno.execPath()`), which also covers the first call's reading
   * of the script's options.
   *
   * @throws {DaemonError} `START_FAILED`, `READY_TIMEOUT`, `BAD_PIDFILE`, `PERMISSION`, `UNSUPPORTED`.
   */
  async start(): Promise<StartResult> {
    const { plan } = await this.#learn("START_FAILED");
    const { startDaemon } = await import("./start.ts");
    return await startDaemon(plan);
  }

  /**
   * Stops the daemon; resolves once it has exited and its pidfile is gone
   * (or, when the pidfile could not be removed, with the reason in
   * `pidFileError`).
   *
   * Requires `--allow-read`, `--allow-write` (the pidfile) and either
   * `--allow-all` or `--allow-run=/bin/sh`, to prove through /proc which
   * process holds the pidfile's lock before signalling it; on its first
   * call, what {@linkcode Daemon.options} needs.
   *
   * @throws {DaemonError} `BAD_PIDFILE`, `STOP_TIMEOUT`, `PERMISSION`, `UNSUPPORTED`.
   */
  async stop(): Promise<StopResult> {
    const { options } = await this.#learn("BAD_OPTION");
    const { stopDaemon } = await import("./stop.ts");
    return await stopDaemon(options);
  }

  /** Stops, then starts; resolves to the start's result. Requires what both need. */
  async restart(): Promise<StartResult> {
    await this.stop();
    return await this.start();
  }

  /**
   * Sends the running daemon SIGHUP: it reopens its log file and calls
   * `reload` / `onReload`. Resolves with `reloaded: false` when none runs,
   * and with `reloaded: false` and the daemon's reason in `error` when it
   * could not reopen its files.
   *
   * Requires what {@linkcode Daemon.stop} does.
   */
  async reload(): Promise<ReloadResult> {
    const { options } = await this.#learn("BAD_OPTION");
    const { reloadDaemon } = await import("./reload.ts");
    return await reloadDaemon(options);
  }

  /**
   * The daemon's status, from its pidfile and the lock on it. Requires
   * `--allow-read` (and, on the first call, what {@linkcode Daemon.options}
   * needs); with `--allow-all` (or `--allow-run=/bin/sh`) the pid it reports
   * is proven to hold the lock.
   */
  async status(): Promise<DaemonStatus> {
    const { options } = await this.#learn("BAD_OPTION");
    const { daemonStatus } = await import("./status.ts");
    return await daemonStatus(options);
  }
}
