// The daemon's side of the pidfile: take the lock, keep it, keep the
// content true (ready, stopping), answer a reload, and keep the path naming
// the locked file when someone deletes or replaces it.
//
// Two ways to hold it. "own": this process holds the flock (the default,
// and `run`). "keeper": the keeper shell that started this process holds it
// across restarts (a restart policy); this process only writes the content,
// and takes the lock itself if the keeper is gone.

import { DaemonError } from "../errors.ts";
import { poll } from "../_poll.ts";
import { openOwnFile } from "../_safe_open.ts";
import {
  formatPidFile,
  isCurrent,
  isFree,
  PIDFILE_ROLE,
  type PidFileContent,
  pidFileContent,
  readPidFile,
  reloadAnswerPath,
} from "../pidfile.ts";

// Probes (status, stop) hold a shared lock for microseconds; one held this
// long belongs to another program, and waiting will not make it go away.
const FOREIGN_SHARED_MS = 100;
/** How long a reload's answer waits for the command that asked. */
const ANSWER_MS = 5000;

function open(path: string): Deno.FsFile {
  return openOwnFile(path, PIDFILE_ROLE, { read: true, write: true, create: true })!;
}

/** What a look at the pidfile's path found. */
export type PathCheck =
  | { kind: "ok" }
  | { kind: "restored"; was: "missing" | "replaced" | "foreign" }
  | { kind: "restored"; was: "keeper"; keeper: number }
  | { kind: "busy" }
  | { kind: "taken"; by: number | null }
  | { kind: "error"; message: string };

/** The daemon's hold on its pidfile. */
export class PidFileLock {
  #file: Deno.FsFile;
  #content: PidFileContent;
  #own: boolean;
  /** The keeper whose lock this process took over (it restored the path), while it lives. */
  #keeper: number | null = null;
  /** The pidfile's path. */
  readonly path: string;

  private constructor(file: Deno.FsFile, path: string, content: PidFileContent, own: boolean) {
    this.#file = file;
    this.path = path;
    this.#content = content;
    this.#own = own;
  }

  /**
   * Takes the lock for `pid` and writes the pid, or finds who has it. The
   * file is opened without truncation and rewritten only once the lock is
   * ours, so a losing start never damages the running daemon's pidfile. A
   * failed exclusive lock can also mean a probe (status, stop) is looking
   * for a moment, so a holder only counts once it is seen twice with the
   * same content; a probe is gone long before that.
   */
  static async acquire(
    path: string,
    pid: number,
    waitMs = 3000,
  ): Promise<PidFileLock | { heldBy: number | null }> {
    let seen: number | null = null;
    let sharedSince: number | null = null;
    const deadline = performance.now() + waitMs;
    const got = await poll<PidFileLock | { heldBy: number | null }>(() => {
      const file = open(path);
      if (file.tryLockSync(true)) {
        // A stop or an exiting daemon may have unlinked this inode after we
        // opened it; a lock on an unlinked file guards nothing.
        if (!isCurrent(file, path)) {
          file.close();
          return undefined;
        }
        const lock = new PidFileLock(file, path, pidFileContent(pid, true), true);
        lock.#write();
        return lock;
      }
      if (isFree(file)) {
        file.close();
        sharedSince ??= performance.now();
        return performance.now() - sharedSince > FOREIGN_SHARED_MS ? { heldBy: null } : undefined;
      }
      sharedSince = null;
      const holder = readPidFile(file)?.pid ?? null;
      file.close();
      if (holder !== null && holder === seen) return { heldBy: holder };
      seen = holder;
      return performance.now() >= deadline ? { heldBy: seen } : undefined;
    }, waitMs);
    return got ?? { heldBy: seen };
  }

  /**
   * The pidfile of a daemon whose keeper (this process's parent) holds the
   * lock: `lockId` is the `dev:ino` the keeper locked at the start; a file
   * it took or made again since names it (lib/launcher/_keeper.ts `mend`).
   */
  static underKeeper(path: string, lockId: string, pid: number): PidFileLock {
    const file = openOwnFile(path, PIDFILE_ROLE, { read: true, write: true });
    const info = file?.statSync();
    const locked = file !== null && !isFree(file) &&
      (`${info!.dev}:${info!.ino}` === lockId || readPidFile(file)?.pid === Deno.ppid);
    if (!locked) {
      file?.close();
      throw new DaemonError(
        "BAD_PIDFILE",
        `pidFile "${path}" is not the file the keeper locked; it was removed or replaced during the start`,
      );
    }
    const content = readPidFile(file) ?? { ...pidFileContent(Deno.ppid, true), keeper: true };
    const lock = new PidFileLock(file, path, { ...content, main: pid }, false);
    lock.#write();
    return lock;
  }

  /** What the pidfile says now, as this process keeps it. */
  get content(): Readonly<PidFileContent> {
    return this.#content;
  }

  /** When the daemon started, as status reports it. */
  startedAt(): Date | null {
    try {
      return this.#content.startedAt ?? this.#file.statSync().mtime;
    } catch {
      return null;
    }
  }

  /**
   * Answers a SIGHUP for the `reload` command that sent it: `error` is null
   * when the reopen worked. The answer is removed after a few seconds.
   */
  answerReload(error: string | null): void {
    const path = reloadAnswerPath(this.path);
    try {
      const file = openOwnFile(path, PIDFILE_ROLE, { write: true, create: true })!;
      try {
        file.truncateSync(0);
        file.writeSync(new TextEncoder().encode(error === null ? "ok\n" : `error: ${error}\n`));
      } finally {
        file.close();
      }
    } catch {
      return; // the reload command then says it heard no answer
    }
    Deno.unrefTimer(setTimeout(() => {
      try {
        Deno.removeSync(path);
      } catch { /* the reload command took it */ }
    }, ANSWER_MS));
  }

  /** Changes the content and writes it. */
  update(change: Partial<PidFileContent>): void {
    this.#content = { ...this.#content, ...change };
    this.#write();
  }

  // In place, then cut to length: the first line (the holder's pid) never
  // changes, so a reader never sees a pid that is not the holder's.
  #write(): void {
    if (!this.#own) {
      // The keeper writes its part (restarts, the last exit) between runs.
      const now = readPidFile(this.#file);
      if (now !== null) {
        this.#content = {
          ...this.#content,
          pid: now.pid,
          startedAt: now.startedAt,
          keeper: now.keeper,
          restarts: now.restarts,
          lastExit: now.lastExit,
        };
      }
    }
    const bytes = new TextEncoder().encode(formatPidFile(this.#content));
    try {
      this.#file.seekSync(0, Deno.SeekMode.Start);
      for (let at = 0; at < bytes.length;) at += this.#file.writeSync(bytes.subarray(at));
      this.#file.truncateSync(bytes.length);
    } catch (err) {
      throw new DaemonError(
        "BAD_PIDFILE",
        `cannot write pidFile "${this.path}": ${String(err)}`,
        { cause: err },
      );
    }
  }

  /**
   * Looks at the path and mends it: restores a removed or replaced pidfile
   * (taking the lock on the new file), or reports that another daemon holds
   * the file now at the path (`busy` when another program holds a lock on
   * it that is not a daemon's: look again later). Under a keeper that has
   * gone away, takes the lock itself.
   */
  check(): PathCheck {
    const keeperGone = !this.#own && Deno.ppid !== this.#content.pid;
    if (!keeperGone && isCurrent(this.#file, this.path)) return { kind: "ok" };
    let was: "missing" | "replaced" | "foreign" = "replaced";
    try {
      const there = Deno.lstatSync(this.path);
      // A file of another user in its place is not a daemon of ours, whatever
      // it says or locks (a group that can write the directory put it
      // there): it goes, and ours comes back.
      if (!keeperGone && there.uid !== this.#file.statSync().uid && there.uid !== 0) {
        was = "foreign";
        Deno.removeSync(this.path);
      }
    } catch {
      if (was !== "foreign") was = "missing";
    }
    let file: Deno.FsFile;
    try {
      file = keeperGone && isCurrent(this.#file, this.path) ? this.#file : open(this.path);
    } catch (err) {
      return { kind: "error", message: err instanceof Error ? err.message : String(err) };
    }
    const locked = file.tryLockSync(true);
    if (!locked || !isCurrent(file, this.path)) {
      const by = readPidFile(file)?.pid ?? null;
      // Not another daemon: the path changed again meanwhile, a reader holds
      // a shared lock (`flock -s`, a status), or someone holds for a moment
      // a file that still names this daemon (a stop taking a copy for a
      // stale pidfile). A daemon of ours writes its own pid once it locks.
      const busy = locked || isFree(file) || by === this.#content.pid;
      if (file !== this.#file) file.close();
      return busy ? { kind: "busy" } : { kind: "taken", by };
    }
    if (file !== this.#file) this.#file.close();
    this.#file = file;
    const keeper = this.#content.pid;
    if (!this.#own && !keeperGone) this.#keeper = keeper;
    this.#own = true;
    this.#content = { ...this.#content, pid: Deno.pid, keeper: false, main: null };
    this.#write();
    return keeperGone ? { kind: "restored", was: "keeper", keeper } : { kind: "restored", was };
  }

  /**
   * Removes the pidfile if it is still ours, keeping the lock: the daemon
   * calls this on its way out and lets the exit itself release the lock, so
   * whoever waits on the lock wakes only once the daemon is really gone.
   * Under a keeper the keeper decides (it may start main again), also
   * when this process holds the file it restored, unless it was stopped.
   */
  remove(): void {
    if (!this.#own) return;
    if (this.#keeper === Deno.ppid && !this.#content.stopping) return;
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
