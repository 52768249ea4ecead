/**
 * `logs`: the last lines of the log file, and with `follow` the lines that
 * come after, across rotation (a renamed or truncated log), until aborted.
 * The log is opened as every file of ours is: never through a symlink, and
 * a file swapped in between the look and the open is closed unread.
 *
 * @module
 */

import { DaemonError } from "../errors.ts";
import { type FileRole, openOwnFile } from "../_safe_open.ts";
import type { ResolvedDaemonOptions } from "../types.ts";

const CHUNK = 64 * 1024;
const FOLLOW_POLL_MS = 200;
const LOG_ROLE: FileRole = { option: "logFile", code: "BAD_OPTION" };

/** How much to show, and where. */
export interface LogsRequest {
  /** How many lines from the end. */
  lines: number;
  /** Keep printing new lines until `signal` aborts. */
  follow: boolean;
  /** Where the bytes go. */
  write(bytes: Uint8Array): void;
  /** Ends `follow`. */
  signal?: AbortSignal;
}

function requireLogFile(options: ResolvedDaemonOptions): string {
  if (options.logFile === null) {
    throw new DaemonError(
      "BAD_OPTION",
      `option "logFile" is not set for ${options.name}, so there is no log to show`,
    );
  }
  return options.logFile;
}

/** The offset where the last `lines` lines of `file` (of `size` bytes) begin. */
function tailOffset(file: Deno.FsFile, size: number, lines: number): number {
  if (lines <= 0) return size;
  let end = size;
  let seen = 0;
  const buf = new Uint8Array(CHUNK);
  // A final newline ends the last line; it does not start another.
  let skipLast = true;
  while (end > 0) {
    const start = Math.max(0, end - CHUNK);
    file.seekSync(start, Deno.SeekMode.Start);
    const view = buf.subarray(0, end - start);
    let n = 0;
    while (n < view.length) {
      const got = file.readSync(view.subarray(n));
      if (got === null) break;
      n += got;
    }
    for (let i = view.length - 1; i >= 0; i--) {
      if (view[i] !== 10) {
        skipLast = false;
        continue;
      }
      if (skipLast) {
        skipLast = false;
        continue;
      }
      if (++seen === lines) return start + i + 1;
    }
    end = start;
  }
  return 0;
}

function copyFrom(file: Deno.FsFile, offset: number, write: (bytes: Uint8Array) => void): number {
  file.seekSync(offset, Deno.SeekMode.Start);
  const buf = new Uint8Array(CHUNK);
  for (;;) {
    const n = file.readSync(buf);
    if (n === null || n === 0) return offset;
    write(buf.slice(0, n));
    offset += n;
  }
}

function openLog(path: string): Deno.FsFile | null {
  try {
    return openOwnFile(path, LOG_ROLE, { read: true });
  } catch (err) {
    const cause = err instanceof DaemonError ? err.cause : err;
    if (cause instanceof Deno.errors.NotFound) return null; // no directory yet
    if (!(cause instanceof Deno.errors.PermissionDenied)) throw err;
    throw new DaemonError(
      "PERMISSION",
      `cannot read logFile "${path}": ${String(cause)}; run logs as the daemon's user or as root`,
      { cause },
    );
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * Writes the last `lines` lines of the log, then (with `follow`) new lines
 * as they come, reopening the file when it is renamed away or truncated.
 *
 * @throws {DaemonError} `BAD_OPTION` without a logFile; `NOT_RUNNING` when
 * the log does not exist and `follow` is off.
 */
export async function showLogs(
  options: ResolvedDaemonOptions,
  request: LogsRequest,
): Promise<void> {
  const path = requireLogFile(options);
  let file = openLog(path);
  if (file === null && !request.follow) {
    throw new DaemonError(
      "NOT_RUNNING",
      `logFile "${path}" does not exist yet; has ${options.name} been started?`,
    );
  }
  let offset = 0;
  if (file !== null) {
    offset = copyFrom(file, tailOffset(file, file.statSync().size, request.lines), request.write);
  }
  try {
    while (request.follow && !request.signal?.aborted) {
      await pause(FOLLOW_POLL_MS, request.signal);
      if (file === null) {
        file = openLog(path);
        offset = 0;
        if (file === null) continue;
      }
      offset = copyFrom(file, offset, request.write);
      let current: Deno.FileInfo | null = null;
      try {
        current = Deno.lstatSync(path);
      } catch { /* renamed away, not yet recreated */ }
      const mine = file.statSync();
      if (current !== null && (current.ino !== mine.ino || current.dev !== mine.dev)) {
        // Rotated: the rest of the old file is printed; go on with the new one.
        file.close();
        file = openLog(path);
        offset = file === null ? 0 : copyFrom(file, 0, request.write);
      } else if (mine.size < offset) {
        offset = copyFrom(file, 0, request.write); // truncated in place (copytruncate)
      }
    }
  } finally {
    file?.close();
  }
}
