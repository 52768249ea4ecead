/**
 * `stop`: signals the daemon only if it holds the pidfile's lock, waits for
 * the lock to be released (SIGKILL after `stopTimeout`), and removes the
 * pidfile. A stale pidfile is removed without signalling anyone.
 *
 * @module
 */

import { DaemonError } from "../errors.ts";
import { faultPoint } from "../_fault.ts";
import { requirePidFile } from "../options.ts";
import {
  currentPid,
  holderPid,
  holdsLock,
  isCurrent,
  probePidFile,
  removeIfUnlocked,
  removeStalePidFile,
} from "../pidfile.ts";
import type { ResolvedDaemonOptions, StopResult } from "../types.ts";
import { assertSupported } from "./_platform.ts";
import { SHELL } from "./_shell.ts";
import { processState } from "../_proc.ts";

const KILL_WAIT_MS = 5000;
const POLL_MS = 25;

function refuse(pidFile: string, pid: number, why: string): DaemonError {
  return new DaemonError(
    "BAD_PIDFILE",
    `pidFile "${pidFile}" names pid ${pid}, ${why}; refusing to signal it. ` +
      `Check the file, and remove it if no daemon of yours is running`,
  );
}

// Deno.kill needs an unscoped --allow-run; a program granted only
// --allow-run=/bin/sh,<deno> (what start needs) signals through the shell's
// kill builtin instead.
function signal(pid: number, sig: "SIGTERM" | "SIGKILL"): void {
  try {
    Deno.kill(pid, sig);
    return;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return; // exited meanwhile
    if (!(err instanceof Deno.errors.NotCapable)) {
      throw new DaemonError(
        "PERMISSION",
        `cannot send ${sig} to pid ${pid}: ${String(err)}; is it another user's?`,
        {
          cause: err,
        },
      );
    }
  }
  if (Deno.permissions.querySync({ name: "run", command: SHELL }).state !== "granted") {
    throw new DaemonError(
      "PERMISSION",
      `stop needs --allow-run (or --allow-run=${SHELL}) to signal pid ${pid}`,
    );
  }
  const out = new Deno.Command(SHELL, {
    args: ["-c", 'kill -s "$1" "$2" 2>&1', "daemonize", sig.slice(3), String(pid)],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  const said = new TextDecoder().decode(out.stdout);
  if (!out.success && !/no such process/i.test(said)) {
    throw new DaemonError(
      "PERMISSION",
      `cannot send ${sig} to pid ${pid}: ${said.trim()}; is it another user's?`,
    );
  }
}

/**
 * The kernel drops the lock while the process is exiting, a moment before
 * it becomes a zombie; where /proc is readable, wait out that moment so
 * "stopped" means gone. Bounded: a process stuck there is not ours to fix.
 */
async function exited(pid: number): Promise<void> {
  const deadline = performance.now() + 200;
  for (;;) {
    const state = processState(pid);
    if (state === null || state === "Z" || state === "X" || performance.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/**
 * Whether, within `ms`, the lock is released, the file is replaced, or the
 * pid written in it changes: a holder that had just taken the lock of a file
 * a crashed daemon left writes its own pid a moment later.
 */
async function changes(
  file: Deno.FsFile,
  path: string,
  pid: number | null,
  ms: number,
): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (file.tryLockSync(false) || !isCurrent(file, path) || currentPid(file) !== pid) return true;
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

type Holder =
  | { kind: "none"; pid: number | null; stale: boolean }
  | { kind: "holder"; pid: number; file: Deno.FsFile };

/**
 * The process that holds the pidfile's lock and the pid it wrote, checked so
 * that nothing but that process is ever signalled. A holder that goes away
 * while it is being looked at (another stop, its own exit) is looked for
 * again rather than reported as a forgery.
 */
async function findHolder(pidFile: string): Promise<Holder> {
  for (let attempt = 0;; attempt++) {
    const state = probePidFile(pidFile);
    if (state.kind === "missing") return { kind: "none", pid: null, stale: false };
    if (state.kind === "stale") {
      removeStalePidFile(pidFile);
      return { kind: "none", pid: state.pid, stale: true };
    }
    const { file } = state;
    const pid = state.pid ?? await holderPid(file, 1000);
    let why: string | null = null;
    if (pid === null) why = "no valid pid";
    else if (pid === 1) why = "which is init";
    else if (pid === Deno.pid) why = "which is this very process";
    else if (pid === Deno.ppid) why = "which is the process that ran this command";
    else if (holdsLock(file, pid) === false) why = "which does not hold its lock";
    if (why === null) return { kind: "holder", pid: pid!, file };

    const changed = await changes(
      file,
      pidFile,
      pid,
      why === "which does not hold its lock" ? 500 : 0,
    );
    file.close();
    if (changed && attempt < 5) continue;
    if (pid === null) {
      throw new DaemonError(
        "BAD_PIDFILE",
        `pidFile "${pidFile}" is locked but holds no valid pid; refusing to signal anything. Find the holder with: fuser ${pidFile}`,
      );
    }
    throw refuse(pidFile, pid, why);
  }
}

/**
 * Stops the daemon whose pidfile `options` names.
 *
 * @throws {DaemonError} `BAD_PIDFILE` when the lock is held but the pidfile
 * does not name the holder; `STOP_TIMEOUT` when even SIGKILL did not free
 * the lock; `PERMISSION` when the process cannot be signalled.
 */
export async function stopDaemon(options: ResolvedDaemonOptions): Promise<StopResult> {
  assertSupported("stop");
  const pidFile = requirePidFile(options);
  const base = {
    name: options.name,
    pidFile,
    logFile: options.logFile,
    running: false,
    startedAt: null,
  };
  const found = await findHolder(pidFile);
  if (found.kind === "none") {
    return {
      ...base,
      pid: found.pid,
      stale: found.stale,
      stoppedPid: null,
      killed: false,
      wasRunning: false,
    };
  }
  const { file, pid } = found;

  // The lock is released when the daemon exits (as a zombie, too), so one
  // blocking lock call is the exit notification; the poll catches the case
  // where a new daemon took the pidfile over in between.
  let freed = false;
  let lockFailed = false;
  const lockFree = file.lock(false).then(
    () => (freed = true),
    () => (lockFailed = true) && false,
  );
  const gone = async (ms: number): Promise<boolean> => {
    const deadline = performance.now() + ms;
    for (;;) {
      if (freed || (lockFailed && file.tryLockSync(false))) return true;
      const now = currentPid(file);
      if (now !== null && now !== pid) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        lockFree,
        new Promise((resolve) => timer = setTimeout(resolve, Math.min(POLL_MS, left))),
      ]);
      clearTimeout(timer);
    }
  };

  signal(pid, "SIGTERM");
  faultPoint("stop-after-signal");
  let killed = false;
  if (!await gone(options.stopTimeout)) {
    if (currentPid(file) === pid) {
      signal(pid, "SIGKILL");
      killed = true;
    }
    if (!await gone(KILL_WAIT_MS)) {
      throw new DaemonError(
        "STOP_TIMEOUT",
        `pid ${pid} still holds pidFile "${pidFile}" ${KILL_WAIT_MS} ms after SIGKILL; is it stuck in the kernel (state D)?`,
      );
    }
  }
  // Normally the daemon removed its pidfile itself; after SIGKILL it could not.
  if (freed) {
    removeIfUnlocked(file, pidFile);
    file.close();
  }
  await exited(pid);
  return {
    ...base,
    pid,
    stale: false,
    stoppedPid: pid,
    killed,
    wasRunning: true,
  };
}
