/**
 * Reads a daemon's state from its pidfile and the lock on it, changing
 * nothing.
 *
 * @module
 */

import { requirePidFile } from "../options.ts";
import { isFree, type PidFileContent, readPidFile } from "../pidfile.ts";
import type { DaemonStatus, ResolvedDaemonOptions } from "../types.ts";
import { proveHolder } from "./_holder.ts";
import { assertSupported } from "./_platform.ts";
import { heldContent, probePidFile } from "./_probe.ts";
import { poll } from "../_poll.ts";

// How long a holder that does not show the lock in /proc is given to let it go.
const EXIT_MS = 200;
// How long an empty pidfile nobody holds is given to be taken: a start
// creates it a moment before its daemon (or, with a restart policy, the
// keeper shell) locks it.
const STARTING_MS = 500;

function isEmpty(path: string): boolean {
  try {
    return Deno.lstatSync(path).size === 0;
  } catch {
    return false;
  }
}

/** Whether an empty, unlocked pidfile is locked, filled or removed within STARTING_MS. */
async function taken(path: string): Promise<boolean> {
  if (!isEmpty(path)) return false;
  return await poll(() => {
    const state = probePidFile(path);
    if (state.kind === "held") state.file.close();
    return state.kind === "stale" && state.content === null && isEmpty(path) ? undefined : true;
  }, STARTING_MS) ?? false;
}

/** The keeper's part of the content, for a daemon with a restart policy. */
function keeperFields(content: PidFileContent | null): Partial<DaemonStatus> {
  if (content === null || !content.keeper) return {};
  return { restarts: content.restarts, lastExit: content.lastExit, mainPid: content.main };
}

/**
 * The daemon's status: running when a process holds the pidfile's lock,
 * stale when the pidfile exists but nobody holds it. A daemon that is
 * stopping cleanly is running until its lock is released and then not
 * running: never stale; nor is one that is starting.
 *
 * @throws {DaemonError} `BAD_OPTION` without a pidFile; `BAD_PIDFILE` or
 * `PERMISSION` when the pidfile cannot be read (status "unknown").
 */
export async function daemonStatus(
  options: ResolvedDaemonOptions,
): Promise<DaemonStatus> {
  assertSupported("status");
  const pidFile = requirePidFile(options);
  const base = { name: options.name, pidFile, logFile: options.logFile };
  for (let attempt = 0;; attempt++) {
    const state = probePidFile(pidFile);
    if (state.kind === "missing") {
      return { ...base, running: false, pid: null, startedAt: null, stale: false };
    }
    if (state.kind === "stale") {
      if (state.content === null && attempt < 3 && await taken(pidFile)) continue;
      return {
        ...base,
        running: false,
        pid: state.content?.pid ?? null,
        startedAt: null,
        stale: true,
        ...keeperFields(state.content),
      };
    }
    const { file } = state;
    try {
      const content = state.content ?? await heldContent(file, 500);
      // Let go meanwhile (a daemon on its way out): look again.
      if (content === null && isFree(file) && attempt < 3) continue;
      // A pid that the kernel shows is not the holder is not reported: it
      // was forged, or its holder just let go or rewrote it (look again).
      // One it may not be asked about is (status signals nobody).
      const notHolder = content !== null &&
        proveHolder(content.pid, file, pidFile).kind === "not-holder";
      const moved = () => isFree(file) || readPidFile(file)?.pid !== content?.pid;
      // An exiting holder's descriptors leave /proc a moment before the
      // kernel releases its lock: a real holder lets go within that moment.
      if (notHolder && attempt < 3 && await poll(() => moved() || undefined, EXIT_MS)) continue;
      return {
        ...base,
        running: true,
        pid: notHolder ? null : content?.pid ?? null,
        startedAt: content?.startedAt ?? state.since,
        stale: false,
        stopping: content?.stopping ?? false,
        ...keeperFields(content),
      };
    } finally {
      file.close();
    }
  }
}
