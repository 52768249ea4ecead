/**
 * `stop`: signals the daemon only if it holds the pidfile's lock, waits for
 * the lock to be released (SIGKILL after `stopTimeout`), and removes the
 * pidfile. A stale pidfile is removed without signalling anyone.
 *
 * @module
 */

import { DaemonError } from "../errors.ts";
import { requirePidFile } from "../options.ts";
import { currentPid, holderPid, holdsLock, isCurrent, probePidFile } from "../pidfile.ts";
import type { ResolvedDaemonOptions, StopResult } from "../types.ts";
import { assertSupported } from "./_platform.ts";

const KILL_WAIT_MS = 5000;
const POLL_MS = 25;

function refuse(pidFile: string, pid: number, why: string): DaemonError {
  return new DaemonError(
    "BAD_PIDFILE",
    `pidFile "${pidFile}" names pid ${pid}, ${why}; refusing to signal it. ` +
      `Check the file, and remove it if no daemon of yours is running`,
  );
}

function signal(pid: number, sig: "SIGTERM" | "SIGKILL"): void {
  try {
    Deno.kill(pid, sig);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return; // exited meanwhile
    if (err instanceof Deno.errors.NotCapable) {
      throw new DaemonError(
        "PERMISSION",
        `stop needs --allow-run to signal pid ${pid}`,
        { cause: err },
      );
    }
    throw new DaemonError(
      "PERMISSION",
      `cannot send ${sig} to pid ${pid}: ${String(err)}; is it another user's?`,
      {
        cause: err,
      },
    );
  }
}

/** Removes the pidfile at `path` if `file` is still it and nobody holds its lock. */
function removeIfFree(file: Deno.FsFile, path: string): void {
  if (file.tryLockSync(true) && isCurrent(file, path)) {
    try {
      Deno.removeSync(path);
    } catch { /* already gone */ }
  }
}

/**
 * Stops the daemon whose pidfile `options` names.
 *
 * @throws {DaemonError} `BAD_PIDFILE` when the lock is held but the pidfile
 * does not name the holder; `STOP_TIMEOUT` when even SIGKILL did not free
 * the lock; `PERMISSION` when the process cannot be signalled.
 */
export async function stopDaemon(
  options: ResolvedDaemonOptions,
): Promise<StopResult> {
  assertSupported("stop");
  const pidFile = requirePidFile(options);
  const base = {
    name: options.name,
    pidFile,
    logFile: options.logFile,
    running: false,
    startedAt: null,
  };
  const state = probePidFile(pidFile);
  if (state.kind === "missing") {
    return {
      ...base,
      pid: null,
      stale: false,
      stoppedPid: null,
      killed: false,
      wasRunning: false,
    };
  }
  if (state.kind === "stale") {
    const file = Deno.openSync(pidFile, { read: true });
    try {
      removeIfFree(file, pidFile);
    } finally {
      file.close();
    }
    return {
      ...base,
      pid: state.pid,
      stale: true,
      stoppedPid: null,
      killed: false,
      wasRunning: false,
    };
  }

  const { file } = state;
  const pid = state.pid ?? await holderPid(file, 2000);
  if (pid === null) {
    const free = file.tryLockSync(false);
    file.close();
    if (free) {
      return {
        ...base,
        pid: null,
        stale: false,
        stoppedPid: null,
        killed: false,
        wasRunning: false,
      };
    }
    throw new DaemonError(
      "BAD_PIDFILE",
      `pidFile "${pidFile}" is locked but holds no valid pid; refusing to signal anything. Find the holder with: fuser ${pidFile}`,
    );
  }
  if (pid === 1) throw refuse(pidFile, pid, "which is init");
  if (pid === Deno.pid) {
    throw refuse(pidFile, pid, "which is this very process");
  }
  if (pid === Deno.ppid) {
    throw refuse(pidFile, pid, "which is the process that ran this command");
  }
  if (holdsLock(file, pid) === false) {
    throw refuse(pidFile, pid, "which does not hold its lock");
  }

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
    removeIfFree(file, pidFile);
    file.close();
  }
  return {
    ...base,
    pid,
    stale: false,
    stoppedPid: pid,
    killed,
    wasRunning: true,
  };
}
