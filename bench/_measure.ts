// Timing: the driver spawns a command, takes t0 with performance.now() just
// before, and then polls in a synchronous loop that sleeps POLL_MS between
// looks (Atomics.wait: sub-millisecond, unlike setTimeout, which fires every
// ~2 ms here). While the loop runs Deno does not reap the command, so its
// exit shows as state Z in /proc. Each event's time is the midpoint between
// the last look that missed it and the first that saw it.

import { track } from "./_cleanup.ts";
import { isGone, procStat, reap } from "./_proc.ts";

/** The sleep between two looks, in ms. */
export const POLL_MS = 0.2;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for `ms`. */
export function nap(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** A command line with its environment. */
export interface Cmd {
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

/** A running command and the time it was invoked. */
export interface Launched {
  child: Deno.ChildProcess;
  pid: number;
  t0: number;
}

/** Spawns `cmd` with no terminal (all three streams on the null device). */
export function launch(cmd: Cmd): Launched {
  const command = new Deno.Command(cmd.cmd, {
    args: cmd.args,
    env: cmd.env,
    cwd: cmd.cwd,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  });
  const t0 = performance.now();
  const child = command.spawn();
  track(child.pid);
  return { child, pid: child.pid, t0 };
}

/** When an event was seen: ms after t0, and in which round of looks. */
export interface Seen {
  ms: number;
  round: number;
}

/**
 * Looks at every check until all have been true once or `timeoutMs` passed;
 * returns when each became true (null: never). Checks run in the order given.
 */
export function pollUntil<K extends string>(
  t0: number,
  checks: Record<K, () => boolean>,
  timeoutMs: number,
): Record<K, Seen | null> {
  const keys = Object.keys(checks) as K[];
  const seen = Object.fromEntries(keys.map((k) => [k, null])) as Record<K, Seen | null>;
  let missed = t0;
  for (let round = 0, left = keys.length;; round++) {
    for (const key of keys) {
      if (seen[key] === null && checks[key]()) {
        seen[key] = { ms: (missed + performance.now()) / 2 - t0, round };
        left--;
      }
    }
    if (left === 0) return seen;
    missed = performance.now();
    if (missed - t0 > timeoutMs) return seen;
    nap(POLL_MS);
  }
}

/**
 * What a ready file says: the daemon's pid and, from the Deno workloads, a
 * second line `<performance.timeOrigin> <performance.now()>` written with
 * it: when the daemon's runtime came up and when it wrote the file, as
 * epoch ms (comparable with {@linkcode epoch} across processes).
 */
export interface Ready {
  pid: number | null;
  upAt: number | null;
  readyAt: number | null;
}

/** An empty {@linkcode Ready} for a check to fill. */
export function ready(): Ready {
  return { pid: null, upAt: null, readyAt: null };
}

/** `performance.now()` of this process as epoch ms. */
export function epoch(now: number): number {
  return performance.timeOrigin + now;
}

/** A check: the file at `path` holds a pid and a newline (not `not`); what it says goes into `out`. */
export function readyFile(path: string, out: Ready, not: number | null = null): () => boolean {
  return () => {
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch {
      return false;
    }
    const match = /^(\d+)\n(?:([\d.]+) ([\d.]+)\n)?/.exec(text);
    if (match === null || Number(match[1]) === not) return false;
    out.pid = Number(match[1]);
    out.upAt = match[2] === undefined ? null : Number(match[2]);
    out.readyAt = match[3] === undefined ? null : Number(match[2]) + Number(match[3]);
    return true;
  };
}

/** A check: `pid` has exited (no /proc entry, or state Z or X). */
export function exited(pid: number): () => boolean {
  return () => isGone(pid);
}

/**
 * A check: `pid` is reaped, when it is the driver's orphan. The kernel shows
 * a dying multi-threaded process as Z before its last thread is gone, and
 * waitpid only succeeds after that, so this is tried on every look.
 */
export function reaped(pid: number): () => boolean {
  return () => {
    const stat = procStat(pid);
    if (stat === null || stat.ppid !== Deno.pid) return true;
    reap(pid);
    return procStat(pid) === null;
  };
}

/** A check: nothing at `path`. */
export function removed(path: string): () => boolean {
  return () => {
    try {
      Deno.lstatSync(path);
      return false;
    } catch {
      return true;
    }
  };
}

/** Waits, letting the event loop run, until `performance.now()` reaches `at`. */
export async function sleepUntil(at: number): Promise<void> {
  const left = at - performance.now();
  if (left > 2) await new Promise((r) => setTimeout(r, left - 2));
  while (performance.now() < at) nap(0.1);
}

/** Runs `cmd` to its end, untimed; returns its exit code. */
export async function runQuietly(cmd: Cmd, timeoutMs = 30_000): Promise<number> {
  const { child, pid } = launch(cmd);
  const timer = setTimeout(() => {
    if (!isGone(pid)) child.kill("SIGKILL");
  }, timeoutMs);
  try {
    return (await child.status).code;
  } finally {
    clearTimeout(timer);
  }
}
