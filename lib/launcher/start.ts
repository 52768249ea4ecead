/**
 * `start`: returns once the daemon holds the lock, has written its pid, has
 * logging up and has reported ready; or finds it already running.
 *
 * @module
 */

import { requirePidFile } from "../options.ts";
import { holderPid, probePidFile } from "../pidfile.ts";
import type { StartResult } from "../types.ts";
import { assertSupported } from "./_platform.ts";
import { type LaunchPlan, spawnDaemon } from "./spawn.ts";

/**
 * Starts the daemon `plan` describes, unless one already holds the pidfile.
 *
 * @throws {DaemonError} see {@linkcode spawnDaemon}.
 */
export async function startDaemon(plan: LaunchPlan): Promise<StartResult> {
  assertSupported("start");
  const { options } = plan;
  const pidFile = requirePidFile(options);
  const base = {
    name: options.name,
    pidFile,
    logFile: options.logFile,
    running: true,
    stale: false,
  };

  // Cheap pre-check, so an already running daemon costs no spawn. The
  // daemon's own exclusive lock decides every race.
  const state = probePidFile(pidFile);
  if (state.kind === "held") {
    try {
      const pid = state.pid ??
        await holderPid(state.file, options.readyTimeout);
      if (pid !== null) {
        return { ...base, pid, startedAt: state.since, alreadyRunning: true };
      }
    } finally {
      state.file.close();
    }
  }

  const outcome = await spawnDaemon(plan);
  if (outcome.kind === "started") {
    return {
      ...base,
      pid: outcome.pid,
      startedAt: new Date(),
      alreadyRunning: false,
    };
  }
  const since = probePidFile(pidFile);
  if (since.kind === "held") since.file.close();
  return {
    ...base,
    pid: outcome.pid,
    startedAt: since.kind === "missing" ? null : since.since,
    alreadyRunning: true,
  };
}
