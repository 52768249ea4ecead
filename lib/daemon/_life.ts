// One daemon's life in this process (see lib/daemon/run.ts): its phase,
// the one teardown every way out goes through, and what it does on each
// signal and once ready (watch the pidfile's path).

import { DaemonError } from "../errors.ts";
import { faultPoint } from "../_fault.ts";
import { lifecycleLine } from "../_lifecycle_line.ts";
import type { LaunchSpec } from "../_launch.ts";
import type { DaemonContext, DaemonMain, ResolvedDaemonOptions } from "../types.ts";
import { KeeperChannel } from "./_channel.ts";
import type { PidFileLock } from "./_lock.ts";
import type { RawTargets } from "./_raw.ts";
import { sdNotify } from "./_sd_notify.ts";
import { writeStderr } from "./_stderr.ts";
import { guardInspector } from "./_inspector.ts";
import { watch } from "./_watch.ts";
import type { Logging } from "./logging.ts";
import { signalExitCode, type StopSignal } from "./signals.ts";

/** What a daemon runs: `main`, and what SIGHUP calls besides reopening the log. */
export interface DaemonEntry {
  main: DaemonMain;
  reload: DaemonMain | null;
}

/** `"daemon"`: started by `start`; `"foreground"`: the `run` command. */
export type RunMode = "daemon" | "foreground";

type Phase = "starting" | "ready" | "stopping" | "exiting";

/** An error as one line: its name and message. */
export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** One daemon's life in this process. */
export class Life {
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
  /** Whether a SIGUSR1 has been logged already (see _watch.ts). */
  usr1Logged = false;

  readonly ctx: DaemonContext;
  /** The program's code, once loaded (after the lock: see run.ts). */
  entry: DaemonEntry | null = null;
  readonly options: ResolvedDaemonOptions;
  readonly mode: RunMode;

  constructor(options: ResolvedDaemonOptions, mode: RunMode, spec: LaunchSpec | null) {
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
      let message = error === undefined
        ? `${why} (exit code ${code})`
        : `${why}: ${describe(error)}`;
      // A stop that ran during the start: the start says so first.
      const stopped = `stopped by ${this.stopSignal} before it was ready`;
      if (this.stopSignal !== null && !why.startsWith(stopped)) message = `${stopped}; ${message}`;
      this.channel?.tell({ ok: false, code: "START_FAILED", message });
    }
  }

  /**
   * The way out of a start that never reached main: the set-up failed, or
   * another daemon holds the pidfile. The reason goes in the log first, in
   * its format (raw while logging is not up), so the launcher's tail of the
   * log has it; a start that lost the race leaves no line. In the
   * foreground the error goes on to the command line instead.
   */
  abandon(error: unknown): never {
    const err = error instanceof DaemonError
      ? error
      : new DaemonError("START_FAILED", describe(error));
    const lost = err.code === "ALREADY_RUNNING";
    if (this.daemon && !lost) {
      const why = `exiting: ${err.message} (exit code 1)`;
      if (this.logging !== null) this.say("error", why);
      else writeStderr(lifecycleLine(this.options.logFormat, "error", why));
    }
    this.logging?.close();
    this.lock?.release();
    if (!this.daemon) throw error;
    this.phase = "exiting";
    this.channel?.tell({ ok: false, code: err.code, message: err.message });
    Deno.exit(lost ? 0 : 1);
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
    if (this.lock !== null || this.daemon) watch(this);
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
    const reload = this.entry?.reload ?? null;
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
    this.usr1Logged = true;
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
}
