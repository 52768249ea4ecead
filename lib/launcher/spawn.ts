/**
 * Re-executes the program as a detached daemon and waits for its one
 * readiness line.
 *
 * A pipe to a detached child outlives the launcher, and writes to it then
 * fail with BrokenPipe; so the daemon's raw stdout/stderr go to files and
 * only fd 3 carries the pipe, which the daemon uses once. `/bin/sh` sets
 * those descriptors up and then `exec`s Deno, so the daemon keeps the shell's
 * pid and the launcher can watch it exit.
 *
 * @module
 */

import { DaemonError } from "../errors.ts";
import { faultPoint } from "../_fault.ts";
import { timeout } from "../_time.ts";
import { LAUNCH_ENV, type LaunchSpec, type ReadyMessage } from "../_launch.ts";
import { NULL_DEVICE, type PortableOptions } from "../options.ts";
import { inspectPath, openOwnFile } from "../_safe_open.ts";
import type { ResolvedDaemonOptions } from "../types.ts";
import { missingRunGrants, permissionFlags } from "./_permissions.ts";
import { SHELL } from "./_shell.ts";

// The umask is set here too: Deno.umask() needs the whole of --allow-sys.
const WRAPPER = 'umask $1; o=$2 e=$3 i=$4; shift 4; exec "$@" 3>&1 <"$i" >>"$o" 2>>"$e"';
const TAIL_LINES = 20;
const LAST_WORDS_MS = 100;

/** What to re-execute and with which options. */
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

/** How a launch ended, short of an error. */
export type SpawnOutcome = { kind: "started"; pid: number } | {
  kind: "already-running";
  pid: number | null;
};

function denoCommand(plan: LaunchPlan): string[] {
  const exec = Deno.execPath();
  if (Deno.build.standalone) {
    // A compiled program holds one module: its own.
    if (plan.module !== Deno.mainModule) {
      throw new DaemonError(
        "UNSUPPORTED",
        `a compiled program can start only itself, not ${plan.module}`,
      );
    }
    return [exec, ...plan.args];
  }
  return [
    exec,
    "run",
    "--no-prompt",
    ...permissionFlags(plan.options.denoArgs),
    ...plan.options.denoArgs,
    plan.module,
    ...plan.args,
  ];
}

// Creates raw output files the safe way (never through a symlink) so that
// the shell's `>>` only ever opens a regular file that is already there.
// Created with the daemon's umask, not the launcher's.
function prepareOutput(
  option: "stdout" | "stderr" | "logFile",
  path: string,
  umask: number,
): number | null {
  if (path === NULL_DEVICE) return null;
  const file = openOwnFile(path, { option, code: "BAD_OPTION" }, {
    append: true,
    create: true,
    createMode: 0o644 & ~umask,
  })!;
  try {
    return file.statSync().size;
  } finally {
    file.close();
  }
}

function checkInput(path: string): void {
  if (path === NULL_DEVICE) return;
  if (inspectPath(path, { option: "stdin", code: "BAD_OPTION" }) === null) {
    throw new DaemonError(
      "BAD_OPTION",
      `option "stdin" names "${path}", which does not exist`,
    );
  }
  try {
    Deno.openSync(path, { read: true }).close();
  } catch (err) {
    throw new DaemonError(
      "PERMISSION",
      `option "stdin" names "${path}", which cannot be read: ${String(err)}`,
      {
        cause: err,
      },
    );
  }
}

function checkCwd(cwd: string): void {
  let ok = false;
  try {
    ok = Deno.statSync(cwd).isDirectory;
  } catch { /* reported below */ }
  if (!ok) {
    throw new DaemonError(
      "BAD_OPTION",
      `option "cwd" names "${cwd}", which is not a directory`,
    );
  }
}

function checkRunPermission(): void {
  const missing = missingRunGrants([SHELL, Deno.execPath()]);
  if (missing.length > 0) {
    throw new DaemonError(
      "PERMISSION",
      `start needs permission to run ${
        missing.join(" and ")
      }: add --allow-run=${SHELL},${Deno.execPath()} ` +
        `(the real Deno binary; --allow-run=deno is not enough)`,
    );
  }
}

/** The last lines the daemon wrote to `path` since `offset`, for error messages. */
function outputTail(path: string, offset: number | null): string {
  if (offset === null) {
    return `(the daemon's output went to ${NULL_DEVICE}; set logFile or stderr to keep it)`;
  }
  try {
    const file = Deno.openSync(path, { read: true });
    try {
      const size = file.statSync().size;
      const start = Math.max(offset, size - 8192);
      file.seekSync(start, Deno.SeekMode.Start);
      const buf = new Uint8Array(size - start);
      let n = 0;
      while (n < buf.length) {
        const got = file.readSync(buf.subarray(n));
        if (got === null) break;
        n += got;
      }
      const lines = new TextDecoder().decode(buf.subarray(0, n)).trimEnd()
        .split("\n").slice(-TAIL_LINES);
      return lines.join("\n").trim() === ""
        ? `(nothing written to ${path})`
        : `last lines of ${path}:\n${lines.join("\n")}`;
    } finally {
      file.close();
    }
  } catch {
    return `(cannot read ${path})`;
  }
}

async function readLine(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<string | null> {
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return null;
    text += decoder.decode(value, { stream: true });
    const end = text.indexOf("\n");
    if (end >= 0) return text.slice(0, end);
  }
}

/**
 * Starts the daemon and resolves once it has reported ready.
 *
 * @throws {DaemonError} `START_FAILED` (with the error and the tail of the
 * daemon's output), `READY_TIMEOUT` (the daemon is stopped again), or the
 * code the daemon reported (`BAD_PIDFILE`, `PERMISSION`, ...).
 */
export async function spawnDaemon(plan: LaunchPlan): Promise<SpawnOutcome> {
  const { options } = plan;
  checkRunPermission();
  checkCwd(options.cwd);
  checkInput(options.stdin);
  const role = (option: "stdout" | "stderr") =>
    options[option] === options.logFile ? "logFile" : option;
  const outOffset = prepareOutput(role("stdout"), options.stdout, options.umask);
  const errOffset = options.stderr === options.stdout
    ? outOffset
    : prepareOutput(role("stderr"), options.stderr, options.umask);
  const spec: LaunchSpec = { cwd: plan.launchCwd, options: plan.portable };

  const command = denoCommand(plan);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(SHELL, {
      args: [
        "-c",
        WRAPPER,
        "daemonize",
        options.umask.toString(8).padStart(3, "0"),
        options.stdout,
        options.stderr,
        options.stdin,
        ...command,
      ],
      cwd: options.cwd,
      env: {
        NO_COLOR: "1",
        ...options.env,
        [LAUNCH_ENV]: JSON.stringify(spec),
      },
      stdin: "null",
      stdout: "piped",
      stderr: "null",
      detached: true,
    }).spawn();
  } catch (err) {
    throw new DaemonError(
      "START_FAILED",
      `cannot run ${SHELL} to start ${options.name}: ${String(err)}`,
      {
        cause: err,
      },
    );
  }

  const tail = () => outputTail(options.stderr, errOffset);
  faultPoint("launcher-after-spawn");
  const reader = child.stdout.getReader();
  try {
    const first = await firstWord(child, reader, options.readyTimeout);
    if (first === "timeout") {
      await stopChild(child, options.stopTimeout, "SIGTERM");
      throw new DaemonError(
        "READY_TIMEOUT",
        `${options.name} did not report ready within ${options.readyTimeout} ms` +
          (options.readiness === "notify"
            ? ' (readiness "notify": does main call ctx.ready()?)'
            : "") +
          `; it was stopped. Raise readyTimeout if it needs longer.\n${tail()}`,
      );
    }
    if (typeof first === "number") {
      throw new DaemonError(
        "START_FAILED",
        `${options.name} exited (code ${first}) before it was ready` +
          (first === 0 ? `; does ${plan.module} call daemonize()?` : "") + `\n${tail()}`,
      );
    }
    let message: ReadyMessage;
    try {
      message = JSON.parse(first) as ReadyMessage;
    } catch {
      throw new DaemonError(
        "START_FAILED",
        `${options.name} sent an unreadable readiness line: ${first}`,
      );
    }
    if (message.ok) return { kind: "started", pid: message.pid };
    // The child is on its way out: let it finish, so nothing half-started
    // outlives this call and its last log lines are on disk.
    await stopChild(child, options.stopTimeout, null);
    if (message.code === "ALREADY_RUNNING") {
      return { kind: "already-running", pid: message.pid ?? null };
    }
    if (message.code === "START_FAILED") {
      throw new DaemonError(
        "START_FAILED",
        `${options.name} failed to start: ${message.message}\n${tail()}`,
      );
    }
    throw new DaemonError(message.code as DaemonError["code"], message.message);
  } finally {
    reader.cancel().catch(() => {});
    child.unref();
  }
}

/**
 * The child's readiness line; or its exit code when it exited without one
 * (a grandchild holding the pipe open does not delay this); or "timeout".
 */
async function firstWord(
  child: Deno.ChildProcess,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  timeoutMs: number,
): Promise<string | number | "timeout"> {
  const line = readLine(reader).catch(() => null);
  // The pending status and read keep the process alive for these timers.
  const first = await Promise.race([line, child.status, timeout(timeoutMs)]);
  if (typeof first === "string") return first;
  if (first === null || typeof first === "object") {
    const status = await child.status;
    // Exited: whatever it wrote before exiting is already in the pipe, so a
    // short wait reads it even when a grandchild keeps the pipe open.
    const last = await Promise.race([line, timeout(LAST_WORDS_MS)]);
    return typeof last === "string" && last !== "timeout" ? last : status.code;
  }
  return first;
}

/**
 * Waits up to `graceMs` for a child that never became ready to exit, after
 * sending `signal` (if any); SIGKILL after that.
 */
async function stopChild(
  child: Deno.ChildProcess,
  graceMs: number,
  signal: "SIGTERM" | null,
): Promise<void> {
  try {
    if (signal !== null) child.kill(signal);
    if (await Promise.race([child.status, timeout(graceMs)]) === "timeout") {
      child.kill("SIGKILL");
      await child.status;
    }
  } catch {
    // Already gone.
  }
}
