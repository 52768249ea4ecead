// What the driver reads from /proc, and the reaping it does. PID 1 on some
// machines (containers, microVMs) does not reap orphans, so an exited daemon
// can stay a zombie for seconds: "gone" is state Z or no /proc entry, never
// kill(pid, 0). The driver makes itself a child subreaper, so orphaned
// daemons become its children and it reaps them at once, as a normal init
// would: tools that judge death by kill(pid, 0) (start-stop-daemon) then see
// it without this machine's delay.

/** A process's state letter, parent, session and start time (clock ticks after boot). */
export interface ProcStat {
  state: string;
  ppid: number;
  session: number;
  start: number;
}

/** Reads /proc/PID/stat; null when the process does not exist. */
export function procStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return {
    state: rest[0],
    ppid: Number(rest[1]),
    session: Number(rest[3]),
    start: Number(rest[19]),
  };
}

/** True when `pid` has exited: no /proc entry, or a zombie (Z) / dead (X) one. */
export function isGone(pid: number): boolean {
  const stat = procStat(pid);
  return stat === null || stat.state === "Z" || stat.state === "X";
}

/** Resident set size in KiB (VmRSS), or null when the process is gone. */
export function rssKiB(pid: number): number | null {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return match === null ? null : Number(match[1]);
  } catch {
    return null;
  }
}

/**
 * Proportional set size in KiB (Pss in /proc/PID/smaps_rollup): pages
 * shared with other processes count divided among them, so the PSS of a
 * few shells running one binary adds up fairly. Null when gone.
 */
export function pssKiB(pid: number): number | null {
  try {
    const rollup = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
    const match = /^Pss:\s+(\d+) kB$/m.exec(rollup);
    return match === null ? null : Number(match[1]);
  } catch {
    return null;
  }
}

/** Live processes in `pid`'s session (its keeper and copiers), `pid` itself excepted. */
export function sessionMates(pid: number): number[] {
  const session = procStat(pid)?.session;
  if (session === undefined || session <= 1) return [];
  const mates: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const other = Number(entry.name);
    if (other === pid) continue;
    const stat = procStat(other);
    if (stat?.session === session && stat.state !== "Z" && stat.state !== "X") mates.push(other);
  }
  return mates;
}

/** The pids whose parent is `ppid`. */
export function childrenOf(ppid: number): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    if (procStat(pid)?.ppid === ppid) pids.push(pid);
  }
  return pids;
}

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;

const SYMBOLS = {
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
} as const;

let libc: Deno.DynamicLibrary<typeof SYMBOLS> | null = null;

/** Makes this process the reaper of its orphaned descendants (Linux prctl). */
export function becomeSubreaper(): boolean {
  try {
    libc = Deno.dlopen("libc.so.6", SYMBOLS);
  } catch {
    return false;
  }
  return libc.symbols.prctl(PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n) === 0;
}

const O_CLOEXEC = 0o2000000;

/**
 * Closes the descriptors above 2 that this process inherited without
 * close-on-exec (a CI runner's, an IDE's; Deno's own all have it), so that
 * the commands the bench runs start as from a terminal: the library's
 * keeper takes a detour through bash to close inherited descriptors above 9.
 * Returns the descriptors closed. Needs {@linkcode becomeSubreaper} first.
 */
export function closeInherited(): number[] {
  const closed: number[] = [];
  if (libc === null) return closed;
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    const fd = Number(entry.name);
    if (!(fd > 2)) continue;
    try {
      const info = Deno.readTextFileSync(`/proc/self/fdinfo/${fd}`);
      const flags = parseInt(/^flags:\s+([0-7]+)$/m.exec(info)?.[1] ?? "", 8);
      if (Number.isNaN(flags) || (flags & O_CLOEXEC) !== 0) continue;
    } catch {
      continue; // the directory's own descriptor, gone by now
    }
    if (libc.symbols.close(fd) === 0) closed.push(fd);
  }
  return closed;
}

/**
 * Reaps `pid` if it is a zombie child of this process. Never call it for a
 * Deno.Command child: Deno reaps those itself and would lose the status.
 */
export function reap(pid: number): void {
  if (libc === null) return;
  const stat = procStat(pid);
  if (stat?.state === "Z" && stat.ppid === Deno.pid) {
    libc.symbols.waitpid(pid, new Uint8Array(4), WNOHANG);
  }
}

/** Reaps every zombie child of this process except the pids in `keep`. */
export function reapOrphans(keep: ReadonlySet<number>): void {
  for (const pid of childrenOf(Deno.pid)) if (!keep.has(pid)) reap(pid);
}

/** Closes the libc handle (at exit). */
export function closeLibc(): void {
  libc?.close();
  libc = null;
}
