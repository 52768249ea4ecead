// The process holding a pidfile's lock: found, checked, and signalled, so
// that nothing but that process ever is. Shared by stop and reload.

import { DaemonError } from "../errors.ts";
import {
  currentPid,
  holderPid,
  holdsLock,
  isCurrent,
  isFree,
  probePidFile,
  removeStalePidFile,
} from "../pidfile.ts";
import { SHELL } from "./_shell.ts";

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
export function signal(pid: number, sig: "SIGTERM" | "SIGKILL" | "SIGHUP"): void {
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
      `signalling pid ${pid} needs --allow-run (or --allow-run=${SHELL})`,
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
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export type Holder =
  | { kind: "none"; pid: number | null; stale: boolean; removed: boolean }
  | { kind: "holder"; pid: number; file: Deno.FsFile };

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
      return { kind: "none", pid: state.pid, stale: true, removed: removeStalePidFile(pidFile) };
    }
    const { file } = state;
    const pid = state.pid ?? await holderPid(file, 1000);
    const proof = pid === null ? false : holdsLock(file, pid);
    let why: string | null = null;
    if (pid === null) why = "no valid pid";
    else if (pid === Deno.pid) why = "which is this very process";
    else if (proof === false) why = "which does not hold its lock";
    else if (proof === null && pid === 1) why = "which is init";
    else if (proof === null && pid === Deno.ppid) {
      why = "which is the process that ran this command";
    } else if (proof === null) {
      await new Promise((resolve) => setTimeout(resolve, CONFIRM_MS));
      if (!isFree(file) && isCurrent(file, pidFile) && currentPid(file) === pid) {
        return { kind: "holder", pid, file };
      }
      file.close();
      continue;
    }
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
