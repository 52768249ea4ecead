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

/** Whether the pidfile is (still) there, unlocked, with nothing valid in it. */
function unclaimed(path: string): boolean {
  const state = probePidFile(path);
  if (state.kind === "held") state.file.close();
  return state.kind === "stale" && state.content === null;
}

/**
 * Whether an unlocked pidfile that said nothing valid is claimed (locked,
 * filled or removed) while it is empty and younger than `readyTimeout`: a
 * start creates it a moment before its daemon (with a restart policy, the
 * keeper shell) locks it, which can take a while on a loaded machine. One
 * with text in it, or older, is not waited for.
 */
async function claimed(path: string, readyTimeout: number): Promise<boolean> {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch {
    return true; // removed meanwhile: look again
  }
  // Looked at after the size: a holder locks before it writes, so text
  // seen in a file that is still unlocked is not a holder's.
  if (!unclaimed(path)) return true;
  if (info.size !== 0 || info.mtime === null) return false;
  const left = Math.min(readyTimeout, info.mtime.getTime() + readyTimeout - Date.now());
  if (left <= 0) return false;
  const empty = () => {
    try {
      return Deno.lstatSync(path).size === 0;
    } catch {
      return false;
    }
  };
  return await poll(() => unclaimed(path) && empty() ? undefined : true, left, { max: 10 }) ??
    false;
}

/** The keeper's part of the content, for a daemon with a restart policy. */
function keeperFields(content: PidFileContent | null): Partial<DaemonStatus> {
  if (content === null || !content.keeper) return {};
  return {
    restarts: content.restarts,
    lastExit: content.lastExit,
    mainPid: content.main,
    gaveUp: content.gaveUp,
  };
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
      if (state.content === null && attempt < 3 && await claimed(pidFile, options.readyTimeout)) {
        continue;
      }
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
