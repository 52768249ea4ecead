// Where the library's time goes beyond the floors: each cost is a
// difference taken within one round (rows run interleaved, so a round's
// load hits both sides alike), then summarised over the rounds.

import type { Sample } from "./_cycle.ts";
import type { HopSample } from "./_hop.ts";
import { summarize, type Summary } from "./_stats.ts";

/** One cost: what it is, how it is measured, and its per-round figures. */
export interface Cost {
  id: string;
  text: string;
  how: string;
  ms: Summary | null;
}

type Pick = (s: Sample) => number | null;

const up: Pick = (s) => s.startUpMs;
const boot: Pick = (s) =>
  s.startMainMs === null || s.startUpMs === null ? null : s.startMainMs - s.startUpMs;
const report: Pick = (s) =>
  s.startReturnedMs === null || s.startMainMs === null ? null : s.startReturnedMs - s.startMainMs;

/**
 * The costs, from every row's samples (by row id) and the keeper hop's.
 * A cost whose rows were not measured has `ms: null`.
 */
export function evaluateCosts(
  samples: Record<string, Sample[]>,
  hops: (HopSample & { round: number })[],
): Cost[] {
  // a − b, round by round.
  const diff = (a: string, fa: Pick, b: string, fb: Pick): Summary | null => {
    const other = new Map((samples[b] ?? []).map((s) => [s.round, fb(s)]));
    return summarize((samples[a] ?? []).map((s) => {
      const x = fa(s);
      const y = other.get(s.round);
      return x === null || y === null || y === undefined ? null : x - y;
    }));
  };
  const run: Pick = (s) => s.runMs;
  return [
    {
      id: "keeper-hop",
      text: "the keeper hop: spawn → the program running",
      how: "`/bin/sh` running the library's keeper (its copier, and `env` blocking SIGUSR1) " +
        "around `date +%s%N`, minus `date` spawned directly; the program's own clock",
      ms: summarize(hops.map((h) => h.keeper - h.direct)),
    },
    {
      id: "library-graph",
      text: "the library's module graph, in every command",
      how: "`deno run` of a file that imports the library, minus of an empty file",
      ms: diff("deno-lib", run, "deno-empty", run),
    },
    {
      id: "logtape-import",
      text: "LogTape imported at a script's top, in every command",
      how: "`deno run` of a file that imports LogTape, minus of an empty file",
      ms: diff("deno-logtape", run, "deno-empty", run),
    },
    {
      id: "start-launcher",
      text: "start, launcher side: invoked → the daemon's runtime up",
      how: "the library's, minus the LogTape floor's (its daemon's performance.timeOrigin): " +
        "the library's graph, the checks before spawning, the keeper hop",
      ms: diff("library", up, "floor-logtape", up),
    },
    {
      id: "start-daemon",
      text: "start, daemon side: runtime up → main",
      how: "the library's, minus the LogTape floor's (up to its ready file): the daemon's " +
        "module graph, the pidfile lock, logging and raw output set up",
      ms: diff("library", boot, "floor-logtape", boot),
    },
    {
      id: "start-report",
      text: "start, report: main → start returned",
      how: "the library's, minus the LogTape floor's: ready a turn after main, the " +
        "pidfile's ready mark, the started line, the word through the copier",
      ms: diff("library", report, "floor-logtape", report),
    },
    {
      id: "status-own",
      text: "status's own work",
      how: "the library's status, minus `deno run` of a file that imports the library",
      ms: diff("library", (s) => s.statusMs, "deno-lib", run),
    },
    {
      id: "stop-over-floor",
      text: "stop over the graceful floor",
      how: "the library's stop → gone, minus the graceful floor's",
      ms: diff("library", (s) => s.stopGoneMs, "floor-graceful", (s) => s.stopGoneMs),
    },
    {
      id: "commands-module-form",
      text: "status with hono imported at the top, over the module form",
      how: "status of the app importing npm:hono at its top, minus the same app's in the " +
        "module form",
      ms: diff("hono", (s) => s.statusMs, "hono-module", (s) => s.statusMs),
    },
  ];
}
