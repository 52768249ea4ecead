/**
 * `start`: returns once the daemon holds the lock, has written its pid, has
 * logging up and has reported ready; or, when one is already running, once
 * that one is ready.
 *
 * @module
 */

import { DaemonError } from "../errors.ts";
import { requirePidFile } from "../options.ts";
import { awaitReady, awaitRelease, KILL_WAIT_MS, probePidFile } from "./_probe.ts";
import type { StartResult } from "../types.ts";
import { assertSupported } from "./_platform.ts";
import { type LaunchPlan, spawnDaemon } from "./spawn.ts";

// A start that lost a race waits for the winner; if the winner then fails or
// is stopped before it is ready, it tries again itself: at least this many
// times, and for as long as readyTimeout allows (starts and stops racing on
// the same pidfile can beat it more than three times in a row).
const ATTEMPTS = 3;

/**
 * Starts the daemon `plan` describes, unless one already holds the pidfile.
 *
 * @throws {DaemonError} see {@linkcode spawnDaemon}; `READY_TIMEOUT` also
 * when a daemon started by someone else does not become ready in time.
 */
export async function startDaemon(plan: LaunchPlan): Promise<StartResult> {
  assertSupported("start");
  const { options } = plan;
  if (Deno.pid === 1) {
    // The init of a pid namespace (a container's entrypoint): when it
    // exits, the kernel kills everything in the namespace, the daemon too.
    throw new DaemonError(
      "UNSUPPORTED",
      `${options.name} cannot be started from PID 1 (a container's entrypoint or a pid namespace's init): the daemon would be killed when start returns; use "run" in the foreground instead`,
    );
  }
  const pidFile = requirePidFile(options);
  const base = {
    name: options.name,
    pidFile,
    logFile: options.logFile,
    running: true,
    stale: false,
  };

  let deadline = performance.now() + options.readyTimeout;
  let attempt = 0;
  for (; attempt < ATTEMPTS || performance.now() < deadline; attempt++) {
    // The daemon's own exclusive lock decides every race; this look only
    // spares a spawn when one is already running, and waits for it to be up.
    const state = probePidFile(pidFile);
    if (state.kind === "held") {
      try {
        const wait = await awaitReady(state.file, options.readyTimeout);
        if (wait.kind === "ready") {
          return {
            ...base,
            pid: wait.content.pid,
            startedAt: wait.content.startedAt ?? state.since,
            alreadyRunning: true,
          };
        }
        if (wait.kind === "stopping") {
          // A start during a stop follows it: once that daemon is gone, one starts.
          if (!await awaitRelease(state.file, options.stopTimeout + KILL_WAIT_MS)) {
            throw new DaemonError(
              "STOP_TIMEOUT",
              `${options.name} (pid ${wait.content.pid}) is stopping but still holds pidFile "${pidFile}"; try again once it is gone`,
            );
          }
          attempt--;
          deadline = performance.now() + options.readyTimeout;
          continue;
        }
        if (wait.kind === "timeout") {
          const pid = wait.content?.pid ?? null;
          throw pid === null
            ? new DaemonError(
              "BAD_PIDFILE",
              `pidFile "${pidFile}" is locked by a process that wrote no pid in ${options.readyTimeout} ms; find it with: fuser ${pidFile}`,
            )
            : new DaemonError(
              "READY_TIMEOUT",
              `${options.name} is already starting as pid ${pid} but did not become ready within ${options.readyTimeout} ms; see its log`,
            );
        }
      } finally {
        state.file.close();
      }
    }
    const started = await spawnDaemon(plan);
    if (started) {
      return {
        ...base,
        pid: started.pid,
        startedAt: started.startedAt,
        ...(started.mainPid !== started.pid ? { mainPid: started.mainPid, restarts: 0 } : {}),
        alreadyRunning: false,
      };
    }
  }
  throw new DaemonError(
    "START_FAILED",
    `${options.name} kept losing the race for pidFile "${pidFile}" to starts that then failed or were stopped before they were ready (${attempt} tries in ${options.readyTimeout} ms); see its log`,
  );
}
