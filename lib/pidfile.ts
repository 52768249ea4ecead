/**
 * The pidfile, as both sides see it: its content and the lock on it.
 *
 * The process that holds an exclusive flock on the pidfile is the daemon;
 * the kernel drops the lock when that process dies (SIGKILL included), so
 * "is the lock held?" is the liveness test and a stale pidfile never
 * matters. The content is trusted only while the lock is held. A daemon's
 * pidfile stays what every tool expects (`kill $(cat app.pid)`, systemd's
 * PIDFile=, start-stop-daemon): its pid, and only whitespace says more:
 *
 * ```text
 * 4242        starting: no newline yet
 * 4242\n      ready
 * 4242\n\n    stopping: on its way out after a stop request
 * ```
 *
 * With a restart policy the holder is the keeper shell, and `key=value`
 * lines follow its pid (read the first line, `head -n1 app.pid`):
 *
 * ```text
 * 4242
 * started=2026-11-30T16:20:14.512Z   when the keeper took the lock
 * keeper=1
 * starting=1 / stopping=1             as above
 * main=4250                           the process running main now
 * restarts=3                          since start
 * last_exit=2026-11-30T16:23:51.292Z exit code 1
 * gave_up=1                           after maxRestarts consecutive failures
 * ```
 *
 * The daemon side (taking and keeping the lock) is lib/daemon/_lock.ts; the
 * launcher side is lib/launcher/_probe.ts (probing) and
 * lib/launcher/_holder.ts (proving the holder).
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
  /** With a keeper: when it took the lock (otherwise the file's mtime tells). */
  startedAt: Date | null;
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
}

/** The content of a plain daemon's pidfile: its pid, starting or ready. */
export function pidFileContent(pid: number, starting: boolean): PidFileContent {
  return {
    pid,
    startedAt: null,
    starting,
    stopping: false,
    keeper: false,
    main: null,
    restarts: 0,
    lastExit: null,
    gaveUp: false,
  };
}

function pidOf(text: string): number | null {
  if (!/^\d{1,7}$/.test(text)) return null;
  const pid = Number(text);
  return pid >= 1 && pid <= PID_MAX ? pid : null;
}

/**
 * Reads a pidfile's text; null for anything but a pid, optionally followed
 * by the newlines or `key=value` lines above (a forged, torn or foreign
 * file).
 */
export function parsePidFile(text: string): PidFileContent | null {
  const newline = text.indexOf("\n");
  const pid = pidOf(newline < 0 ? text : text.slice(0, newline));
  if (pid === null) return null;
  const content = pidFileContent(pid, false);
  const rest = newline < 0 ? null : text.slice(newline + 1);
  if (rest === null) content.starting = true;
  else if (rest === "\n") content.stopping = true;
  else if (rest !== "") {
    if (!rest.endsWith("\n")) return null;
    for (const line of rest.slice(0, -1).split("\n")) {
      const match = /^([a-z_]+)=(.*)$/.exec(line);
      if (match === null) return null;
      readField(content, match[1], match[2]);
    }
  }
  return content;
}

function readField(content: PidFileContent, key: string, value: string): void {
  const date = (text: string) => {
    const at = new Date(text);
    return Number.isNaN(at.getTime()) ? null : at;
  };
  if (key === "started") content.startedAt = date(value);
  else if (key === "starting") content.starting = value === "1";
  else if (key === "stopping") content.stopping = value === "1";
  else if (key === "keeper") content.keeper = value === "1";
  else if (key === "gave_up") content.gaveUp = value === "1";
  else if (key === "main") content.main = pidOf(value);
  else if (key === "restarts") content.restarts = Number(value) || 0;
  else if (key === "last_exit") {
    const space = value.indexOf(" ");
    const at = date(value.slice(0, space));
    if (space > 0 && at !== null) content.lastExit = { at, reason: value.slice(space + 1) };
  }
}

/** The text of `content`, as {@linkcode parsePidFile} reads it. */
export function formatPidFile(content: PidFileContent): string {
  if (!content.keeper) {
    return `${content.pid}${content.starting ? "" : content.stopping ? "\n\n" : "\n"}`;
  }
  let text = `${content.pid}\n`;
  if (content.startedAt !== null) text += `started=${content.startedAt.toISOString()}\n`;
  text += "keeper=1\n";
  if (content.starting) text += "starting=1\n";
  if (content.stopping) text += "stopping=1\n";
  if (content.main !== null) text += `main=${content.main}\n`;
  if (content.restarts > 0) text += `restarts=${content.restarts}\n`;
  if (content.lastExit !== null) {
    text += `last_exit=${content.lastExit.at.toISOString()} ${content.lastExit.reason}\n`;
  }
  if (content.gaveUp) text += "gave_up=1\n";
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

/**
 * Where the daemon answers a SIGHUP (`ok`, or the error), for the `reload`
 * command that sent it; the daemon removes it after a few seconds.
 */
export function reloadAnswerPath(pidFile: string): string {
  return `${pidFile}.reload`;
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
