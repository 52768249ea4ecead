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

/**
 * The pids holding an exclusive flock on the file `info` describes, from
 * /proc/locks; null when that file cannot be read.
 */
export function flockHolders(info: Deno.FileInfo): number[] | null {
  if (Deno.build.os !== "linux" || info.ino === null) return null;
  let table: string;
  try {
    table = Deno.readTextFileSync("/proc/locks");
  } catch {
    return null;
  }
  const dev = info.dev;
  const major = ((dev >> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
  const minor = (dev & 0xff) | ((dev >> 12) & ~0xff & 0xfffff);
  const id = `${major.toString(16).padStart(2, "0")}:${
    minor.toString(16).padStart(2, "0")
  }:${info.ino}`;
  const pids: number[] = [];
  for (const line of table.split("\n")) {
    const f = line.trim().split(/\s+/);
    // "1: FLOCK  ADVISORY  WRITE 1756 fe:00:2146424 0 EOF"; blocked waiters start with "->"
    if (f[1] === "FLOCK" && f[3] === "WRITE" && f[5] === id) {
      pids.push(Number(f[4]));
    }
  }
  return pids;
}
