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
const MAX_POLL_MS = 16;
const FAST_POLL_FOR_MS = 200;

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
      removedStale: found.removed,
      stoppedPid: null,
      killed: false,
      wasRunning: false,
    };
  }
  const { file, pid } = found;
  try {
    signal(pid, "SIGTERM");
    faultPoint("stop-after-signal");
    let killed = false;
    if (!await released(file, pid, options.stopTimeout)) {
      // Still the holder (the lock is held and still names it): escalate.
      if (!file.tryLockSync(false) && currentPid(file) === pid) {
        signal(pid, "SIGKILL");
        killed = true;
      }
      if (!await released(file, pid, KILL_WAIT_MS)) {
        throw new DaemonError(
          "STOP_TIMEOUT",
          `pid ${pid} still holds pidFile "${pidFile}" ${KILL_WAIT_MS} ms after SIGKILL; is it stuck in the kernel (state D)?`,
        );
      }
    }
    // Normally the daemon removed its pidfile itself; after SIGKILL it could not.
    removeIfUnlocked(file, pidFile);
    await exited(pid);
    return {
      ...base,
      pid,
      stale: false,
      removedStale: false,
      stoppedPid: pid,
      killed,
      wasRunning: true,
    };
  } finally {
    file.close();
  }
}

/**
 * Waits up to `ms` for `pid` to let go of `file`'s lock: true once the lock
 * is free, or once the pidfile names another process (a new daemon took it
 * over). Polls, so that nothing is left pending when it gives up: every
 * millisecond at first, since a daemon usually exits within a few, then
 * less often.
 */
async function released(file: Deno.FsFile, pid: number, ms: number): Promise<boolean> {
  const start = performance.now();
  const deadline = start + ms;
  for (;;) {
    if (file.tryLockSync(false)) {
      file.unlockSync();
      return true;
    }
    const now = currentPid(file);
    if (now !== null && now !== pid) return true;
    const t = performance.now();
    if (t >= deadline) return false;
    const pause = t - start < FAST_POLL_FOR_MS ? 1 : MAX_POLL_MS;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, deadline - t)));
  }
}
