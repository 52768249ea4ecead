// Every process the bench starts is recorded here with its start time, and
// killed by pid at the end (even after a failure). The start time guards
// against pid reuse: a pid is signalled only while it is still the same
// process. Orphans come back to the driver (it is their subreaper), so its
// remaining children are the bench's too.

import { childrenOf, isGone, procStat, reapOrphans } from "./_proc.ts";

const tracked = new Map<number, number>();

/** Records `pid` (and its start time) for the final cleanup. */
export function track(pid: number): void {
  const stat = procStat(pid);
  if (stat !== null && !tracked.has(pid)) tracked.set(pid, stat.start);
}

function live(pid: number, start: number | null): boolean {
  const stat = procStat(pid);
  return stat !== null && stat.state !== "Z" && stat.state !== "X" &&
    (start === null || stat.start === start);
}

/** Every descendant of `root`. */
function descendants(root: number): number[] {
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of childrenOf(queue.shift()!)) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/**
 * Kills every tracked process still alive, and every live descendant of the
 * driver but `keep` (its own Deno.Command children still being awaited), by
 * pid: SIGTERM, then SIGKILL after `graceMs`. Returns the pids it signalled.
 */
export async function killAll(keep: ReadonlySet<number> = new Set(), graceMs = 2000) {
  const targets = new Map<number, number | null>();
  for (const [pid, start] of tracked) if (live(pid, start)) targets.set(pid, start);
  for (const pid of descendants(Deno.pid)) {
    if (!keep.has(pid) && live(pid, null)) targets.set(pid, procStat(pid)!.start);
  }
  const send = (signal: Deno.Signal) => {
    for (const [pid, start] of targets) {
      if (!live(pid, start)) continue;
      try {
        Deno.kill(pid, signal);
      } catch { /* gone meanwhile */ }
    }
  };
  send("SIGTERM");
  const deadline = performance.now() + graceMs;
  while ([...targets.keys()].some((pid) => !isGone(pid)) && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  send("SIGKILL");
  await new Promise((r) => setTimeout(r, 10));
  reapOrphans(keep);
  tracked.clear();
  return [...targets.keys()];
}
