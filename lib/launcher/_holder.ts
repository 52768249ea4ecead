// The process holding a pidfile's lock: found, checked, and signalled, so
// that nothing but that process ever is. Shared by stop and reload.

import { DaemonError } from "../errors.ts";
import { isCurrent, isFree, type PidFileContent, readPidFile } from "../pidfile.ts";
import { holdsFlock } from "../_proc.ts";
import { sleep } from "../_time.ts";
import { heldContent, probePidFile, removeStalePidFile } from "./_probe.ts";

export { signal } from "./_signal.ts";

function refuse(pidFile: string, pid: number, why: string): DaemonError {
  return new DaemonError(
    "BAD_PIDFILE",
    `pidFile "${pidFile}" names pid ${pid}, ${why}; refusing to signal it. ` +
      `Check the file, and remove it if no daemon of yours is running`,
  );
}

function currentPid(file: Deno.FsFile): number | null {
  return readPidFile(file)?.pid ?? null;
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
    if (isFree(file) || !isCurrent(file, path) || currentPid(file) !== pid) return true;
    if (performance.now() >= deadline) return false;
    await sleep(5);
  }
}

export type Holder =
  | { kind: "none"; pid: number | null; stale: boolean; removed: boolean }
  | { kind: "holder"; pid: number; file: Deno.FsFile; content: PidFileContent };

// Without /proc, how long apart the pid must be read twice, the lock held
// throughout: a new daemon rewrites a crashed one's pid within microseconds
// of taking the lock, so a pid that survives this is the holder's own.
const CONFIRM_MS = 5;

/**
 * The process that holds the pidfile's lock and the pid it wrote, checked so
 * that nothing but that process is ever signalled: on Linux under
 * --allow-all by the kernel's record of who holds the lock, elsewhere by
 * reading the pid twice while the lock stays held. A holder that goes away
 * while it is being looked at (another stop, its own exit) is looked for
 * again rather than reported as a forgery.
 */
export async function findHolder(pidFile: string): Promise<Holder> {
  for (let attempt = 0;; attempt++) {
    const state = probePidFile(pidFile);
    if (state.kind === "missing") return { kind: "none", pid: null, stale: false, removed: false };
    if (state.kind === "stale") {
      return {
        kind: "none",
        pid: state.content?.pid ?? null,
        stale: true,
        removed: removeStalePidFile(pidFile),
      };
    }
    const { file } = state;
    const content = state.content ?? await heldContent(file, 1000);
    const pid = content?.pid ?? null;
    const proof = pid === null ? false : holdsFlock(pid, file.statSync());
    let why: string | null = null;
    if (pid === null) why = "no valid pid";
    else if (pid === Deno.pid) why = "which is this very process";
    else if (proof === false) why = "which does not hold its lock";
    else if (proof === null && pid === 1) why = "which is init";
    else if (proof === null && pid === Deno.ppid) {
      why = "which is the process that ran this command";
    } else if (proof === null) {
      await sleep(CONFIRM_MS);
      if (!isFree(file) && isCurrent(file, pidFile) && currentPid(file) === pid) {
        return { kind: "holder", pid, file, content: content! };
      }
      file.close();
      continue;
    }
    if (why === null) return { kind: "holder", pid: pid!, file, content: content! };

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
