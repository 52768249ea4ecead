// The issue's targets, as ratios of medians taken in the same run.

import type { Summary } from "./_stats.ts";

/** What the report knows about a row. */
export interface RowSummary {
  id: string;
  label: string;
  notes: string;
  kind: "daemon" | "once";
  skipped: string | null;
  failed: string | null;
  runs: number;
  /** Restart rows: the delay the tool waits before restarting main. */
  restartDelayMs: number | null;
  startReady: Summary | null;
  /** Start invoked → the daemon's Deno runtime up (its timeOrigin). */
  startUp: Summary | null;
  /** Start invoked → the daemon wrote the ready file, by its own clock. */
  startMain: Summary | null;
  /** The daemon's runtime up → it wrote the ready file. */
  startBoot: Summary | null;
  /** The ready file written → start returned. */
  startReport: Summary | null;
  startReturned: Summary | null;
  returnedBeforeReady: number;
  orderUnknown: number;
  stopGone: Summary | null;
  stopReturned: Summary | null;
  status: Summary | null;
  run: Summary | null;
  /** RSS of the process running main. */
  rssMiB: Summary | null;
  /** RSS and PSS of the helpers: the keeper's shells, pm2's God daemon. */
  helperRssMiB: Summary | null;
  helperPssMiB: Summary | null;
  helpers: Summary | null;
  /** Restart rows: kill -9 of main → its replacement ready. */
  crashReady: Summary | null;
}

/** Log throughput over all runs. */
export interface ThroughputSummary {
  lines: number;
  runs: number;
  /** Plain messages, text format. */
  library: Summary | null;
  /** Templated lines, text format. */
  templated: Summary | null;
  /** LogTape's dispatch of the templated lines into a no-op sink (text daemon). */
  ceiling: Summary | null;
  /** Templated lines, JSON Lines. */
  json: Summary | null;
  /** The no-op ceiling in the JSON daemon. */
  jsonCeiling: Summary | null;
  pinoAsync: Summary | null;
  pinoSync: Summary | null;
  raw: Summary | null;
  /** Per run: templated text ÷ the ceiling measured in the same process. */
  textToCeiling: Summary | null;
  /** Per run: templated JSON ÷ the ceiling measured in the same process. */
  jsonToCeiling: Summary | null;
  accepted: number;
  lost: number;
}

/** One target: pass is null when a row it needs was not measured. */
export interface Target {
  text: string;
  measured: string;
  pass: boolean | null;
}

function ratio(a: number | undefined, b: number | undefined): number | null {
  return a === undefined || b === undefined || b === 0 ? null : a / b;
}

function check(
  text: string,
  value: number | null,
  ok: (v: number) => boolean,
  show: (v: number) => string,
): Target {
  return value === null
    ? { text, measured: "not measured", pass: null }
    : { text, measured: show(value), pass: ok(value) };
}

function ms(s: Summary | null | undefined): string {
  return s ? `${s.median.toFixed(1)} ms` : "?";
}

/** Evaluates the targets of issues 5, 14 and 15 against the row summaries. */
export function evaluateTargets(rows: RowSummary[], log: ThroughputSummary | null): Target[] {
  const by = (id: string) => rows.find((r) => r.id === id && r.runs > 0);
  const lib = by("library");
  const keeper = by("keeper");
  const graceful = by("floor-graceful");
  const floorLog = by("floor-logtape");
  const empty = by("deno-empty");
  const pm2 = by("pm2-warm");
  const pm2Restart = by("pm2-restart");
  const x = (v: number) => `${v.toFixed(2)}×`;
  const logRatio = ratio(log?.library?.median, log?.raw?.median);
  return [
    check(
      "start→ready ≤ 1.10 × the LogTape floor's",
      ratio(lib?.startReady?.median, floorLog?.startReady?.median),
      (v) => v <= 1.10,
      (v) => `${x(v)} (${ms(lib?.startReady)} vs ${ms(floorLog?.startReady)})`,
    ),
    check(
      "zero runs where start returns before ready",
      lib ? lib.returnedBeforeReady : null,
      (v) => v === 0,
      (v) => `${v} of ${lib?.runs}`,
    ),
    check(
      "stop→gone ≤ 1.10 × the graceful floor's",
      ratio(lib?.stopGone?.median, graceful?.stopGone?.median),
      (v) => v <= 1.10,
      (v) => `${x(v)} (${ms(lib?.stopGone)} vs ${ms(graceful?.stopGone)})`,
    ),
    check(
      "status ≤ 1.15 × `deno run` of an empty file",
      ratio(lib?.status?.median, empty?.run?.median),
      (v) => v <= 1.15,
      (v) => `${x(v)} (${ms(lib?.status)} vs ${ms(empty?.run)})`,
    ),
    check(
      "RSS of the process running main ≤ 1.10 × the LogTape floor daemon's",
      ratio(lib?.rssMiB?.median, floorLog?.rssMiB?.median),
      (v) => v <= 1.10,
      (v) =>
        `${x(v)} (${lib?.rssMiB?.median.toFixed(1)} vs ${floorLog?.rssMiB?.median.toFixed(1)} MiB)`,
    ),
    check(
      "the keeper's resident cost (its processes' RSS, main's excluded) ≤ 10 MiB",
      keeper?.helperRssMiB?.median ?? null,
      (v) => v <= 10,
      (v) =>
        `${v.toFixed(1)} MiB RSS, ${
          keeper?.helperPssMiB?.median.toFixed(1)
        } MiB PSS in ${keeper?.helpers?.median} processes${
          pm2Restart?.helperRssMiB
            ? ` (pm2's God daemon: ${pm2Restart.helperRssMiB.median.toFixed(1)} MiB RSS, ${
              pm2Restart.helperPssMiB?.median.toFixed(1)
            } MiB PSS)`
            : ""
        }`,
    ),
    check(
      "crash→ready ≤ restartDelay + 1.10 × a fresh start→ready",
      keeper?.crashReady && keeper.startReady && keeper.restartDelayMs !== null
        ? keeper.crashReady.median - keeper.restartDelayMs
        : null,
      (v) => v <= 1.10 * keeper!.startReady!.median,
      (v) =>
        `${ms(keeper?.crashReady)} = ${keeper!.restartDelayMs} ms + ${v.toFixed(1)} ms, ${
          x(v / keeper!.startReady!.median)
        } of start→ready ${ms(keeper?.startReady)}${
          pm2Restart?.crashReady ? ` (pm2 autorestart: ${ms(pm2Restart.crashReady)})` : ""
        }`,
    ),
    check(
      "log throughput ≥ 1.0 × the raw writeSync loop, 0 lines lost",
      logRatio === null || log === null ? null : logRatio,
      (v) => v >= 1.0 && log!.lost === 0,
      (v) =>
        `${x(v)} (${Math.round(log!.library!.median)} vs ${
          Math.round(log!.raw!.median)
        } lines/s), ${log!.lost} of ${log!.accepted} lines lost`,
    ),
    check(
      "templated lines (text) ≥ 0.75 × LogTape's dispatch into a no-op sink, same process",
      log?.textToCeiling?.median ?? null,
      (v) => v >= 0.75,
      (v) =>
        `${x(v)} (${Math.round(log!.templated!.median)} vs ${
          Math.round(log!.ceiling!.median)
        } lines/s)`,
    ),
    check(
      "templated lines (JSON) ≥ 0.75 × LogTape's dispatch into a no-op sink, same process",
      log?.jsonToCeiling?.median ?? null,
      (v) => v >= 0.75,
      (v) =>
        `${x(v)} (${Math.round(log!.json!.median)} vs ${
          Math.round(log!.jsonCeiling!.median)
        } lines/s)`,
    ),
    check(
      "JSON within 10 % of text (each as a fraction of its own process's ceiling)",
      ratio(log?.jsonToCeiling?.median, log?.textToCeiling?.median),
      (v) => v >= 0.9,
      (v) =>
        `${x(v)} (${log!.jsonToCeiling!.median.toFixed(2)} vs ${
          log!.textToCeiling!.median.toFixed(2)
        }; raw lines/s ${ratio(log!.json!.median, log!.templated!.median)!.toFixed(2)}×)`,
    ),
    check(
      "start ≥ 3 × faster than pm2 warm",
      ratio(pm2?.startReady?.median, lib?.startReady?.median),
      (v) => v >= 3,
      (v) => `${x(v)} (${ms(pm2?.startReady)} vs ${ms(lib?.startReady)})`,
    ),
  ];
}
