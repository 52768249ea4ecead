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
import { currentPid, removeIfUnlocked } from "../pidfile.ts";
import type { ResolvedDaemonOptions, StopResult } from "../types.ts";
import { assertSupported } from "./_platform.ts";
import { findHolder, signal } from "./_holder.ts";
import { processState } from "../_proc.ts";

const KILL_WAIT_MS = 5000;
const POLL_MS = 25;

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
