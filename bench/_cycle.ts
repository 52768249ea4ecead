// One measured run of one row: start → ready, RSS one second after ready,
// status, for a row that restarts on crash kill -9 of main and the time to
// its replacement's ready, then stop → gone. Every command the run spawns is
// awaited (so Deno reaps it) before the driver reaps the orphans the run left.

import { track } from "./_cleanup.ts";
import {
  type Cmd,
  epoch,
  exited,
  launch,
  type Launched,
  pollUntil,
  ready,
  readyFile,
  reaped,
  removed,
  sleepUntil,
} from "./_measure.ts";
import { isGone, pssKiB, reapOrphans, rssKiB } from "./_proc.ts";
import type { Row, RowContext } from "./rows/_row.ts";

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 20_000;
const STATUS_TIMEOUT_MS = 10_000;

/** The figures of one run. Times are ms after the command was invoked. */
export interface Sample {
  /** The round it was taken in (warm-up rounds are not kept). */
  round: number;
  /** "once" rows: invocation to exit. */
  runMs: number | null;
  startReadyMs: number | null;
  /** The daemon's Deno runtime up (its performance.timeOrigin), from the ready file. */
  startUpMs: number | null;
  /** The daemon wrote the ready file, by its own clock (not polled). */
  startMainMs: number | null;
  startReturnedMs: number | null;
  /** The start command had exited before the ready file appeared. */
  returnedBeforeReady: boolean;
  /** Both were first seen in the same round of looks: order unknown (counted as not before). */
  orderUnknown: boolean;
  stopGoneMs: number | null;
  stopReturnedMs: number | null;
  statusMs: number | null;
  statusCode: number | null;
  /** VmRSS of the process running main. */
  rssKiB: number | null;
  /** RSS and PSS summed over the helpers (keeper shells, pm2's God daemon). */
  helperRssKiB: number | null;
  helperPssKiB: number | null;
  /** How many helper processes there were. */
  helpers: number | null;
  /** Restart rows: main killed with SIGKILL → its replacement wrote the ready file. */
  crashReadyMs: number | null;
}

function emptySample(round: number): Sample {
  return {
    round,
    runMs: null,
    startReadyMs: null,
    startUpMs: null,
    startMainMs: null,
    startReturnedMs: null,
    returnedBeforeReady: false,
    orderUnknown: false,
    stopGoneMs: null,
    stopReturnedMs: null,
    statusMs: null,
    statusCode: null,
    rssKiB: null,
    helperRssKiB: null,
    helperPssKiB: null,
    helpers: null,
    crashReadyMs: null,
  };
}

function describe(cmd: Cmd): string {
  return [cmd.cmd, ...cmd.args].join(" ");
}

/** Awaits a command's exit status, killing it by pid if it outlives `ms`. */
async function finished(run: Launched, ms = 10_000): Promise<number> {
  const timer = setTimeout(() => {
    if (!isGone(run.pid)) run.child.kill("SIGKILL");
  }, ms);
  try {
    return (await run.child.status).code;
  } finally {
    clearTimeout(timer);
  }
}

function clearDir(dir: string): void {
  for (const name of ["ready", "throughput.json", "accepted.json"]) {
    try {
      Deno.removeSync(`${dir}/${name}`);
    } catch { /* not there */ }
  }
}

/** Sums `read` over `pids`; null when none could be read. */
function total(pids: number[], read: (pid: number) => number | null): number | null {
  const values = pids.map(read).filter((v): v is number => v !== null);
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0);
}

/** How long after ready the resident sizes are read. */
export interface CycleOptions {
  round: number;
  rssAfterMs: number;
}

/** Runs `row` once. Throws when the row does not reach ready, or does not stop. */
export async function runCycle(row: Row, ctx: RowContext, o: CycleOptions): Promise<Sample> {
  const sample = emptySample(o.round);
  const commands: Launched[] = [];
  clearDir(ctx.dir);
  await row.beforeStart?.(ctx);
  try {
    if (row.kind === "once") {
      const run = launch(row.start(ctx));
      commands.push(run);
      const seen = pollUntil(run.t0, { exit: exited(run.pid) }, START_TIMEOUT_MS);
      const code = await finished(run);
      if (seen.exit === null || code !== 0) {
        throw new Error(`${describe(row.start(ctx))} failed (exit code ${code})`);
      }
      sample.runMs = seen.exit.ms;
      return sample;
    }

    const startCmd = row.start(ctx);
    const start = launch(startCmd);
    commands.push(start);
    const up = ready();
    const seen = pollUntil(start.t0, {
      returned: exited(start.pid),
      ready: readyFile(`${ctx.dir}/ready`, up),
    }, START_TIMEOUT_MS);
    if (seen.ready === null || up.pid === null) {
      const code = seen.returned === null ? "still running" : `exit code ${await finished(start)}`;
      throw new Error(`${describe(startCmd)}: not ready within ${START_TIMEOUT_MS} ms (${code})`);
    }
    let pid = up.pid;
    track(pid);
    sample.startReadyMs = seen.ready.ms;
    const t0 = epoch(start.t0);
    if (up.upAt !== null) sample.startUpMs = up.upAt - t0;
    if (up.readyAt !== null) sample.startMainMs = up.readyAt - t0;
    if (seen.returned !== null) {
      sample.startReturnedMs = seen.returned.ms;
      sample.returnedBeforeReady = seen.returned.round < seen.ready.round;
      sample.orderUnknown = seen.returned.round === seen.ready.round;
    }
    const startCode = await finished(start);
    if (startCode !== 0) throw new Error(`${describe(startCmd)} exited with ${startCode}`);
    if (sample.startReturnedMs === null) {
      throw new Error(`${describe(startCmd)} did not return within ${START_TIMEOUT_MS} ms`);
    }

    await sleepUntil(start.t0 + sample.startReadyMs + o.rssAfterMs);
    sample.rssKiB = rssKiB(pid);
    const helpers = row.helpers?.(ctx, pid) ?? [];
    if (helpers.length > 0) {
      sample.helpers = helpers.length;
      sample.helperRssKiB = total(helpers, rssKiB);
      sample.helperPssKiB = total(helpers, pssKiB);
    }

    const statusCmd = row.status(ctx);
    if (statusCmd !== null) {
      const status = launch(statusCmd);
      commands.push(status);
      const s = pollUntil(status.t0, { exit: exited(status.pid) }, STATUS_TIMEOUT_MS);
      sample.statusCode = await finished(status);
      sample.statusMs = s.exit?.ms ?? null;
      if (sample.statusCode !== 0) {
        throw new Error(`${describe(statusCmd)} exited with ${sample.statusCode}, not 0`);
      }
    }

    if (row.crash !== undefined) {
      clearDir(ctx.dir);
      const t0 = performance.now();
      Deno.kill(pid, "SIGKILL");
      const again = ready();
      const back = pollUntil(t0, {
        ready: readyFile(`${ctx.dir}/ready`, again, pid),
      }, START_TIMEOUT_MS);
      if (back.ready === null || again.pid === null) {
        throw new Error(`main (pid ${pid}) was not replaced within ${START_TIMEOUT_MS} ms`);
      }
      sample.crashReadyMs = back.ready.ms;
      pid = again.pid;
      track(pid);
    }

    const stopCmd = row.stop(ctx)!;
    const stop = launch(stopCmd);
    commands.push(stop);
    const pidFile = row.removesPidFile(ctx);
    const gone = pollUntil(stop.t0, {
      daemon: exited(pid),
      pidFile: pidFile === null ? () => true : removed(pidFile),
      returned: exited(stop.pid),
      // Reaping as init would lets tools that poll kill(pid, 0) see the exit.
      reaped: reaped(pid),
    }, STOP_TIMEOUT_MS);
    const stopCode = await finished(stop);
    if (gone.daemon === null || gone.pidFile === null) {
      throw new Error(
        `${describe(stopCmd)}: daemon ${gone.daemon === null ? "still running" : "gone"}, ` +
          `pidfile ${gone.pidFile === null ? "still there" : "removed"} after ` +
          `${STOP_TIMEOUT_MS} ms (exit code ${stopCode})`,
      );
    }
    if (stopCode !== 0) throw new Error(`${describe(stopCmd)} exited with ${stopCode}`);
    sample.stopGoneMs = Math.max(gone.daemon.ms, gone.pidFile.ms);
    sample.stopReturnedMs = gone.returned?.ms ?? null;
    return sample;
  } finally {
    for (const run of commands) await finished(run).catch(() => {});
    await row.afterRun?.(ctx);
    reapOrphans(new Set());
  }
}
