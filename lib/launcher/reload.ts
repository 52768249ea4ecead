/**
 * `reload`: SIGHUP to the process holding the pidfile's lock, which reopens
 * its log and raw output files and calls `reload` / `onReload` (logrotate's
 * postrotate); the daemon answers whether the reopen worked, in a file
 * beside its pidfile that this command reads and removes.
 *
 * @module
 */

import { requirePidFile } from "../options.ts";
import { poll } from "../_poll.ts";
import { openOwnFile } from "../_safe_open.ts";
import { isFree, PIDFILE_ROLE, readWhole, reloadAnswerPath } from "../pidfile.ts";
import type { ReloadResult, ResolvedDaemonOptions } from "../types.ts";
import { findHolder } from "./_holder.ts";
import { assertSupported } from "./_platform.ts";
import { signal } from "./_signal.ts";

function remove(path: string): void {
  try {
    Deno.removeSync(path);
  } catch { /* not there */ }
}

/** The daemon's answer, once it has written it whole. */
function answer(path: string): string | undefined {
  try {
    const file = openOwnFile(path, PIDFILE_ROLE, { read: true });
    if (file === null) return undefined;
    try {
      const text = readWhole(file);
      return text.endsWith("\n") ? text.trimEnd() : undefined;
    } finally {
      file.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * Sends SIGHUP to the running daemon and waits (up to `readyTimeout`) for
 * its answer; resolves with `reloaded: false` when none runs, and with the
 * daemon's reason in `error` when it could not reopen its files.
 *
 * @throws {DaemonError} `BAD_PIDFILE` when the lock is held but the pidfile
 * does not name the holder; `PERMISSION` when it cannot be signalled.
 */
export async function reloadDaemon(options: ResolvedDaemonOptions): Promise<ReloadResult> {
  assertSupported("reload");
  const pidFile = requirePidFile(options);
  const base = { name: options.name, pidFile, logFile: options.logFile };
  const found = await findHolder(pidFile);
  if (found.kind === "none") {
    return {
      ...base,
      running: false,
      pid: found.pid,
      startedAt: null,
      // As stop says: a stale pidfile was found (and removed, unless another
      // program holds a lock on it).
      stale: found.stale,
      reloaded: false,
      error: null,
    };
  }
  const { file, pid, content } = found;
  const path = reloadAnswerPath(pidFile);
  try {
    const startedAt = content.startedAt ?? file.statSync().mtime;
    let error: string | null;
    if (content.keeper && content.main === null) {
      // Between two runs (or before the first has its signal listeners):
      // nothing could answer, and the next run opens its files anew.
      error = content.starting
        ? "main is starting and cannot answer yet; try again once start has returned"
        : "main is not running; it is restarted after a crash (see status); try again then";
    } else {
      remove(path); // an answer to someone else's SIGHUP
      signal(pid, "SIGHUP");
      const said = await poll(
        () => answer(path) ?? (isFree(file) ? null : undefined),
        options.readyTimeout,
      );
      remove(path);
      error = said === undefined
        ? `no answer to SIGHUP within ${options.readyTimeout} ms (is its event loop blocked?)`
        : said === null
        ? "it exited before it answered"
        : said === "ok"
        ? null
        : said.replace(/^error: /, "");
    }
    return {
      ...base,
      running: true,
      pid,
      startedAt,
      stale: false,
      reloaded: error === null,
      error,
    };
  } finally {
    file.close();
  }
}
