/**
 * The daemon side: what the re-executed child (and `run`, in the foreground)
 * does. It installs signal listeners, takes the pidfile lock and writes its
 * pid, sets the process up, configures logging, runs `main`, reports ready,
 * and on the way out logs why it ended, removes the pidfile and flushes the
 * log before exiting.
 *
 * @module
 */

import { DaemonError } from "../errors.ts";
import { faultPoint } from "../_fault.ts";
import { nextTurn } from "../_time.ts";
import { acquirePidFile, PidFileLock } from "../pidfile.ts";
import type { DaemonContext, DaemonMain, ResolvedDaemonOptions } from "../types.ts";
import { tellLauncher } from "./_ready.ts";
import { sdNotify } from "./_sd_notify.ts";
import { type Logging, setUpLogging } from "./logging.ts";
import { listenForSignals, signalExitCode } from "./signals.ts";

/** What a daemon runs: `main`, and what SIGHUP calls besides reopening the log. */
export interface DaemonEntry {
  main: DaemonMain;
  reload: DaemonMain | null;
}

/** `"daemon"`: the detached child of `start`; `"foreground"`: the `run` command. */
export type RunMode = "daemon" | "foreground";

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

// A started daemon got its umask from the launcher's shell; Deno.umask()
// needs the whole of --allow-sys, without which the inherited one stays.
// Set again where allowed, for a module whose own umask the launcher (a
// Daemon controller) did not know.
function applyUmask(umask: number): void {
  if (Deno.build.os === "windows") return;
  if (Deno.permissions.querySync({ name: "sys" }).state === "granted") Deno.umask(umask);
}

function enterCwd(cwd: string): void {
  try {
    if (Deno.cwd() !== cwd) Deno.chdir(cwd);
  } catch (err) {
    throw new DaemonError(
      "BAD_OPTION",
      `option "cwd" names "${cwd}", which is not a directory that can be entered`,
      {
        cause: err,
      },
    );
  }
}

// A started daemon got the launcher's env already; what a controller's
// launcher did not know (the module's own env) is set here where allowed.
function applyEnv(env: Readonly<Record<string, string>>, daemon: boolean): void {
  for (const [name, value] of Object.entries(env)) {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      if (daemon) continue;
      throw new DaemonError(
        "PERMISSION",
        `option "env" sets ${name}, which needs --allow-env (or --allow-env=${name})`,
      );
    }
    if (Deno.env.get(name) !== value) Deno.env.set(name, value);
  }
}

/**
 * Runs `entry` as a daemon in this process and exits with its exit code:
 * 0 when `main` returns, 1 when it throws or rejects.
 *
 * @throws {DaemonError} in the foreground, for setup failures (the launcher
 * is told instead in daemon mode).
 */
export async function runDaemon(
  entry: DaemonEntry,
  options: ResolvedDaemonOptions,
  mode: RunMode,
): Promise<never> {
  const daemon = mode === "daemon";
  const controller = new AbortController();
  let logging: Logging | null = null;
  let lock: PidFileLock | null = null;
  let ready = false;
  let ending = false;
  let stopSignal: "SIGTERM" | "SIGINT" | null = null;

  // Ends the process: the reason is the last line logged, then the pidfile
  // goes (while the lock is still ours), then the log is flushed; the lock
  // is released by the exit itself, so whoever waits on it sees a finished
  // daemon with its log on disk.
  function finish(code: number, why: string, error?: unknown): never {
    ending = true;
    const line = `exiting: ${why} (exit code ${code})`;
    if (logging === null) {
      if (error !== undefined) console.error(`${options.name}: ${line}`, error);
    } else if (error !== undefined) {
      logging.library.fatal(`${line}: {error}`, { error });
    } else if (code === 0) {
      logging.library.info(line);
    } else {
      logging.library.error(line);
    }
    lock?.remove();
    logging?.close();
    // Last, so that a failed start's launcher finds the log complete.
    if (daemon && !ready) {
      tellLauncher({
        ok: false,
        code: "START_FAILED",
        message: error === undefined ? why : `${why}: ${describe(error)}`,
      });
    }
    Deno.exit(code);
  }

  // systemd (Type=notify) hears READY=1 once ready and STOPPING=1 on stop.
  let notified: Promise<void> = Promise.resolve();
  function notify(state: "READY=1" | "STOPPING=1"): void {
    notified = notified.then(() => sdNotify(state)).then((problem) => {
      if (problem !== null) logging?.library.warn(problem);
    });
  }

  listenForSignals({
    stop(signal) {
      if (ending) return;
      if (stopSignal !== null) {
        finish(
          signalExitCode(signal),
          `second ${signal}; not waiting for main to return`,
        );
      }
      stopSignal = signal;
      logging?.library.info(`stopping: ${signal}`);
      notify("STOPPING=1");
      controller.abort(new DOMException(`stopped by ${signal}`, "AbortError"));
    },
    reload() {
      if (logging === null || ending) return;
      try {
        logging.reopen();
      } catch (error) {
        logging.library.error("reload: cannot reopen the log file: {error}", {
          error,
        });
      }
      logging.library.info("reload: SIGHUP");
      if (entry.reload !== null) {
        Promise.resolve()
          .then(() => entry.reload!(ctx))
          .catch((error) => logging?.library.error("reload failed: {error}", { error }));
      }
    },
  });

  // The program's own Deno.exit(), or an event loop that ran dry. Added
  // before LogTape is configured: LogTape disposes itself on unload too, and
  // listeners run in the order they were added.
  addEventListener("unload", () => {
    if (ending) return;
    ending = true;
    const why = `the program ended the process (exit code ${Deno.exitCode})`;
    logging?.library.info(`exiting: ${why}`);
    lock?.remove();
    logging?.close();
    if (daemon && !ready) tellLauncher({ ok: false, code: "START_FAILED", message: why });
  });

  try {
    applyUmask(options.umask);
    if (options.pidFile !== null) {
      faultPoint("daemon-before-lock");
      const got = await acquirePidFile(options.pidFile, Deno.pid);
      if (!(got instanceof PidFileLock)) {
        const pid = got.heldBy;
        if (pid === null) {
          // Locked, but not by a daemon of ours: those always write their pid.
          throw new DaemonError(
            "BAD_PIDFILE",
            `pidFile "${options.pidFile}" is locked by another program that wrote no pid; find it with: fuser ${options.pidFile}`,
          );
        }
        if (daemon) {
          tellLauncher({
            ok: false,
            code: "ALREADY_RUNNING",
            message: `already running (pid ${pid})`,
            pid,
          });
          ending = true;
          Deno.exit(0);
        }
        throw new DaemonError(
          "ALREADY_RUNNING",
          `${options.name} is already running (pid ${pid}, pidFile "${options.pidFile}"); stop it first`,
        );
      }
      lock = got;
      faultPoint("daemon-after-lock");
    }
    enterCwd(options.cwd);
    applyEnv(options.env, daemon);
    logging = setUpLogging(options, !daemon);
  } catch (error) {
    lock?.release();
    if (!daemon) throw error;
    const err = error instanceof DaemonError
      ? error
      : new DaemonError("START_FAILED", describe(error));
    tellLauncher({ ok: false, code: err.code, message: err.message });
    ending = true;
    Deno.exit(1);
  }

  const log = logging;
  if (daemon) log.captureConsole();
  addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    finish(1, "unhandled promise rejection", event.reason);
  });
  addEventListener("error", (event) => {
    event.preventDefault();
    finish(1, "uncaught exception", event.error);
  });

  const ctx: DaemonContext = {
    signal: controller.signal,
    logger: log.app,
    name: options.name,
    pid: Deno.pid,
    args: options.args.slice(1),
    options,
    ready() {
      if (ready || ending) return;
      ready = true;
      faultPoint("daemon-before-ready");
      lock?.markReady();
      if (daemon) tellLauncher({ ok: true, pid: Deno.pid });
      log.library.info(`started ${options.name} (pid ${Deno.pid})`);
      notify("READY=1");
    },
  };

  log.library.debug(`starting ${options.name} (pid ${Deno.pid}, ${mode})`);
  let result: unknown;
  try {
    result = entry.main(ctx);
  } catch (error) {
    finish(1, "main threw", error);
  }
  Promise.resolve(result).then(
    async () => {
      if (options.readiness === "auto") ctx.ready();
      if (!ready && stopSignal !== null) finish(0, `stopped by ${stopSignal} before it was ready`);
      if (!ready) finish(1, 'main returned without calling ctx.ready() (readiness "notify")');
      await notified; // systemd hears STOPPING=1 before the exit
      finish(0, stopSignal === null ? "main returned" : `stopped by ${stopSignal}`);
    },
    (error) => finish(1, "main failed", error),
  );
  if (options.readiness === "auto") {
    // Ready once main has survived its first turn of the event loop.
    await nextTurn();
    ctx.ready();
  }
  return await new Promise<never>(() => {});
}
