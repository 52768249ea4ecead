/**
 * `stop`: signals the daemon only if it is proven to hold the pidfile's
 * lock (SIGTERM, then SIGKILL after `stopTimeout`), waits for the lock to be
 * released and for the rest of its keeper's process group (what the program
 * spawned) to be gone, like systemd's default KillMode, and removes the
 * pidfile. A stale pidfile is removed without signalling anyone.
 *
 * @module
 */

import { DaemonError } from "../errors.ts";
import { faultPoint } from "../_fault.ts";
import { requirePidFile } from "../options.ts";
import { poll } from "../_poll.ts";
import { isFree, readPidFile } from "../pidfile.ts";
import { groupMembers, groupOf, processState } from "../_proc.ts";
import { isKeeper } from "./_keeper.ts";
import type { ResolvedDaemonOptions, StopResult } from "../types.ts";
import { assertSupported } from "./_platform.ts";
import { findHolder } from "./_holder.ts";
import { appendLifecycleLine } from "../_lifecycle_line.ts";
import { KILL_WAIT_MS, removeIfUnlocked } from "./_probe.ts";
import { signal } from "./_signal.ts";

/**
 * The process group of the keeper that runs the daemon, or null: the only
 * group stop ever signals, and only to end what is left at the deadline.
 * The group of a terminal, a container entrypoint or a script that ran
 * `run` is never taken for it.
 */
function keeperGroup(pid: number): number | null {
  const group = groupOf(pid);
  if (group === null || group.pgid !== group.sid || group.pgid <= 1) return null;
  return isKeeper(group.pgid) ? group.pgid : null;
}
/**
 * Waits up to `ms` for `pid` to let go of `file`'s lock: true once the lock
 * is free, or once the pidfile names another process (a new daemon took it
 * over).
 */
async function released(file: Deno.FsFile, pid: number, ms: number): Promise<boolean> {
  const got = await poll(
    () => {
      if (isFree(file)) return true;
      const now = readPidFile(file)?.pid;
      return now !== undefined && now !== pid ? true : undefined;
    },
    ms,
    { max: 2 },
  );
  return got === true;
}

/**
 * The kernel drops the lock while the process is exiting, a moment before
 * it becomes a zombie; where /proc is readable, wait out that moment so
 * "stopped" means gone. Bounded: a process stuck there is not ours to fix.
 */
async function exited(pid: number): Promise<void> {
  await poll(
    () => {
      const state = processState(pid);
      return state === null || state === "Z" || state === "X" ? true : undefined;
    },
    200,
    { max: 2 },
  );
}

/**
 * Waits until nothing of the keeper's process group is left (the program's
 * children, the keeper itself), up to `ms`; then ends what is left with
 * SIGKILL. Returns the pids that needed it.
 */
async function endGroup(pgid: number, ms: number): Promise<number[]> {
  const left = await poll(
    () => {
      const members = groupMembers(pgid);
      return members === null || members.length === 0 ? [] : undefined;
    },
    ms,
    { max: 10 },
  );
  if (left !== undefined) return [];
  const members = groupMembers(pgid) ?? [];
  if (members.length > 0) signal(-pgid, "SIGKILL");
  return members;
}

/**
 * Stops the daemon whose pidfile `options` names.
 *
 * @throws {DaemonError} `BAD_PIDFILE` when the lock is held but the pidfile
 * does not name the holder; `STOP_TIMEOUT` when even SIGKILL did not free
 * the lock; `PERMISSION` when the process cannot be signalled or proven.
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
      pidFileError: null,
    };
  }
  const { file, pid } = found;
  const deadline = performance.now() + options.stopTimeout;
  try {
    const group = keeperGroup(pid);
    // Only the holder: a keeper passes the stop on to its group itself (and
    // starts nothing after), and when a daemon of its own ends, its keeper
    // ends what the program left behind (SIGTERM, SIGKILL at stopTimeout).
    signal(pid, "SIGTERM");
    // As systemd does: a daemon held with SIGSTOP (^Z to its group, a
    // debugger) would otherwise only see the SIGKILL at stopTimeout.
    signal(group === null ? pid : -group, "SIGCONT");
    faultPoint("stop-after-signal");
    let killed = false;
    if (!await released(file, pid, options.stopTimeout)) {
      // Still the holder (the lock is held and still names it): escalate.
      if (!isFree(file) && readPidFile(file)?.pid === pid) {
        signal(group === null ? pid : -group, "SIGKILL");
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
    let pidFileError: string | null = null;
    try {
      removeIfUnlocked(file, pidFile);
    } catch (err) {
      pidFileError = (err as Error).message;
    }
    await exited(pid);
    const leftovers = group === null
      ? []
      : await endGroup(group, Math.max(0, deadline - performance.now()));
    if (killed) {
      appendLifecycleLine(
        options,
        "error",
        `exiting: killed by stop with SIGKILL after stopTimeout (${options.stopTimeout} ms) (pid ${pid})`,
      );
    } else if (leftovers.length > 0) {
      appendLifecycleLine(
        options,
        "warning",
        `stop: SIGKILL to what was left of the daemon's process group after stopTimeout (pids ${
          leftovers.join(", ")
        })`,
      );
    }
    return {
      ...base,
      pid,
      stale: false,
      removedStale: false,
      stoppedPid: pid,
      killed,
      wasRunning: true,
      pidFileError,
    };
  } finally {
    file.close();
  }
}
