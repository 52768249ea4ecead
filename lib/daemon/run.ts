/**
 * The daemon side: what the started program (and `run`, in the foreground)
 * does with its life. One sequence, in this order:
 *
 * 1. starting: signal listeners first (a process without them dies on the
 *    spot), then the pidfile lock, the process set-up (cwd, env), logging,
 *    the raw output files; then `main`.
 * 2. ready: `main` has survived its first turn (or called `ctx.ready()`):
 *    the pidfile says so, the launcher hears it, and from now on the
 *    pidfile's path is watched and mended.
 * 3. stopping: a stop signal aborted `ctx.signal`; `main` is winding down.
 * 4. exiting: the one teardown every way out goes through: the last log
 *    line says why, the pidfile goes (the lock stays until the exit itself,
 *    so whoever waits on it wakes to a finished daemon), the log is flushed.
 *
 * @module
 */

import { DaemonError } from "../errors.ts";
import { faultPoint } from "../_fault.ts";
import { nextTurn, sleep } from "../_time.ts";
import type { LaunchSpec } from "../_launch.ts";
import type { DaemonContext, DaemonMain, ResolvedDaemonOptions } from "../types.ts";
import { KeeperChannel } from "./_channel.ts";
import { PidFileLock } from "./_lock.ts";
import { RawTargets } from "./_raw.ts";
import { sdNotify } from "./_sd_notify.ts";
import { guardInspector, usr1Pending } from "./_inspector.ts";
import { type Logging, setUpLogging } from "./logging.ts";
import { listenForSignals, signalExitCode, type StopSignal } from "./signals.ts";

/** What a daemon runs: `main`, and what SIGHUP calls besides reopening the log. */
export interface DaemonEntry {
  main: DaemonMain;
  reload: DaemonMain | null;
}

/** `"daemon"`: started by `start`; `"foreground"`: the `run` command. */
export type RunMode = "daemon" | "foreground";

/** How often the pidfile's path is checked (the repair window is about this). */
const WATCH_MS = 500;

type Phase = "starting" | "ready" | "stopping" | "exiting";

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

// A started daemon got its umask from the keeper; Deno.umask() needs the
// whole of --allow-sys. Set again where allowed, for a module whose own
// umask the launcher (a Daemon controller) did not know.
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
      { cause: err },
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

/** One daemon's life in this process. */
class Life {
  phase: Phase = "starting";
  stopSignal: StopSignal | "SIGHUP" | null = null;
  logging: Logging | null = null;
  lock: PidFileLock | null = null;
  raw: RawTargets | null = null;
  readonly controller = new AbortController();
  readonly channel: KeeperChannel | null;
  #notified: Promise<void> = Promise.resolve();
  /** Installs the listeners for the signals that are logged and ignored. */
  listenForStrays: () => void = () => {};
  /** How the current run of main hears of an uncaught error in the program. */
  onFailure: (why: string, error: unknown) => void = (why, error) => this.exit(1, why, error);
  #usr1Logged = false;

  readonly ctx: DaemonContext;
  readonly entry: DaemonEntry;
  readonly options: ResolvedDaemonOptions;
  readonly mode: RunMode;

  constructor(
    entry: DaemonEntry,
    options: ResolvedDaemonOptions,
    mode: RunMode,
    spec: LaunchSpec | null,
  ) {
    this.entry = entry;
    this.options = options;
    this.mode = mode;
    this.channel = spec === null ? null : new KeeperChannel(spec.nonce);
    this.ctx = {
      signal: this.controller.signal,
      logger: null!,
      name: options.name,
      pid: Deno.pid,
      args: [],
      options,
      ready: () => this.ready(),
    };
  }

  get daemon(): boolean {
    return this.mode === "daemon";
  }

  /** Whether the daemon has been ready (it may be stopping or exiting now). */
  get wasReady(): boolean {
    return this.#readyOnce;
  }
  #readyOnce = false;

  /** A lifecycle line: always written, whatever `logLevel` is. */
  say(level: "info" | "warn" | "error" | "fatal", message: string, error?: unknown): void {
    const log = this.logging?.library;
    if (log === undefined) {
      if (error !== undefined) console.error(`${this.options.name}: ${message}`, error);
      return;
    }
    if (error !== undefined) log[level](`${message}: {error}`, { error });
    else log[level](message);
  }

  /**
   * The teardown of every way out but the program's own `Deno.exit` (see
   * `unload`): the reason is the last line logged, then the pidfile goes
   * (while the lock is still ours), then the log is flushed, and the
   * launcher of a daemon that never got ready hears why, last, so that it
   * finds the log complete.
   */
  teardown(code: number, why: string, error?: unknown): void {
    this.phase = "exiting";
    const line = `exiting: ${why} (exit code ${code})`;
    this.say(error !== undefined ? "fatal" : code === 0 ? "info" : "error", line, error);
    this.lock?.remove();
    this.logging?.close();
    if (!this.#readyOnce) {
      this.channel?.tell({
        ok: false,
        code: "START_FAILED",
        message: error === undefined ? `${why} (exit code ${code})` : `${why}: ${describe(error)}`,
      });
    }
  }

  exit(code: number, why: string, error?: unknown): never {
    if (this.phase !== "exiting") this.teardown(code, why, error);
    Deno.exit(code);
  }

  ready(): void {
    if (this.phase !== "starting") return;
    this.phase = "ready";
    this.#readyOnce = true;
    faultPoint("daemon-before-ready");
    // Before anyone can hear of ready (the pidfile, the launcher): a stray
    // signal sent the moment start returns must find its listener.
    this.listenForStrays();
    this.lock?.update({ starting: false });
    // Before start returns: the rest of the signals are handled by then.
    this.listenForStrays();
    // Logged first, so that a start that returns finds the line in the log.
    this.say("info", `started ${this.options.name} (pid ${Deno.pid})`);
    this.channel?.tell({
      ok: true,
      pid: this.lock?.content.pid ?? Deno.pid,
      mainPid: Deno.pid,
      startedAt: this.lock?.startedAt()?.toISOString() ?? null,
    });
    faultPoint("daemon-after-ready");
    this.notify("READY=1");
    if (this.lock !== null || this.daemon) this.#watch();
  }

  stop(signal: StopSignal | "SIGHUP"): void {
    if (this.phase === "exiting") return;
    if (this.stopSignal !== null) {
      this.exit(
        signal === "SIGHUP" ? 129 : signalExitCode(signal),
        `second ${signal}; not waiting for main to return`,
      );
    }
    this.stopSignal = signal;
    if (this.phase === "ready") this.phase = "stopping";
    try {
      this.lock?.update({ stopping: true });
    } catch { /* the stop goes on; only a start's wait would miss it */ }
    this.say(
      "info",
      signal === "SIGHUP" ? "stopping: SIGHUP (the terminal hung up)" : `stopping: ${signal}`,
    );
    this.notify("STOPPING=1");
    this.controller.abort(new DOMException(`stopped by ${signal}`, "AbortError"));
  }

  /** SIGHUP: reopen the log and raw output files, answer in the pidfile, call reload. */
  reload(): void {
    if (this.phase === "exiting" || this.logging === null) return;
    const problems: string[] = [];
    try {
      this.logging.reopen();
    } catch (error) {
      problems.push(`cannot reopen the log file: ${describe(error)}`);
    }
    try {
      this.raw?.reopen();
    } catch (error) {
      problems.push(`cannot reopen raw output: ${describe(error)}`);
    }
    const error = problems.length > 0 ? problems.join("; ") : null;
    if (error !== null) this.say("error", `reload: ${error}`);
    else this.say("info", "reload: SIGHUP");
    this.lock?.answerReload(error);
    const reload = this.entry.reload;
    if (reload !== null) {
      Promise.resolve()
        .then(() => reload(this.ctx))
        .catch((error) => this.say("error", "reload failed", error));
    }
  }

  stray(signal: string): void {
    this.say("warn", `${signal} received and ignored (its default would end the daemon)`);
  }

  usr1(): void {
    this.#usr1Logged = true;
    if (this.options.sigusr1 === "inspector") {
      this.say(
        "warn",
        "SIGUSR1: Deno opens the V8 inspector on 127.0.0.1:9229 (sigusr1: inspector)",
      );
      return;
    }
    this.say("warn", "SIGUSR1 received and ignored; no debugger is opened (sigusr1: ignore)");
    guardInspector().then((closed) => {
      if (closed) this.say("warn", "SIGUSR1: closed the V8 inspector Deno had opened");
    });
  }

  notify(state: "READY=1" | "STOPPING=1"): void {
    this.#notified = this.#notified.then(() => sdNotify(state)).then((problem) => {
      if (problem !== null) this.say("warn", problem);
    });
  }

  get notified(): Promise<void> {
    return this.#notified;
  }

  // The path must keep naming the locked file: someone may delete or replace
  // it (tmp cleaners, config management). A blocked SIGUSR1 is noticed here.
  #watch(): void {
    let busy = false;
    const timer = setInterval(() => {
      if (this.phase === "exiting") return clearInterval(timer);
      if (!this.#usr1Logged && this.daemon && usr1Pending()) {
        this.#usr1Logged = true;
        this.say("warn", "SIGUSR1 received and ignored: it is blocked in this daemon");
      }
      const seen = this.lock?.check();
      if (seen?.kind !== "busy") busy = false;
      if (seen === undefined || seen.kind === "ok") return;
      if (seen.kind === "busy") {
        if (!busy) {
          this.say(
            "warn",
            `pidFile "${this.options.pidFile}" was replaced, and another program holds a lock on the new file; restoring it once that lock goes`,
          );
        }
        busy = true;
      } else if (seen.kind === "restored") {
        this.say(
          "warn",
          `pidFile "${this.options.pidFile}" was ${
            seen.was === "missing"
              ? "removed"
              : seen.was === "foreign"
              ? "replaced by a file of another user (removed)"
              : "replaced"
          }; restored it`,
        );
      } else if (seen.kind === "taken") {
        clearInterval(timer);
        this.exit(
          0,
          `pidFile "${this.options.pidFile}" now belongs to another daemon (pid ${
            seen.by ?? "unknown"
          }); leaving it the only one`,
        );
      } else {
        this.say("error", `pidFile "${this.options.pidFile}" cannot be restored: ${seen.message}`);
      }
    }, WATCH_MS);
    Deno.unrefTimer(timer);
  }
}

/**
 * Runs `entry` as a daemon in this process and exits with its exit code:
 * 0 when `main` returns, 1 when it throws or rejects.
 *
 * @param spec The launch spec, in a started daemon.
 * @throws {DaemonError} in the foreground, for setup failures (the launcher
 * is told instead in daemon mode).
 */
export async function runDaemon(
  entry: DaemonEntry,
  options: ResolvedDaemonOptions,
  mode: RunMode,
  spec: LaunchSpec | null = null,
): Promise<never> {
  const life = new Life(entry, options, mode, spec);
  const hangup = mode === "foreground" &&
    [Deno.stdin, Deno.stdout, Deno.stderr].some((stream) => stream.isTerminal());
  life.listenForStrays = listenForSignals({
    stop: (signal) => life.stop(signal),
    // In the foreground at a terminal, SIGHUP is the terminal hanging up.
    reload: () => hangup ? life.stop("SIGHUP") : life.reload(),
    usr1: () => life.usr1(),
    stray: (signal) => life.stray(signal),
  });
  // The program's own Deno.exit(), or an event loop that ran dry. Added
  // before LogTape is configured: LogTape disposes itself on unload too, and
  // listeners run in the order they were added.
  addEventListener("unload", () => {
    if (life.phase === "exiting") return;
    life.teardown(Deno.exitCode, `the program ended the process`);
  });

  try {
    await start(life, spec);
  } catch (error) {
    life.lock?.release();
    if (!life.daemon) throw error;
    const err = error instanceof DaemonError
      ? error
      : new DaemonError("START_FAILED", describe(error));
    life.phase = "exiting";
    life.channel?.tell({ ok: false, code: err.code, message: err.message });
    Deno.exit(1);
  }

  const logging = life.logging!;
  if (life.daemon) logging.captureConsole();
  onUncaught(life);
  Object.assign(life.ctx, { logger: logging.app, args: options.args });
  logging.library.debug(`starting ${options.name} (pid ${Deno.pid}, ${mode})`);
  if (options.readiness === "auto") {
    // Ready once main has survived its first turn of the event loop.
    nextTurn().then(() => life.ready());
  }
  await supervise(life);
  return await new Promise<never>(() => {});
}

/** How one run of main ended. */
type Ending = { failed: false } | { failed: true; why: string; error: unknown };

/**
 * Runs main until the daemon ends. A started daemon runs it once (with a
 * restart policy its keeper starts the process again, which survives what
 * no process can catch: Deno.exit, the OOM killer, a crash); in the
 * foreground (`run`) a restart policy starts main again in this process
 * after it throws, rejects or (`"always"`) returns.
 */
async function supervise(life: Life): Promise<never> {
  const { options } = life;
  const again = life.mode === "foreground" && options.restart !== "never";
  let fails = 0;
  let delay = options.restartDelay;
  for (let restarts = 0;; restarts++) {
    const since = performance.now();
    const ending = await runMain(life);
    const signal = life.stopSignal;
    if (signal === null && life.wasReady && again) {
      if (performance.now() - since >= 30_000) [fails, delay] = [0, options.restartDelay];
      const restart = ending.failed || options.restart === "always";
      if (ending.failed) fails++;
      if (restart && fails <= options.maxRestarts) {
        const pause = ending.failed ? delay : options.restartDelay;
        if (ending.failed) delay = Math.min(delay * 2, 30_000);
        life.say(
          "error",
          `${options.name} ${ending.failed ? ending.why : "main returned"}; restart ${
            restarts + 1
          } in ${pause} ms`,
          ending.failed ? ending.error : undefined,
        );
        await Promise.race([sleep(pause), stopRequested(life)]);
        if (life.stopSignal === null) continue;
        await life.notified;
        life.exit(0, `stopped by ${life.stopSignal}`);
      } else if (restart) {
        life.exit(
          1,
          `giving up after ${options.maxRestarts} restarts: ${fails} consecutive failures, the last: ${
            ending.failed ? ending.why : "main returned"
          }`,
          ending.failed ? ending.error : undefined,
        );
      }
    }
    if (ending.failed) life.exit(1, ending.why, ending.error);
    const stop = life.stopSignal;
    if (!life.wasReady && stop !== null) life.exit(0, `stopped by ${stop} before it was ready`);
    if (!life.wasReady) {
      life.exit(1, 'main returned without calling ctx.ready() (readiness "notify")');
    }
    await life.notified; // systemd hears STOPPING=1 before the exit
    if (stop === null) life.exit(0, "main returned");
    life.exit(0, `stopped by ${stop}`);
  }
}

function stopRequested(life: Life): Promise<void> {
  const signal = life.controller.signal;
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** One run of main: how it ended (an uncaught error in the program ends it too). */
function runMain(life: Life): Promise<Ending> {
  return new Promise<Ending>((resolve) => {
    life.onFailure = (why, error) => resolve({ failed: true, why, error });
    let result: unknown;
    try {
      result = life.entry.main(life.ctx);
    } catch (error) {
      return resolve({ failed: true, why: "main threw", error });
    }
    Promise.resolve(result).then(
      () => {
        if (life.options.readiness === "auto") life.ready();
        resolve({ failed: false });
      },
      (error) => resolve({ failed: true, why: "main failed", error }),
    );
  });
}

/** Step 1 up to main: the lock, the process, logging, raw output. */
async function start(life: Life, spec: LaunchSpec | null): Promise<void> {
  const { options } = life;
  applyUmask(options.umask);
  if (options.pidFile !== null) {
    faultPoint("daemon-before-lock");
    if (spec?.keeperLock) {
      life.lock = PidFileLock.underKeeper(options.pidFile, spec.keeperLock, Deno.pid);
    } else {
      const got = await PidFileLock.acquire(options.pidFile, Deno.pid);
      if (!(got instanceof PidFileLock)) {
        const pid = got.heldBy;
        if (pid === null) {
          // Locked, but not by a daemon of ours: those always write their pid.
          throw new DaemonError(
            "BAD_PIDFILE",
            `pidFile "${options.pidFile}" is locked by another program that wrote no pid; find it with: fuser ${options.pidFile}`,
          );
        }
        if (life.daemon) {
          life.phase = "exiting";
          life.channel?.tell({
            ok: false,
            code: "ALREADY_RUNNING",
            message: `already running (pid ${pid})`,
            pid,
          });
          Deno.exit(0);
        }
        throw new DaemonError(
          "ALREADY_RUNNING",
          `${options.name} is already running (pid ${pid}, pidFile "${options.pidFile}"); stop it first`,
        );
      }
      life.lock = got;
    }
    faultPoint("daemon-after-lock");
  }
  enterCwd(options.cwd);
  applyEnv(options.env, life.daemon);
  life.logging = setUpLogging(options, !life.daemon);
  if (life.channel !== null) life.raw = RawTargets.open(options, life.channel);
}

// An uncaught exception or unhandled rejection ends the daemon, unless the
// program handles it itself (calls preventDefault in its own listener,
// whether that listener was added before this one or after).
function onUncaught(life: Life): void {
  for (const type of ["unhandledrejection", "error"] as const) {
    addEventListener(type, (event: Event) => {
      let handled = event.defaultPrevented;
      const prevent = event.preventDefault.bind(event);
      Object.defineProperty(event, "preventDefault", {
        value: () => {
          handled = true;
          prevent();
        },
      });
      prevent();
      queueMicrotask(() => {
        if (handled) return;
        const reason = type === "error" ? (event as ErrorEvent).error : (
          event as PromiseRejectionEvent
        ).reason;
        life.onFailure(
          type === "error" ? "uncaught exception" : "unhandled promise rejection",
          reason,
        );
      });
    });
  }
}
