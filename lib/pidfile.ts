/**
 * The pidfile, as both sides see it: its content and the lock on it.
 *
 * The process that holds an exclusive flock on the pidfile is the daemon;
 * the kernel drops the lock when that process dies (SIGKILL included), so
 * "is the lock held?" is the liveness test and a stale pidfile never
 * matters. The content is trusted only while the lock is held:
 *
 * ```text
 * 4242            the holder's pid, always on its own line
 * starting=1      until the daemon has reported ready
 * stopping=1      once it has been asked to stop
 * keeper=1        the holder is the keeper shell of a daemon with `restart`
 * main=4250       ... and this is the process that runs main
 * restarts=3      ... restarts since start
 * last_exit=2026-11-30T16:23:51.292Z exit code 1
 * reload=2 ok     the answer to the second SIGHUP (or the error)
 * ```
 *
 * The daemon side (taking and keeping the lock) is lib/daemon/_lock.ts; the
 * launcher side (probing, proving the holder) is lib/launcher/_probe.ts.
 *
 * @module
 */

import { sameFile } from "./_safe_open.ts";
import type { FileRole } from "./_safe_open.ts";

/** The pidfile's role, for messages about it. */
export const PIDFILE_ROLE: FileRole = { option: "pidFile", code: "BAD_PIDFILE" };

/** Linux's PID_MAX_LIMIT; larger numbers are never pids. */
const PID_MAX = 4_194_304;
/** More than a pidfile ever holds. */
const MAX_BYTES = 4096;

/** What a pidfile says. */
export interface PidFileContent {
  /** The pid of the process that holds (or held) the lock. */
  pid: number;
  /** The daemon has not reported ready yet. */
  starting: boolean;
  /** The daemon has been asked to stop and is on its way out. */
  stopping: boolean;
  /** The holder is the keeper of a daemon with a restart policy. */
  keeper: boolean;
  /** With a keeper: the process that runs main, when one does. */
  main: number | null;
  /** With a keeper: restarts since start. */
  restarts: number;
  /** With a keeper: when and why the last run of main ended. */
  lastExit: { at: Date; reason: string } | null;
  /** With a keeper: it gave up after maxRestarts consecutive failures. */
  gaveUp: boolean;
  /** The answer to the last SIGHUP: its sequence number, and the error if it failed. */
  reload: { seq: number; error: string | null } | null;
}

function pidOf(text: string): number | null {
  if (!/^\d{1,7}$/.test(text)) return null;
  const pid = Number(text);
  return pid >= 1 && pid <= PID_MAX ? pid : null;
}

/**
 * Reads a pidfile's text; null for anything but a pid on its own line
 * followed by `key=value` lines (a forged, torn or foreign file).
 */
export function parsePidFile(text: string): PidFileContent | null {
  if (!text.endsWith("\n")) return null;
  const lines = text.slice(0, -1).split("\n");
  const pid = pidOf(lines[0]);
  if (pid === null) return null;
  const content: PidFileContent = {
    pid,
    starting: false,
    stopping: false,
    keeper: false,
    main: null,
    restarts: 0,
    lastExit: null,
    gaveUp: false,
    reload: null,
  };
  for (const line of lines.slice(1)) {
    const match = /^([a-z_]+)=(.*)$/.exec(line);
    if (match === null) return null;
    const [, key, value] = match;
    if (key === "starting") content.starting = value === "1";
    else if (key === "stopping") content.stopping = value === "1";
    else if (key === "keeper") content.keeper = value === "1";
    else if (key === "gave_up") content.gaveUp = value === "1";
    else if (key === "main") content.main = pidOf(value);
    else if (key === "restarts") content.restarts = Number(value) || 0;
    else if (key === "last_exit") {
      const space = value.indexOf(" ");
      const at = new Date(value.slice(0, space));
      if (space > 0 && !Number.isNaN(at.getTime())) {
        content.lastExit = { at, reason: value.slice(space + 1) };
      }
    } else if (key === "reload") {
      const [seq, ...rest] = value.split(" ");
      const said = rest.join(" ");
      content.reload = { seq: Number(seq) || 0, error: said === "ok" ? null : said };
    }
  }
  return content;
}

/** The text of `content`, as {@linkcode parsePidFile} reads it. */
export function formatPidFile(content: PidFileContent): string {
  let text = `${content.pid}\n`;
  if (content.starting) text += "starting=1\n";
  if (content.stopping) text += "stopping=1\n";
  if (content.keeper) text += "keeper=1\n";
  if (content.main !== null) text += `main=${content.main}\n`;
  if (content.restarts > 0) text += `restarts=${content.restarts}\n`;
  if (content.lastExit !== null) {
    text += `last_exit=${content.lastExit.at.toISOString()} ${content.lastExit.reason}\n`;
  }
  if (content.gaveUp) text += "gave_up=1\n";
  if (content.reload !== null) {
    text += `reload=${content.reload.seq} ${content.reload.error ?? "ok"}\n`;
  }
  return text;
}

/** The whole (small) text of `file`, from its start. */
export function readWhole(file: Deno.FsFile): string {
  file.seekSync(0, Deno.SeekMode.Start);
  const buf = new Uint8Array(MAX_BYTES);
  let n = 0;
  while (n < buf.length) {
    const got = file.readSync(buf.subarray(n));
    if (got === null) break;
    n += got;
  }
  return new TextDecoder().decode(buf.subarray(0, n));
}

/** What `file` says now, or null when it says nothing valid. */
export function readPidFile(file: Deno.FsFile): PidFileContent | null {
  return parsePidFile(readWhole(file));
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
