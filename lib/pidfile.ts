/**
 * The pidfile and its lock, shared by both sides.
 *
 * The file holds the daemon's pid, followed by a newline once the daemon is
 * ready (readers accept both). The daemon holds an exclusive flock on its
 * pidfile for its whole life; the
 * kernel drops it when the process dies, SIGKILL included, so "is the lock
 * held?" is the liveness test and a stale pidfile never matters. The file's
 * content (the pid) is trusted only while the lock is held. Probes (status,
 * stop, the launcher's pre-check) take a shared lock, so they never block
 * each other and never look like a daemon for longer than a few microseconds.
 *
 * @module
 */

import { DaemonError } from "./errors.ts";
import { type FileRole, openOwnFile, sameFile } from "./_safe_open.ts";
import { holdsFlock } from "./_proc.ts";

const ROLE: FileRole = { option: "pidFile", code: "BAD_PIDFILE" };
/** Linux's PID_MAX_LIMIT; larger numbers are never pids. */
const PID_MAX = 4_194_304;
const FOREIGN_SHARED_MS = 100;

/** The pid in a pidfile's text, or null for anything but one decimal pid and a newline. */
export function parsePid(text: string): number | null {
  const match = /^(\d{1,7})\n?$/.exec(text);
  if (match === null) return null;
  const pid = Number(match[1]);
  return pid >= 1 && pid <= PID_MAX ? pid : null;
}

function readText(file: Deno.FsFile): string {
  file.seekSync(0, Deno.SeekMode.Start);
  const buf = new Uint8Array(64);
  let n = 0;
  while (n < buf.length) {
    const got = file.readSync(buf.subarray(n));
    if (got === null) break;
    n += got;
  }
  return new TextDecoder().decode(buf.subarray(0, n));
}

/** Whether `file` is still the file at `path` (not unlinked or replaced). */
export function isCurrent(file: Deno.FsFile, path: string): boolean {
  try {
    return sameFile(file.statSync(), Deno.lstatSync(path));
  } catch {
    return false;
  }
}

/**
 * Whether no process holds an exclusive lock on `file`: asked with a shared
 * lock, which is let go at once, so asking never looks like a daemon.
 */
export function isFree(file: Deno.FsFile): boolean {
  if (!file.tryLockSync(false)) return false;
  file.unlockSync();
  return true;
}

/** The daemon's hold on its pidfile. */
export class PidFileLock {
  #file: Deno.FsFile;
  /** The pidfile's path. */
  readonly path: string;

  private constructor(file: Deno.FsFile, path: string) {
    this.#file = file;
    this.path = path;
  }

  /**
   * Takes the exclusive lock and writes `pid`, or returns null when another
   * process holds it. The file is opened without truncation and rewritten
   * only once the lock is ours, so a losing start never damages the running
   * daemon's pidfile.
   */
  static tryAcquire(path: string, pid: number): PidFileLock | null {
    for (let attempt = 0; attempt < 5; attempt++) {
      const file = openOwnFile(path, ROLE, {
        read: true,
        write: true,
        create: true,
      })!;
      if (!file.tryLockSync(true)) {
        file.close();
        return null;
      }
      // A stop or exiting daemon may have unlinked this inode after we opened
      // it; a lock on an unlinked file guards nothing, so open the path again.
      if (!isCurrent(file, path)) {
        file.close();
        continue;
      }
      try {
        file.truncateSync(0);
        file.seekSync(0, Deno.SeekMode.Start);
        file.writeSync(new TextEncoder().encode(String(pid)));
      } catch (err) {
        file.close();
        throw new DaemonError(
          "BAD_PIDFILE",
          `cannot write pid to pidFile "${path}": ${String(err)}`,
          {
            cause: err,
          },
        );
      }
      return new PidFileLock(file, path);
    }
    throw new DaemonError(
      "BAD_PIDFILE",
      `pidFile "${path}" keeps disappearing; is another program removing it?`,
    );
  }

  /**
   * Marks the daemon ready: the newline after the pid. A start that finds
   * the daemon already running waits for it, so it too returns only once
   * the daemon is up.
   */
  markReady(): void {
    try {
      this.#file.seekSync(0, Deno.SeekMode.End);
      this.#file.writeSync(new TextEncoder().encode("\n"));
    } catch {
      // Only a waiting start would miss it; it then times out with a clear error.
    }
  }

  /**
   * Removes the pidfile if it is still ours, keeping the lock: the daemon
   * calls this on its way out and lets the exit itself release the lock, so
   * whoever waits on the lock wakes only once the daemon is really gone.
   */
  remove(): void {
    try {
      if (isCurrent(this.#file, this.path)) Deno.removeSync(this.path);
    } catch {
      // Leaving a pidfile behind is harmless: nobody holds its lock.
    }
  }

  /** Removes the pidfile (if it is still ours) and drops the lock now. */
  release(): void {
    this.remove();
    this.#file.close();
  }
}

/** What a look at a pidfile found. */
export type PidFileState =
  | { kind: "missing" }
  | { kind: "stale"; pid: number | null; since: Date | null }
  | { kind: "held"; pid: number | null; since: Date | null; file: Deno.FsFile };

/**
 * Looks at the pidfile without changing it. When the lock is held the file
 * is left open in the result (close it); the pid is null while the holder
 * has not written it yet or when the content is not a pid.
 */
export function probePidFile(path: string): PidFileState {
  const file = openOwnFile(path, ROLE, { read: true });
  if (file === null) return { kind: "missing" };
  let text: string;
  let since: Date | null;
  try {
    text = readText(file);
    since = file.statSync().mtime;
  } catch (err) {
    file.close();
    throw new DaemonError(
      "PERMISSION",
      `cannot read pidFile "${path}": ${String(err)}`,
      { cause: err },
    );
  }
  if (isFree(file)) {
    file.close();
    return { kind: "stale", pid: parsePid(text), since };
  }
  return { kind: "held", pid: parsePid(text), since, file };
}

/**
 * The pid of the process holding `file`'s lock: waits (up to `waitMs`) while
 * the holder has not written it yet. Returns null when the lock was released
 * meanwhile or the content never became a pid.
 */
export async function holderPid(
  file: Deno.FsFile,
  waitMs: number,
): Promise<number | null> {
  const deadline = performance.now() + waitMs;
  let pause = 1;
  for (;;) {
    const pid = parsePid(readText(file));
    if (pid !== null) return pid;
    if (isFree(file)) return null;
    if (performance.now() >= deadline) return null;
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, 50);
  }
}

/** The pid now written in `file`, or null. */
export function currentPid(file: Deno.FsFile): number | null {
  return parsePid(readText(file));
}

/**
 * Whether `pid` is a process holding `file`'s exclusive lock, by /proc:
 * true or false on Linux under --allow-all, null where that cannot be read.
 */
export function holdsLock(file: Deno.FsFile, pid: number): boolean | null {
  return holdsFlock(pid, file.statSync());
}

/**
 * Removes the pidfile at `path` if `file` is still it and nobody holds its
 * lock (the lock is then ours until `file` is closed). Returns whether it did.
 */
export function removeIfUnlocked(file: Deno.FsFile, path: string): boolean {
  try {
    if (file.tryLockSync(true) && isCurrent(file, path)) {
      Deno.removeSync(path);
      return true;
    }
  } catch {
    // Removed meanwhile.
  }
  return false;
}

/**
 * Removes a stale pidfile at `path`; returns whether it did (not when it is
 * already gone, nor when another program holds a lock on it).
 */
export function removeStalePidFile(path: string): boolean {
  const file = openOwnFile(path, ROLE, { read: true });
  if (file === null) return false;
  try {
    return removeIfUnlocked(file, path);
  } finally {
    file.close();
  }
}

/**
 * Takes the pidfile for `pid`, or finds who has it. A failed exclusive lock
 * can also mean a probe (status, stop) is looking for a moment, so the holder
 * only counts once it is seen twice with the same pid written; a probe is
 * gone long before that.
 */
export async function acquirePidFile(
  path: string,
  pid: number,
  waitMs = 3000,
): Promise<PidFileLock | { heldBy: number | null }> {
  const deadline = performance.now() + waitMs;
  let seen: number | null = null;
  // Probes hold a shared lock for microseconds; one held for this long
  // belongs to another program, and will not go away by waiting.
  let sharedSince: number | null = null;
  for (let pause = 1;; pause = Math.min(pause * 2, 20)) {
    const lock = PidFileLock.tryAcquire(path, pid);
    if (lock !== null) return lock;
    const state = probePidFile(path);
    if (state.kind === "held") {
      sharedSince = null;
      const holder = await holderPid(state.file, Math.max(0, deadline - performance.now()));
      state.file.close();
      if (holder !== null && holder === seen) return { heldBy: holder };
      seen = holder;
    } else {
      sharedSince ??= performance.now();
      if (performance.now() - sharedSince > FOREIGN_SHARED_MS) return { heldBy: null };
    }
    if (performance.now() >= deadline) return { heldBy: seen };
    await new Promise((r) => setTimeout(r, pause));
  }
}

/** How a wait for a starting daemon ended. */
export type ReadyWait =
  | { kind: "ready"; pid: number }
  | { kind: "released" }
  | { kind: "timeout"; pid: number | null };

/**
 * Waits up to `ms` for the holder of `file`'s lock to mark itself ready (its
 * pid followed by a newline), or to let the lock go.
 */
export async function awaitReady(file: Deno.FsFile, ms: number): Promise<ReadyWait> {
  const deadline = performance.now() + ms;
  for (let pause = 1;; pause = Math.min(pause * 2, 20)) {
    const text = readText(file);
    const pid = parsePid(text);
    if (pid !== null && text.endsWith("\n")) return { kind: "ready", pid };
    if (isFree(file)) return { kind: "released" };
    if (performance.now() >= deadline) return { kind: "timeout", pid };
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
