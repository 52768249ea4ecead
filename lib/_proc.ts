// Best-effort reads of Linux /proc. Deno 2.9 allows /proc only under
// --allow-all, so every caller must cope with `null` ("cannot tell").

/** The one-letter state of a process (`R`, `S`, `Z`, ...), or null when unknown or gone. */
export function processState(pid: number): string | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) ||
      null;
  } catch {
    return null;
  }
}

function lockId(info: Deno.FileInfo): string {
  const dev = info.dev;
  const major = ((dev >> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
  const minor = (dev & 0xff) | ((dev >> 12) & ~0xff & 0xfffff);
  return `${major.toString(16).padStart(2, "0")}:${
    minor.toString(16).padStart(2, "0")
  }:${info.ino}`;
}

/**
 * Whether process `pid` holds an exclusive flock on the file `info`
 * describes, from its /proc/PID/fdinfo entries ("lock: 1: FLOCK ADVISORY
 * WRITE <pid> <dev>:<ino> 0 EOF"); null when /proc cannot be read.
 * Per process, unlike /proc/locks, whose first read can stall for tens of
 * milliseconds waiting for an RCU grace period.
 */
export function holdsFlock(pid: number, info: Deno.FileInfo): boolean | null {
  if (Deno.build.os !== "linux" || info.ino === null) return null;
  const id = ` ${lockId(info)} `;
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(`/proc/${pid}/fdinfo`)];
  } catch (err) {
    // Deno would not let us look (no --allow-all): cannot tell. The kernel
    // would not (another user's process, or init here): not provably ours.
    return err instanceof Deno.errors.NotCapable ? null : false;
  }
  // The pidfile is among the last files a daemon opened: look from the top.
  entries.sort((a, b) => Number(b.name) - Number(a.name));
  for (const entry of entries) {
    let text: string;
    try {
      text = Deno.readTextFileSync(`/proc/${pid}/fdinfo/${entry.name}`);
    } catch {
      continue; // closed meanwhile
    }
    for (const line of text.split("\n")) {
      if (
        line.startsWith("lock:") && line.includes(" FLOCK ") && line.includes(" WRITE ") &&
        line.includes(id)
      ) {
        return true;
      }
    }
  }
  return false;
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
