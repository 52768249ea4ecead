/**
 * `reload`: SIGHUP to the process holding the pidfile's lock, which reopens
 * its log file and calls `reload` / `onReload` (logrotate's postrotate).
 *
 * @module
 */

import { requirePidFile } from "../options.ts";
import type { ReloadResult, ResolvedDaemonOptions } from "../types.ts";
import { findHolder, signal } from "./_holder.ts";
import { assertSupported } from "./_platform.ts";

/**
 * Sends SIGHUP to the running daemon; resolves with `reloaded: false` when
 * none runs.
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
    };
  }
  try {
    signal(found.pid, "SIGHUP");
    return {
      ...base,
      running: true,
      pid: found.pid,
      // What status reports: when the daemon last wrote its pidfile.
      startedAt: found.file.statSync().mtime,
      stale: false,
      reloaded: true,
    };
  } finally {
    found.file.close();
  }
}
