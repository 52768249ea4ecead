// Reads of Linux /proc in this process. Deno 2.9 allows /proc only under
// --allow-all, so every function here says when it could not look.

/** The one-letter state of a process (`R`, `S`, `Z`, ...), or null when unknown or gone. */
export function processState(pid: number): string | null {
  return statFields(pid)?.[0] || null;
}

/**
 * What the kernel shows about a process and a file's lock:
 * - `holder`: the process has the file open and that open file holds an
 *   exclusive flock(2) on it;
 * - `not-holder`: it holds none (no lock, a shared one, or only a lock on
 *   another file), or the process is gone;
 * - `other-user`: its descriptors may not be listed by this user: it belongs
 *   to another user (`uid`, from /proc/PID/status, or null if unreadable);
 * - `denied`: Deno does not let this process look (see `why`);
 * - `no-proc`: there is no /proc to look in (not Linux, or not mounted).
 */
export type LockProof =
  | { kind: "holder" }
  | { kind: "not-holder" }
  | { kind: "other-user"; uid: number | null }
  | { kind: "denied"; why: string }
  | { kind: "no-proc" };

/**
 * Whether one /proc/PID/fdinfo/N text shows an exclusive flock. Linux lists
 * there only the locks owned by that open file description; a line with
 * "->" (a waiter, as /proc/locks prints them) would not count.
 */
function hasWriteFlock(fdinfo: string): boolean {
  return fdinfo.split("\n").some((line) =>
    line.startsWith("lock:") && !line.includes("->") && line.includes(" FLOCK ") &&
    line.includes(" WRITE ")
  );
}

/**
 * Why the descriptors of `pid` could not be listed: a zombie's belong to
 * root (it has none, so holds nothing); anyone else's, to its owner.
 */
function unlistable(pid: number): LockProof {
  let status = "";
  try {
    status = Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { kind: "not-holder" };
    // Hidden: the owner stays unknown.
  }
  if (/^State:\s+[ZX]/m.test(status)) return { kind: "not-holder" };
  const uid = /^Uid:\s+(\d+)/m.exec(status);
  return { kind: "other-user", uid: uid === null ? null : Number(uid[1]) };
}

function procMounted(): boolean {
  try {
    Deno.statSync("/proc/self/fdinfo");
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether process `pid` holds an exclusive flock on the file that `file`
 * describes (a `stat` or `FsFile.stat` of it), read in this process: each
 * of its descriptors is `stat`ed through /proc/PID/fd/N, which reports the
 * same device and inode as a `stat` of the file itself on every file system
 * (btrfs subvolumes and overlayfs included, where the device in the lock
 * lines differs), and the lock is then looked for in that descriptor's
 * /proc/PID/fdinfo/N. Needs --allow-all (Deno 2.9 allows /proc only then);
 * without it the answer is `denied`.
 */
export function procLockProof(pid: number, file: Deno.FileInfo): LockProof {
  if (Deno.build.os !== "linux" || file.ino === null || file.dev === null) {
    return { kind: "no-proc" };
  }
  let fds: number[];
  try {
    fds = [...Deno.readDirSync(`/proc/${pid}/fd`)].map((entry) => Number(entry.name));
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable) {
      return { kind: "denied", why: "Deno allows reading /proc only under --allow-all" };
    }
    if (err instanceof Deno.errors.PermissionDenied) return unlistable(pid);
    return procMounted() ? { kind: "not-holder" } : { kind: "no-proc" };
  }
  // The pidfile is among the last files a daemon opened: look from the top.
  fds.sort((a, b) => b - a);
  for (const fd of fds) {
    try {
      const info = Deno.statSync(`/proc/${pid}/fd/${fd}`);
      if (info.dev !== file.dev || info.ino !== file.ino) continue;
      if (hasWriteFlock(Deno.readTextFileSync(`/proc/${pid}/fdinfo/${fd}`))) {
        return { kind: "holder" };
      }
    } catch {
      // Closed meanwhile, or not stat-able (a socket of another namespace).
    }
  }
  return { kind: "not-holder" };
}

function statFields(pid: number): string[] | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** The process group and session of `pid`, or null when /proc cannot tell. */
export function groupOf(pid: number): { pgid: number; sid: number } | null {
  const fields = statFields(pid);
  if (fields === null) return null;
  return { pgid: Number(fields[2]), sid: Number(fields[3]) };
}

/**
 * The live (not zombie) processes in process group `pgid`, or null when
 * /proc cannot be read.
 */
export function groupMembers(pgid: number): number[] | null {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync("/proc")];
  } catch {
    return null;
  }
  const members: number[] = [];
  for (const entry of entries) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid)) continue;
    const fields = statFields(pid);
    if (fields !== null && Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X") {
      members.push(pid);
    }
  }
  return members;
}
