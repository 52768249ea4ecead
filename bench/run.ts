// The benchmark driver: `deno run -A bench/run.ts [--quick] [--runs=N]
// [--warmup=N] [--rows=id,id] [--lines=N] [--out=DIR]`. It runs every
// available row round-robin (one run of each row per round, so drift and
// background load hit all rows alike), then the log throughput runs, then
// writes results.json, results.md and chart.svg. Peers that are missing are
// reported as skipped; nothing is installed here (see setup.sh). Each round
// also times the keeper hop on its own (_hop.ts).

import { killAll } from "./_cleanup.ts";
import { evaluateCosts } from "./_costs.ts";
import { runCycle, type Sample } from "./_cycle.ts";
import { hopOnce, type HopSample, hopUnavailable } from "./_hop.ts";
import { describeMachine, loadAverage } from "./_machine.ts";
import { POLL_MS } from "./_measure.ts";
import { becomeSubreaper, closeInherited, closeLibc } from "./_proc.ts";
import { machineLine, report, summaryText } from "./_report.ts";
import { summarize } from "./_stats.ts";
import { evaluateTargets, type RowSummary, type ThroughputSummary } from "./_targets.ts";
import { renderChart } from "./chart.ts";
import { throughputOnce, type ThroughputSample } from "./throughput.ts";
import type { Row, RowContext } from "./rows/_row.ts";
import {
  denoEmpty,
  denoLibrary,
  denoLogTape,
  floorBare,
  floorGraceful,
  floorLogTape,
  honoModule,
  honoTop,
  library,
  libraryKeeper,
  quickstart,
} from "./rows/deno_rows.ts";
import { daemonize, pythonDaemon, startStopDaemon } from "./rows/peers.ts";
import { killSupervisor, pm2Cold, pm2Restart, pm2Warm } from "./rows/pm2.ts";

// pm2's warm rows come last: each kills its supervisor after its run.
const ROWS: Row[] = [
  library,
  libraryKeeper,
  quickstart,
  honoTop,
  honoModule,
  floorBare,
  floorLogTape,
  floorGraceful,
  denoEmpty,
  denoLibrary,
  denoLogTape,
  startStopDaemon,
  daemonize,
  pythonDaemon,
  pm2Cold,
  pm2Warm,
  pm2Restart,
];

interface Options {
  quick: boolean;
  runs: number;
  warmup: number;
  rssAfterMs: number;
  lines: number;
  rows: string[] | null;
  out: string | null;
}

function parseOptions(args: string[]): Options {
  const quick = args.includes("--quick");
  const value = (name: string) =>
    args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? null;
  const num = (name: string, fallback: number) => {
    const v = value(name);
    const n = v === null ? fallback : Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number`);
    return n;
  };
  for (const a of args) {
    if (!/^--(quick|runs=|warmup=|lines=|rows=|out=)/.test(a)) {
      throw new Error(`unknown argument ${a}`);
    }
  }
  return {
    quick,
    runs: Math.max(1, num("runs", quick ? 3 : 25)),
    warmup: num("warmup", quick ? 1 : 3),
    // Resident sizes settle within a fraction of a second; the quick run
    // reads them sooner to stay quick.
    rssAfterMs: quick ? 250 : 1000,
    lines: num("lines", 50_000),
    rows: value("rows")?.split(",") ?? null,
    out: value("out"),
  };
}

interface RowState {
  row: Row;
  ctx: RowContext;
  skipped: string | null;
  failed: string | null;
  samples: Sample[];
}

const mib = (kib: number | null) => kib === null ? null : kib / 1024;
const minus = (a: number | null, b: number | null) => a === null || b === null ? null : a - b;

function summarizeRow(s: RowState): RowSummary {
  const pick = (f: (x: Sample) => number | null) => summarize(s.samples.map(f));
  return {
    id: s.row.id,
    label: s.row.label,
    notes: s.row.notes,
    kind: s.row.kind,
    skipped: s.skipped,
    failed: s.failed,
    runs: s.samples.length,
    restartDelayMs: s.row.crash?.restartDelayMs ?? null,
    startReady: pick((x) => x.startReadyMs),
    startUp: pick((x) => x.startUpMs),
    startMain: pick((x) => x.startMainMs),
    startBoot: pick((x) => minus(x.startMainMs, x.startUpMs)),
    startReport: pick((x) => minus(x.startReturnedMs, x.startMainMs)),
    startReturned: pick((x) => x.startReturnedMs),
    returnedBeforeReady: s.samples.filter((x) => x.returnedBeforeReady).length,
    orderUnknown: s.samples.filter((x) => x.orderUnknown).length,
    stopGone: pick((x) => x.stopGoneMs),
    stopReturned: pick((x) => x.stopReturnedMs),
    status: pick((x) => x.statusMs),
    run: pick((x) => x.runMs),
    rssMiB: pick((x) => mib(x.rssKiB)),
    helperRssMiB: pick((x) => mib(x.helperRssKiB)),
    helperPssMiB: pick((x) => mib(x.helperPssKiB)),
    helpers: pick((x) => x.helpers),
    crashReady: pick((x) => x.crashReadyMs),
  };
}

function summarizeThroughput(samples: ThroughputSample[]): ThroughputSummary | null {
  if (samples.length === 0) return null;
  const pick = (f: (s: ThroughputSample) => number) => summarize(samples.map(f));
  return {
    lines: samples[0].lines,
    runs: samples.length,
    library: pick((s) => s.libraryLinesPerSec),
    templated: pick((s) => s.templatedLinesPerSec),
    ceiling: pick((s) => s.ceilingLinesPerSec),
    json: pick((s) => s.jsonLinesPerSec),
    jsonCeiling: pick((s) => s.jsonCeilingLinesPerSec),
    pinoAsync: pick((s) => s.pinoAsyncLinesPerSec),
    pinoSync: pick((s) => s.pinoSyncLinesPerSec),
    raw: pick((s) => s.rawLinesPerSec),
    textToCeiling: pick((s) => s.templatedLinesPerSec / s.ceilingLinesPerSec),
    jsonToCeiling: pick((s) => s.jsonLinesPerSec / s.jsonCeilingLinesPerSec),
    accepted: samples.reduce((n, s) => n + s.accepted, 0),
    lost: samples.reduce((n, s) => n + s.lost, 0),
  };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function main(): Promise<number> {
  const options = parseOptions(Deno.args);
  const bench = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
  if (!becomeSubreaper()) console.error("warning: cannot become a subreaper; zombies may linger");
  const closed = closeInherited();
  if (closed.length > 0) {
    console.error(
      `closed inherited descriptors ${closed.join(" ")}: commands start as from a terminal`,
    );
  }
  const tmp = Deno.makeTempDirSync({ prefix: "daemonize-bench-" });
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    console.error("interrupted: finishing the current run, then cleaning up");
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  const machine = await describeMachine(bench);
  const startedAt = new Date().toISOString();
  const states: RowState[] = [];
  const hops: (HopSample & { round: number })[] = [];
  const logSamples: ThroughputSample[] = [];
  let errors = 0;
  try {
    for (const row of ROWS) {
      if (options.rows !== null && !options.rows.includes(row.id)) continue;
      const dir = `${tmp}/${row.id}`;
      Deno.mkdirSync(dir);
      const ctx: RowContext = { bench, tmp, dir, deno: Deno.execPath(), env: { BENCH_DIR: dir } };
      const skipped = await row.unavailable(ctx);
      if (skipped !== null) console.error(`${row.id}: skipped (${skipped})`);
      states.push({ row, ctx, skipped, failed: null, samples: [] });
    }

    const hopSkipped = options.rows === null || options.rows.includes("hop")
      ? await hopUnavailable()
      : "not asked for";
    if (hopSkipped !== null && hopSkipped !== "not asked for") {
      console.error(`keeper hop: skipped (${hopSkipped})`);
    }
    const rounds = options.warmup + options.runs;
    for (let round = 0; round < rounds && !interrupted; round++) {
      const line: string[] = [];
      for (const s of states) {
        if (s.skipped !== null || s.failed !== null || interrupted) continue;
        try {
          const sample = await runCycle(s.row, s.ctx, {
            round: round - options.warmup,
            rssAfterMs: options.rssAfterMs,
          });
          if (round >= options.warmup) s.samples.push(sample);
          const ms = sample.runMs ?? sample.startReadyMs;
          const crash = sample.crashReadyMs === null
            ? ""
            : ` crash ${sample.crashReadyMs.toFixed(1)}`;
          line.push(
            `${s.row.id} ${ms?.toFixed(1)}/${sample.stopGoneMs?.toFixed(1) ?? "-"}${crash}`,
          );
        } catch (err) {
          s.failed = message(err);
          errors++;
          console.error(`${s.row.id}: FAILED: ${s.failed}`);
          await killAll();
        }
      }
      if (hopSkipped === null) {
        try {
          const hop = await hopOnce(tmp);
          if (round >= options.warmup) hops.push({ ...hop, round: round - options.warmup });
          line.push(`hop ${hop.keeper.toFixed(1)}/${hop.direct.toFixed(1)}`);
        } catch (err) {
          console.error(`keeper hop: FAILED: ${message(err)}`);
          errors++;
        }
      }
      const tag = round < options.warmup ? "warm-up" : `run ${round - options.warmup + 1}`;
      console.error(`${tag}/${options.runs}: ${line.join(", ")}`);
    }
    await killSupervisor({ bench, tmp, dir: tmp, deno: Deno.execPath(), env: {} });

    if (options.rows === null || options.rows.includes("log")) {
      for (let i = 0; i < 1 + options.runs && !interrupted; i++) {
        try {
          const s = await throughputOnce(Deno.execPath(), bench, `${tmp}/log`, options.lines);
          if (i > 0) logSamples.push(s);
          const k = (n: number) => `${Math.round(n / 1000)}k`;
          console.error(
            `log ${i === 0 ? "warm-up" : `run ${i}`}: templated text ${k(s.templatedLinesPerSec)}` +
              ` json ${k(s.jsonLinesPerSec)} LogTape→no-op ${k(s.ceilingLinesPerSec)}` +
              ` pino async ${k(s.pinoAsyncLinesPerSec)} sync ${k(s.pinoSyncLinesPerSec)}` +
              ` lines/s; plain ${k(s.libraryLinesPerSec)}, raw ${
                k(s.rawLinesPerSec)
              }; lost ${s.lost}`,
          );
        } catch (err) {
          console.error(`log throughput: FAILED: ${message(err)}`);
          errors++;
          await killAll();
          break;
        }
      }
    }
  } finally {
    const left = await killAll();
    if (left.length > 0) console.error(`cleanup: killed leftover pids ${left.join(" ")}`);
    closeLibc();
    Deno.removeSync(tmp, { recursive: true });
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }

  machine.loadAverageEnd = loadAverage();
  const rows = states.map(summarizeRow);
  const log = summarizeThroughput(logSamples);
  const samples = Object.fromEntries(states.map((s) => [s.row.id, s.samples]));
  const hop = hops.length === 0 ? null : {
    runs: hops.length,
    direct: summarize(hops.map((h) => h.direct)),
    keeper: summarize(hops.map((h) => h.keeper)),
    added: summarize(hops.map((h) => h.keeper - h.direct)),
  };
  const costs = evaluateCosts(samples, hops);
  const targets = evaluateTargets(rows, log);
  const where = machineLine(machine, options.runs, options.warmup, startedAt);
  const out = options.out ??
    (options.quick
      ? Deno.makeTempDirSync({ prefix: "daemonize-bench-quick-" })
      : `${bench}/results`);
  Deno.mkdirSync(out, { recursive: true });
  const json = {
    startedAt,
    mode: options.quick ? "quick" : "full",
    runs: options.runs,
    warmup: options.warmup,
    pollMs: POLL_MS,
    machine,
    machineLine: where,
    targets,
    costs,
    rows: rows.map((r) => ({ ...r, samples: samples[r.id] })),
    hop: { summary: hop, samples: hops },
    throughput: { summary: log, samples: logSamples },
  };
  Deno.writeTextFileSync(`${out}/results.json`, JSON.stringify(json, null, 2) + "\n");
  Deno.writeTextFileSync(
    `${out}/results.md`,
    report({ machine: where, rows, log, targets, costs }),
  );
  const chartRows = rows.filter((r) => r.runs > 0).map((r) => ({
    label: r.label,
    start: r.run ?? r.startReady,
    stop: r.stopGone,
    startNote: r.kind === "once" ? "(to exit)" : undefined,
  }));
  Deno.writeTextFileSync(
    `${out}/chart.svg`,
    renderChart(
      chartRows,
      "@daemonize/daemon vs floors and peers",
      `${machine.cpu}, ${machine.cores} cores, Deno ${machine.deno}, ${options.runs} runs`,
    ),
  );
  // deno fmt checks the repository's JSON and markdown too: keep the output clean.
  await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", `${out}/results.json`, `${out}/results.md`, `${out}/chart.svg`],
    stdout: "null",
    stderr: "null",
  }).output();

  console.log(summaryText({ machine: where, rows, log, targets, costs }));
  console.log(`\nwritten to ${out}/ (results.json, results.md, chart.svg)`);
  return errors > 0 || interrupted ? 1 : 0;
}

Deno.exit(await main());
