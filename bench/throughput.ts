// Log throughput: lines/s through ctx.logger into the log file (the library
// daemon of workloads/log_flood.ts, once in each format) against LogTape's
// own dispatch into a no-op sink in the same process (the ceiling), pino
// writing the same lines (pino/pino_flood.ts, with its own deno.json, asynchronous destination
// and sync: true) and a raw per-line writeSync loop (workloads/raw_write.ts);
// and the lines lost when the daemon is stopped while it is logging.

import { exited, launch, pollUntil, ready, readyFile } from "./_measure.ts";
import { track } from "./_cleanup.ts";
import { reapOrphans } from "./_proc.ts";

/** One run of each. */
export interface ThroughputSample {
  lines: number;
  /** Plain messages (the raw loop's text) through ctx.logger, text format. */
  libraryLinesPerSec: number;
  /** `request {i} served in {ms} ms` with { i, ms } through ctx.logger, text format. */
  templatedLinesPerSec: number;
  /** The same records through LogTape into a no-op sink, in the text daemon. */
  ceilingLinesPerSec: number;
  /** The templated lines in the JSON Lines format. */
  jsonLinesPerSec: number;
  /** The no-op ceiling in the JSON daemon. */
  jsonCeilingLinesPerSec: number;
  /** pino, the same message and properties, asynchronous destination. */
  pinoAsyncLinesPerSec: number;
  /** pino with `sync: true`. */
  pinoSyncLinesPerSec: number;
  rawLinesPerSec: number;
  /** Lines the daemons logged to the file (bursts and those logged until stopped). */
  accepted: number;
  /** Logged lines missing from the log files after stop. */
  lost: number;
}

interface Result {
  lines: number;
  ms: number;
  templatedMs?: number;
  noopMs?: number;
}

function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(Deno.readTextFileSync(path)) as T;
  } catch {
    return null;
  }
}

function countLines(path: string, pattern: RegExp): number {
  return Deno.readTextFileSync(path).match(pattern)?.length ?? 0;
}

async function runTo(cmd: Parameters<typeof launch>[0], what: string): Promise<void> {
  const run = launch(cmd);
  const seen = pollUntil(run.t0, { exit: exited(run.pid) }, 30_000);
  if (seen.exit === null) run.child.kill("SIGKILL");
  const { code } = await run.child.status;
  if (code !== 0) throw new Error(`${what} exited with ${code}`);
}

function emptied(dir: string): void {
  Deno.mkdirSync(dir, { recursive: true });
  for (const entry of Deno.readDirSync(dir)) Deno.removeSync(`${dir}/${entry.name}`);
}

const perSec = (lines: number, ms: number | undefined) => lines / ((ms ?? NaN) / 1000);

/** One library daemon in `format`: its burst results, lines logged and lines found. */
async function daemonOnce(
  deno: string,
  bench: string,
  dir: string,
  lines: number,
  format: "text" | "json",
): Promise<{ result: Result; logged: number; found: number }> {
  emptied(dir);
  const env = { BENCH_DIR: dir, BENCH_LINES: String(lines), BENCH_FORMAT: format };
  const script = `${bench}/workloads/log_flood.ts`;
  const cmd = (command: string) => ({
    cmd: deno,
    args: ["run", "-A", script, command],
    env,
    cwd: dir,
  });

  // The daemon times its bursts; stop is invoked as soon as the result appears.
  const start = launch(cmd("start"));
  const up = ready();
  const burst = pollUntil(start.t0, {
    ready: readyFile(`${dir}/ready`, up),
    done: () => readJson<Result>(`${dir}/throughput.json`) !== null,
  }, 60_000);
  if (up.pid !== null) track(up.pid);
  const startCode = (await start.child.status).code;
  if (burst.done === null || startCode !== 0) {
    throw new Error(`log_flood.ts start (${format}) failed (exit code ${startCode})`);
  }
  await runTo(cmd("stop"), `log_flood.ts stop (${format})`);
  reapOrphans(new Set());
  const result = readJson<Result>(`${dir}/throughput.json`)!;
  const accepted = readJson<{ logged: number }>(`${dir}/accepted.json`);
  if (accepted === null) throw new Error("log_flood.ts did not write accepted.json");
  const mine = format === "json" ? /"logger":"bench-log"/g : /\] bench-log: /g;
  return { result, logged: accepted.logged, found: countLines(`${dir}/daemon.log`, mine) };
}

/** Runs the two library daemons, pino twice and the raw loop once each, in `dir`. */
export async function throughputOnce(
  deno: string,
  bench: string,
  dir: string,
  lines: number,
): Promise<ThroughputSample> {
  const text = await daemonOnce(deno, bench, dir, lines, "text");
  const json = await daemonOnce(deno, bench, dir, lines, "json");

  const env = { BENCH_DIR: dir, BENCH_LINES: String(lines) };
  const pino: Record<string, Result> = {};
  for (const mode of ["async", "sync"]) {
    emptied(dir);
    await runTo(
      {
        cmd: deno,
        args: ["run", "-A", `${bench}/pino/pino_flood.ts`],
        env: { ...env, BENCH_PINO: mode },
        cwd: dir,
      },
      `pino_flood.ts (${mode})`,
    );
    pino[mode] = readJson<Result>(`${dir}/pino.json`)!;
  }

  emptied(dir);
  await runTo(
    { cmd: deno, args: ["run", "-A", `${bench}/workloads/raw_write.ts`], env, cwd: dir },
    "raw_write.ts",
  );
  const raw = readJson<Result>(`${dir}/throughput.json`)!;
  return {
    lines,
    libraryLinesPerSec: perSec(text.result.lines, text.result.ms),
    templatedLinesPerSec: perSec(lines, text.result.templatedMs),
    ceilingLinesPerSec: perSec(lines, text.result.noopMs),
    jsonLinesPerSec: perSec(lines, json.result.templatedMs),
    jsonCeilingLinesPerSec: perSec(lines, json.result.noopMs),
    pinoAsyncLinesPerSec: perSec(pino.async.lines, pino.async.ms),
    pinoSyncLinesPerSec: perSec(pino.sync.lines, pino.sync.ms),
    rawLinesPerSec: perSec(raw.lines, raw.ms),
    accepted: text.logged + json.logged,
    lost: text.logged - text.found + json.logged - json.found,
  };
}
