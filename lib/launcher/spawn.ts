/**
 * Starts the program as a detached daemon and waits for its one readiness
 * line.
 *
 * The launcher runs the keeper (lib/launcher/_keeper.ts) in a new session
 * with a pipe as its only channel back; the keeper runs the program, copies
 * its raw output into the files the program names, and passes on its ready
 * line. Nothing the program's children inherit leads back here.
 *
 * @module
 */

import { DaemonError, type DaemonErrorCode } from "../errors.ts";
import { faultPoint } from "../_fault.ts";
import { LAUNCH_ENV, type LaunchSpec } from "../_launch.ts";
import type { PortableOptions } from "../_portable.ts";
import { within } from "../_time.ts";
import type { ResolvedDaemonOptions } from "../types.ts";
import { openOwnFile } from "../_safe_open.ts";
import { PIDFILE_ROLE } from "../pidfile.ts";
import { checkRunPermission, denoCommand, keeperCommand } from "./_command.ts";
import { checkCwd, checkInput, RawFile } from "./_output.ts";
import { readReadiness, type ReadyWord } from "./_readiness.ts";
import { SHELL } from "./_shell.ts";
import { signal } from "./_signal.ts";

/** What to start and with which options. */
export interface LaunchPlan {
  options: ResolvedDaemonOptions;
  /** The main module: an absolute file path or URL. */
  module: string;
  /** The program's own arguments: the daemon's `Deno.args`, and its `ctx.args`. */
  args: readonly string[];
  /** Options to lay over the module's own, paths absolute. */
  portable: PortableOptions;
  /** The directory the launcher runs in. */
  launchCwd: string;
}

/** A daemon that reported ready. */
export interface Started {
  pid: number;
  mainPid: number;
  startedAt: Date | null;
}

function nonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return "daemonize-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// With a restart policy the keeper locks the pidfile: it must exist, be a
// regular file of ours, and the keeper must find the very same inode.
function keeperLock(options: ResolvedDaemonOptions): string | null {
  if (options.restart === "never") return null;
  const file = openOwnFile(options.pidFile!, PIDFILE_ROLE, {
    read: true,
    write: true,
    create: true,
    createMode: 0o644 & ~options.umask,
  })!;
  try {
    const info = file.statSync();
    return `${info.dev}:${info.ino}`;
  } finally {
    file.close();
  }
}

/**
 * Starts the daemon and resolves once it has reported ready, or with null
 * when another daemon took the pidfile's lock first.
 *
 * @throws {DaemonError} `START_FAILED` (with the error and the tail of the
 * daemon's output), `READY_TIMEOUT` (the daemon is stopped again), or the
 * code the daemon reported (`BAD_PIDFILE`, `PERMISSION`, ...).
 */
export async function spawnDaemon(plan: LaunchPlan): Promise<Started | null> {
  const { options } = plan;
  checkRunPermission();
  checkCwd(options.cwd);
  checkInput(options.stdin);
  const role = (option: "stdout" | "stderr") =>
    options[option] === options.logFile ? "logFile" : option;
  const stderr = RawFile.open(role("stderr"), options.stderr, options.umask);
  const stdout = options.stdout === options.stderr
    ? null
    : RawFile.open(role("stdout"), options.stdout, options.umask);
  try {
    const keeper = {
      nonce: nonce(),
      keeperLock: keeperLock(options),
      stderrId: stderr?.id ?? null,
      stdoutId: stdout?.id ?? null,
    };
    const spec: LaunchSpec = {
      cwd: plan.launchCwd,
      options: plan.portable,
      nonce: keeper.nonce,
      keeperLock: keeper.keeperLock,
    };
    const { args, env } = keeperCommand(
      options,
      keeper,
      denoCommand({ module: plan.module, args: plan.args, denoArgs: options.denoArgs }),
    );
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(SHELL, {
        args,
        cwd: options.cwd,
        env: { NO_COLOR: "1", ...options.env, ...env, [LAUNCH_ENV]: JSON.stringify(spec) },
        stdin: "null",
        stdout: "piped",
        stderr: "null",
        detached: true,
      }).spawn();
    } catch (err) {
      throw new DaemonError(
        "START_FAILED",
        `cannot run ${SHELL} to start ${options.name}: ${String(err)}`,
        { cause: err },
      );
    }
    faultPoint("launcher-after-spawn");
    const reader = child.stdout.getReader();
    let word: ReadyWord;
    try {
      word = await readReadiness(reader, { stderr, stdout }, options.readyTimeout);
    } finally {
      reader.cancel().catch(() => {});
    }
    if (word.kind === "ready") {
      child.unref();
      return { pid: word.pid, mainPid: word.mainPid, startedAt: word.startedAt };
    }
    // Whatever is left of a start that failed goes, so nothing half-started
    // outlives this call; a daemon that said why is let finish its way out.
    await endGroup(child, word.kind === "timeout" ? options.stopTimeout : 1000);
    const tail = () => (stderr ?? stdout)?.tail() ?? outputGone(options);
    switch (word.kind) {
      case "timeout":
        throw new DaemonError(
          "READY_TIMEOUT",
          `${options.name} did not report ready within ${options.readyTimeout} ms` +
            (options.readiness === "notify"
              ? ' (readiness "notify": does main call ctx.ready()?)'
              : "") +
            `; it was stopped. Raise readyTimeout if it needs longer.\n${tail()}`,
        );
      case "exited":
        throw new DaemonError(
          "START_FAILED",
          `${options.name} ${exitText(word.code)} before it was ready` +
            (word.code === 0 ? `; does ${plan.module} call daemonize()?` : "") + `\n${tail()}`,
        );
      case "silent":
        throw new DaemonError(
          "START_FAILED",
          `${options.name} ended before it was ready, without a word\n${tail()}`,
        );
    }
    if (word.code === "ALREADY_RUNNING") return null;
    if (word.code === "START_FAILED") {
      throw new DaemonError(
        "START_FAILED",
        `${options.name} failed to start: ${word.message}\n${tail()}`,
      );
    }
    throw new DaemonError(word.code as DaemonErrorCode, word.message);
  } finally {
    stderr?.close();
    stdout?.close();
  }
}

function exitText(code: number): string {
  if (code <= 128) return `exited (code ${code})`;
  const name = Object.entries(SIGNALS).find(([, n]) => n === code - 128)?.[0];
  return `was killed by ${name ?? `signal ${code - 128}`}`;
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGTERM: 15,
};

function outputGone(options: ResolvedDaemonOptions): string {
  return `(the daemon's output went to ${options.stderr}; set logFile or stderr to keep it)`;
}

/**
 * Ends the keeper's whole process group (the keeper is its leader): SIGTERM,
 * then SIGKILL if it is not gone within `graceMs`.
 */
async function endGroup(child: Deno.ChildProcess, graceMs: number): Promise<void> {
  // Through signal(): Deno.kill alone needs an unscoped --allow-run.
  signal(-child.pid, "SIGTERM");
  if (await within(child.status, graceMs) === "timeout") {
    signal(-child.pid, "SIGKILL");
    await child.status;
  }
}
