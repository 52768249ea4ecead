// The launcher's side of the pidfile: look at it without changing it, wait
// for its holder to be ready or gone, and remove it when it is stale.
// Looks take a shared lock for a moment, so they never block each other
// and never look like a daemon to a start.

import { DaemonError } from "../errors.ts";
import { poll } from "../_poll.ts";
import { isNotPermitted, notPermitted, openOwnFile } from "../_safe_open.ts";
import { isCurrent, isFree, PIDFILE_ROLE, type PidFileContent, readPidFile } from "../pidfile.ts";

/** What a look at a pidfile found. */
/** How long a process gets to let go of the lock after SIGKILL. */
export const KILL_WAIT_MS = 5000;

export type PidFileState =
  | { kind: "missing" }
  | { kind: "stale"; content: PidFileContent | null; since: Date | null }
  | { kind: "held"; content: PidFileContent | null; since: Date | null; file: Deno.FsFile };

function look(path: string): PidFileState | undefined {
  const file = openOwnFile(path, PIDFILE_ROLE, { read: true });
  if (file === null) return { kind: "missing" };
  let content: PidFileContent | null;
  let since: Date | null;
  try {
    content = readPidFile(file);
    since = file.statSync().mtime;
  } catch (err) {
    file.close();
    throw new DaemonError("PERMISSION", `cannot read pidFile "${path}": ${String(err)}`, {
      cause: err,
    });
  }
  if (!isFree(file)) return { kind: "held", content, since, file };
  // Free, but an exiting daemon may have removed it meanwhile, or a new one
  // replaced it: only a file still at the path is stale.
  const current = isCurrent(file, path);
  file.close();
  return current ? { kind: "stale", content, since } : undefined;
}

/**
 * Looks at the pidfile without changing it. When the lock is held the file
 * is left open in the result (close it).
 */
export function probePidFile(path: string): PidFileState {
  for (let attempt = 0; attempt < 10; attempt++) {
    const state = look(path);
    if (state !== undefined) return state;
  }
  return { kind: "missing" };
}

/**
 * The content of a held pidfile, waiting up to `ms` while its holder has
 * not written it yet (or is rewriting it). Null when the lock was released
 * meanwhile or the content never became valid.
 */
export async function heldContent(
  file: Deno.FsFile,
  ms: number,
): Promise<PidFileContent | null> {
  const got = await poll(() => {
    const content = readPidFile(file);
    if (content !== null) return content;
    return isFree(file) ? null : undefined;
  }, ms);
  return got ?? null;
}

/** How a wait for a starting daemon ended. */
export type ReadyWait =
  | { kind: "ready"; content: PidFileContent }
  | { kind: "stopping"; content: PidFileContent }
  | { kind: "released" }
  | { kind: "timeout"; content: PidFileContent | null };

/**
 * Waits up to `ms` for the holder of `file`'s lock to be ready (or to be
 * stopping, or to let the lock go).
 */
export async function awaitReady(file: Deno.FsFile, ms: number): Promise<ReadyWait> {
  let last: PidFileContent | null = null;
  const got = await poll<ReadyWait>(() => {
    const content = readPidFile(file);
    if (content !== null) {
      last = content;
      if (content.stopping) return { kind: "stopping", content };
      if (!content.starting) return { kind: "ready", content };
    }
    return isFree(file) ? { kind: "released" } : undefined;
  }, ms);
  return got ?? { kind: "timeout", content: last };
}

/** Waits up to `ms` for `file`'s lock to be let go; returns whether it was. */
export async function awaitRelease(file: Deno.FsFile, ms: number): Promise<boolean> {
  return await poll(() => isFree(file) ? true : undefined, ms, { max: 10 }) ?? false;
}

/**
 * Removes the pidfile at `path` if `file` is still it and nobody holds its
 * lock (the lock is then ours until `file` is closed). Returns whether it did.
 *
 * @throws {DaemonError} `BAD_PIDFILE` when the file is ours
 * to remove and cannot be (an immutable directory, a read-only file system).
 */
export function removeIfUnlocked(file: Deno.FsFile, path: string): boolean {
  try {
    if (!file.tryLockSync(true) || !isCurrent(file, path)) return false;
  } catch {
    return false;
  }
  try {
    Deno.removeSync(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false; // removed meanwhile
    const why = isNotPermitted(err)
      ? notPermitted(path)
      : err instanceof Error
      ? err.message
      : String(err);
    throw new DaemonError(
      "BAD_PIDFILE",
      `pidFile "${path}", which no daemon holds, could not be removed: ${why}; remove it by hand`,
      { cause: err },
    );
  }
}

/**
 * Removes a stale pidfile at `path`; returns whether it did (not when it is
 * already gone, nor when another program holds a lock on it).
 */
export function removeStalePidFile(path: string): boolean {
  const file = openOwnFile(path, PIDFILE_ROLE, { read: true });
  if (file === null) return false;
  try {
    return removeIfUnlocked(file, path);
  } finally {
    file.close();
  }
}
