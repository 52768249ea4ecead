/**
 * The daemon side: what the started program (and `run`, in the foreground)
 * does with its life. One sequence, in this order:
 *
 * 1. starting: signal listeners first (a process without them dies on the
 *    spot), then the pidfile lock, the process set-up (cwd, env), the
 *    program's code (the module form imports it only now), logging, the raw
 *    output files; then `main`.
 * 2. ready: `main` has survived its first turn (or called `ctx.ready()`):
 *    the pidfile says so, the launcher hears it, and from now on the
 *    pidfile's path is watched and mended.
 * 3. stopping: a stop signal aborted `ctx.signal`; `main` is winding down.
 * 4. exiting: the one teardown every way out goes through: the last log
 *    line says why, the pidfile goes (the lock stays until the exit itself,
 *    so whoever waits on it wakes to a finished daemon), the log is flushed.
 *
 * @module
 */

import { nextTurn } from "../_time.ts";
import type { LaunchSpec } from "../_launch.ts";
import type { ResolvedDaemonOptions } from "../types.ts";
import { type DaemonEntry, Life, type RunMode } from "./_life.ts";
import { setUp } from "./_setup.ts";
import { onUncaught, supervise } from "./_supervise.ts";
import { listenForSignals } from "./signals.ts";

export type { DaemonEntry, RunMode } from "./_life.ts";

/**
 * Runs the code `load` gives as a daemon in this process and exits with its
 * exit code: 0 when `main` returns, 1 when it throws or rejects. `load` runs
 * once the lock is held (see setUp).
 *
 * @param spec The launch spec, in a started daemon.
 * @throws {DaemonError} in the foreground, for setup failures (the launcher
 * is told instead in daemon mode).
 */
export async function runDaemon(
  load: () => Promise<DaemonEntry>,
  options: ResolvedDaemonOptions,
  mode: RunMode,
  spec: LaunchSpec | null = null,
): Promise<never> {
  const life = new Life(options, mode, spec);
  const hangup = mode === "foreground" &&
    [Deno.stdin, Deno.stdout, Deno.stderr].some((stream) => stream.isTerminal());
  life.listenForStrays = listenForSignals({
    stop: (signal) => life.stop(signal),
    // In the foreground at a terminal, SIGHUP is the terminal hanging up.
    reload: () => hangup ? life.stop("SIGHUP") : life.reload(),
    usr1: () => life.usr1(),
    stray: (signal) => life.stray(signal),
  });
  // The program's own Deno.exit(), or an event loop that ran dry. Added
  // before LogTape is configured: LogTape disposes itself on unload too, and
  // listeners run in the order they were added.
  addEventListener("unload", () => {
    if (life.phase === "exiting") return;
    life.teardown(Deno.exitCode, `the program ended the process`);
  });

  try {
    await setUp(life, spec, load);
  } catch (error) {
    life.abandon(error);
  }

  // A stop that came while the program's code loaded (the module form's
  // top-level code may take its time): main does not start.
  if (life.stopSignal !== null) life.exit(0, `stopped by ${life.stopSignal} before it was ready`);
  const logging = life.logging!;
  if (life.daemon) logging.captureConsole();
  onUncaught(life);
  Object.assign(life.ctx, { logger: logging.app, args: options.args });
  logging.library.debug(`starting ${options.name} (pid ${Deno.pid}, ${mode})`);
  if (options.readiness === "auto") {
    // Ready once main has survived its first turn of the event loop.
    nextTurn().then(() => life.ready());
  }
  await supervise(life);
  return await new Promise<never>(() => {});
}
