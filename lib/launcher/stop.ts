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
import { currentPid, isFree, removeIfUnlocked } from "../pidfile.ts";
import type { ResolvedDaemonOptions, StopResult } from "../types.ts";
import { assertSupported } from "./_platform.ts";
import { findHolder, signal } from "./_holder.ts";
import { timeout } from "../_time.ts";
import { processState } from "../_proc.ts";

const KILL_WAIT_MS = 5000;
const CHECK_MS = 25;

/**
 * The kernel drops the lock while the process is exiting, a moment before
 * it becomes a zombie; where /proc is readable, wait out that moment so
 * "stopped" means gone. Bounded: a process stuck there is not ours to fix.
 */
function exited(pid: number): void {
  const deadline = performance.now() + 200;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const state = processState(pid);
    if (state === null || state === "Z" || state === "X" || performance.now() > deadline) return;
    // A tenth of a millisecond at a time, synchronously: the moment is
    // short, and a timer would cost more than the wait (see lib/_time.ts).
    Atomics.wait(pause, 0, 0, 0.1);
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
    const exit = waitForUnlock(file);
    let killed = false;
    if (!await released(file, pid, options.stopTimeout, exit)) {
      // Still the holder (the lock is held and still names it): escalate.
      if (!isFree(file) && currentPid(file) === pid) {
        signal(pid, "SIGKILL");
        killed = true;
      }
      if (!await released(file, pid, KILL_WAIT_MS, exit)) {
        throw new DaemonError(
          "STOP_TIMEOUT",
          `pid ${pid} still holds pidFile "${pidFile}" ${KILL_WAIT_MS} ms after SIGKILL; is it stuck in the kernel (state D)?`,
        );
      }
    }
    // Normally the daemon removed its pidfile itself; after SIGKILL it could not.
    removeIfUnlocked(file, pidFile);
    exited(pid);
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
 * The daemon's exit, as the moment its lock becomes free: one blocking lock
 * call, which also keeps this process alive while `released` waits. It
 * stays pending only if the daemon never exits (or a new one took over the
 * pidfile); it then ends with that process.
 */
function waitForUnlock(file: Deno.FsFile): Promise<boolean> {
  return file.lock(false).then(() => true, () => false);
}

/**
 * Waits up to `ms` for `pid` to let go of `file`'s lock: true once the lock
 * is free, or once the pidfile names another process (a new daemon took it
 * over), which is looked at every few milliseconds.
 */
async function released(
  file: Deno.FsFile,
  pid: number,
  ms: number,
  exit: Promise<boolean>,
): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    const now = currentPid(file);
    if (now !== null && now !== pid) return true;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    const got = await Promise.race([exit, timeout(Math.min(CHECK_MS, left))]);
    if (got === true) return true;
    // A failed lock call: fall back to looking, at a ref'd timer's pace.
    if (got === false) {
      if (isFree(file)) return true;
      await new Promise((resolve) => setTimeout(resolve, CHECK_MS));
    }
  }
}
