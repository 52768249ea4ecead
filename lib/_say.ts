// What the command line prints for a person (one line per result, coloured
// only at a terminal) and for a program (`--json`: one object, on failure
// too).

import { DaemonError } from "./errors.ts";
import type { DaemonStatus, ReloadResult, StartResult, StopResult } from "./types.ts";
import { asksJson } from "./_argv.ts";

/** LSB `status` exit codes. */
export const STATUS_EXIT = { running: 0, dead: 1, stopped: 3, unknown: 4 } as const;

// Colour only for a person at a terminal, and never under NO_COLOR.
function paint(code: number): (text: string) => string {
  return (text) => Deno.noColor || !Deno.stdout.isTerminal() ? text : `\x1b[${code}m${text}\x1b[0m`;
}
const green = paint(32);
const yellow = paint(33);
export const red = (text: string) =>
  Deno.noColor || !Deno.stderr.isTerminal() ? text : `\x1b[31m${text}\x1b[0m`;

export function duration(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60]] as const) {
    if (s >= size || parts.length > 0) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  parts.push(`${s}s`);
  return parts.join(" ");
}

export function startLine(r: StartResult): string {
  return r.alreadyRunning
    ? yellow(`already running (pid ${r.pid})`)
    : green(`started ${r.name} (pid ${r.pid})`);
}

export function stopLine(r: StopResult): string {
  if (r.wasRunning) {
    return green(`stopped ${r.name} (pid ${r.stoppedPid}${r.killed ? ", after SIGKILL" : ""})`);
  }
  if (!r.stale) return yellow("not running");
  return yellow(
    r.removedStale
      ? `not running (removed stale pidfile ${r.pidFile})`
      : `not running (pidfile ${r.pidFile} left in place: another program holds a lock on it)`,
  );
}

export function reloadLine(r: ReloadResult): string {
  if (r.reloaded) return green(`reloaded ${r.name} (pid ${r.pid})`);
  return yellow(r.stale ? `not running (removed stale pidfile ${r.pidFile})` : "not running");
}

// A stop that ended the daemon but could not remove its pidfile.
export function leftBehind(name: string, r: StopResult): DaemonError {
  return new DaemonError(
    "BAD_PIDFILE",
    `stopped ${name} (pid ${r.stoppedPid}), but ${r.pidFileError}`,
  );
}

// With a keeper: its restarts and how main last ended.
function keeperText(s: DaemonStatus): string {
  if (s.restarts === undefined) return "";
  const last = s.lastExit
    ? `, last ended ${s.lastExit.at.toISOString()}: ${s.lastExit.reason}`
    : "";
  const restarts = `${s.restarts} restart${s.restarts === 1 ? "" : "s"}`;
  if (s.gaveUp) return `, gave up after ${restarts}${last}`;
  return `, main ${s.mainPid ?? "restarting"}, ${restarts}${last}`;
}

export function statusLine(s: DaemonStatus): string {
  if (s.running) {
    const up = s.startedAt === null ? "" : `, up ${duration(Date.now() - s.startedAt.getTime())}`;
    return green(`${s.name} is ${s.stopping ? "stopping" : "running"}`) +
      ` (pid ${s.pid ?? "unknown"}${up}${keeperText(s)}${s.logFile ? `, log ${s.logFile}` : ""})`;
  }
  if (s.stale) {
    return yellow(
      `${s.name} is not running, but its pidfile ${s.pidFile} remains (pid ${s.pid ?? "none"}${
        keeperText(s)
      })`,
    );
  }
  return yellow(`${s.name} is not running`);
}

// One write: console.log's first call costs a few tenths of a millisecond,
// which status, run from scripts in loops, pays every time. A reader that
// has gone (`status | head -c0`, a closed pipe) is not an error: nobody is
// left to tell. Other failures (a full device) throw.
export function say(text: string): void {
  const bytes = new TextEncoder().encode(text.endsWith("\n") ? text : `${text}\n`);
  try {
    for (let n = 0; n < bytes.length;) n += Deno.stdout.writeSync(bytes.subarray(n));
  } catch (err) {
    if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
  }
}

// A command's result, which stands whether or not it can be printed: when
// stdout cannot take it, stderr says so, and the exit code stays the
// command's (a daemon that started is up, printed or not).
export function sayResult(name: string, text: string): void {
  try {
    say(text);
  } catch (err) {
    console.error(
      `${name}: this could not be printed on stdout (${
        err instanceof Error ? err.message : String(err)
      }): ${text}`,
    );
  }
}

/** What a JSON consumer is told about a failure. */
function errorObject(name: string, err: unknown): object {
  return err instanceof DaemonError
    ? { name, error: { code: err.code, message: err.message } }
    : { name, error: { code: "UNEXPECTED", message: unexpected(err) } };
}

function unexpected(err: unknown): string {
  return `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * Prints `err` for the command line `line` (one line on stderr, or with
 * `--json` one object on stdout) and returns the exit code: 4 for `status`
 * (LSB's "unknown"), else 1, or `code` when given.
 */
export function reportError(
  name: string,
  err: unknown,
  line: readonly string[] = [],
  code?: number,
): number {
  const text = `${name}: ${err instanceof DaemonError ? err.message : unexpected(err)}`;
  let printed = false;
  if (asksJson(line)) {
    try {
      say(JSON.stringify(errorObject(name, err)));
      printed = true;
    } catch { /* stdout cannot take it: stderr says it */ }
  }
  if (!printed) console.error(red(text));
  return code ?? (line[0] === "status" ? STATUS_EXIT.unknown : 1);
}
