/**
 * The pidfile and its lock, shared by both sides.
 *
 * The daemon holds an exclusive flock on its pidfile for its whole life; the
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

function stillAtPath(file: Deno.FsFile, path: string): boolean {
  try {
    return sameFile(file.statSync(), Deno.lstatSync(path));
  } catch {
    return false;
  }
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
      if (!stillAtPath(file, path)) {
        file.close();
        continue;
      }
      try {
        file.truncateSync(0);
        file.seekSync(0, Deno.SeekMode.Start);
        file.writeSync(new TextEncoder().encode(`${pid}\n`));
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
   * Removes the pidfile if it is still ours, keeping the lock: the daemon
   * calls this on its way out and lets the exit itself release the lock, so
   * whoever waits on the lock wakes only once the daemon is really gone.
   */
  remove(): void {
    try {
      if (stillAtPath(this.#file, this.path)) Deno.removeSync(this.path);
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
  if (file.tryLockSync(false)) {
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
    if (file.tryLockSync(false)) {
      file.unlockSync();
      return null;
    }
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
 * lock (the lock is then ours until `file` is closed).
 */
export function removeIfUnlocked(file: Deno.FsFile, path: string): void {
  try {
    if (file.tryLockSync(true) && stillAtPath(file, path)) Deno.removeSync(path);
  } catch {
    // Removed meanwhile.
  }
}

/** Removes a stale pidfile at `path`; a file already gone is fine. */
export function removeStalePidFile(path: string): void {
  const file = openOwnFile(path, ROLE, { read: true });
  if (file === null) return;
  try {
    removeIfUnlocked(file, path);
  } finally {
    file.close();
  }
}

/** Whether `file` is still the file at `path` (not unlinked or replaced). */
export function isCurrent(file: Deno.FsFile, path: string): boolean {
  return stillAtPath(file, path);
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
  for (let pause = 1;; pause = Math.min(pause * 2, 20)) {
    const lock = PidFileLock.tryAcquire(path, pid);
    if (lock !== null) return lock;
    const state = probePidFile(path);
    if (state.kind === "held") {
      const holder = await holderPid(
        state.file,
        Math.max(0, deadline - performance.now()),
      );
      state.file.close();
      if (holder !== null && holder === seen) return { heldBy: holder };
      seen = holder;
    }
    if (performance.now() >= deadline) return { heldBy: seen };
    await new Promise((r) => setTimeout(r, pause));
  }
}
