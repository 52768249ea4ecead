/**
 * Reads a daemon's state from its pidfile and the lock on it, changing
 * nothing.
 *
 * @module
 */

import { requirePidFile } from "../options.ts";
import { holderPid, probePidFile } from "../pidfile.ts";
import type { DaemonStatus, ResolvedDaemonOptions } from "../types.ts";
import { proveHolder } from "./_holder.ts";
import { assertSupported } from "./_platform.ts";

/**
 * The daemon's status: running when a process holds the pidfile's lock,
 * stale when the pidfile exists but nobody holds it.
 *
 * @throws {DaemonError} `BAD_OPTION` without a pidFile; `BAD_PIDFILE` or
 * `PERMISSION` when the pidfile cannot be read (status "unknown").
 */
export async function daemonStatus(
  options: ResolvedDaemonOptions,
): Promise<DaemonStatus> {
  assertSupported("status");
  const pidFile = requirePidFile(options);
  const base = { name: options.name, pidFile, logFile: options.logFile };
  const state = probePidFile(pidFile);
  switch (state.kind) {
    case "missing":
      return {
        ...base,
        running: false,
        pid: null,
        startedAt: null,
        stale: false,
      };
    case "stale":
      return {
        ...base,
        running: false,
        pid: state.pid,
        startedAt: null,
        stale: true,
      };
    case "held":
      try {
        const written = state.pid ?? await holderPid(state.file, 500);
        // A pid the kernel shows is not the holder is not reported; one it
        // may not be asked about is (status signals nobody).
        const pid = written !== null &&
            proveHolder(written, state.file, pidFile).kind === "not-holder"
          ? null
          : written;
        return {
          ...base,
          running: true,
          pid,
          startedAt: state.since,
          stale: false,
        };
      } finally {
        state.file.close();
      }
  }
}
