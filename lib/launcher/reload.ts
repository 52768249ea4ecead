/**
 * `reload`: SIGHUP to the process holding the pidfile's lock, which reopens
 * its log and raw output files and calls `reload` / `onReload` (logrotate's
 * postrotate); the daemon answers in its pidfile whether the reopen worked.
 *
 * @module
 */

import { requirePidFile } from "../options.ts";
import { poll } from "../_poll.ts";
import { isFree, readPidFile } from "../pidfile.ts";
import type { ReloadResult, ResolvedDaemonOptions } from "../types.ts";
import { findHolder } from "./_holder.ts";
import { assertSupported } from "./_platform.ts";
import { signal } from "./_signal.ts";

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
      stale: found.stale,
      reloaded: false,
      error: null,
    };
  }
  const { file, pid, content } = found;
  try {
    const before = content.reload?.seq ?? 0;
    const startedAt = file.statSync().mtime;
    signal(pid, "SIGHUP");
    const answer = await poll(() => {
      const now = readPidFile(file);
      if (now !== null && now.reload !== null && now.reload.seq !== before) return now.reload;
      return isFree(file) ? null : undefined;
    }, options.readyTimeout);
    const error = answer === undefined
      ? `no answer to SIGHUP within ${options.readyTimeout} ms (is its event loop blocked?)`
      : answer === null
      ? "it exited before it answered"
      : answer.error;
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
