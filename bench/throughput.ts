// Log throughput: lines/s through ctx.logger into the log file (the library
// daemon of workloads/log_flood.ts) against a raw per-line writeSync loop
// (workloads/raw_write.ts), and the lines lost when the daemon is stopped
// while it is logging.

import { exited, launch, pollUntil, readyFile } from "./_measure.ts";
import { track } from "./_cleanup.ts";
import { reapOrphans } from "./_proc.ts";

/** One run of both. */
export interface ThroughputSample {
  lines: number;
  libraryLinesPerSec: number;
  /** The same lines logged as a template with a property (`"line {i}", { i }`). */
  templatedLinesPerSec: number;
  rawLinesPerSec: number;
  /** Lines the daemon accepted (burst + those logged until stopped). */
  accepted: number;
  /** Accepted lines missing from the log file after stop. */
  lost: number;
}

interface Result {
  lines: number;
  ms: number;
  templatedMs?: number;
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

/** Runs the library daemon and the raw loop once each, in `dir` (emptied first). */
export async function throughputOnce(
  deno: string,
  bench: string,
  dir: string,
  lines: number,
): Promise<ThroughputSample> {
  Deno.mkdirSync(dir, { recursive: true });
  for (const entry of Deno.readDirSync(dir)) Deno.removeSync(`${dir}/${entry.name}`);
  const env = { BENCH_DIR: dir, BENCH_LINES: String(lines) };
  const script = `${bench}/workloads/log_flood.ts`;
  const cmd = (command: string) => ({
    cmd: deno,
    args: ["run", "-A", script, command],
    env,
    cwd: dir,
  });

  // The daemon times its burst; stop is invoked as soon as the result appears.
  const start = launch(cmd("start"));
  const ready = { pid: null as number | null };
  const burst = pollUntil(start.t0, {
    ready: readyFile(`${dir}/ready`, ready),
    done: () => readJson<Result>(`${dir}/throughput.json`) !== null,
  }, 30_000);
  if (ready.pid !== null) track(ready.pid);
  const startCode = (await start.child.status).code;
  if (burst.done === null || startCode !== 0) {
    throw new Error(`log_flood.ts start failed (exit code ${startCode})`);
  }
  await runTo(cmd("stop"), "log_flood.ts stop");
  reapOrphans(new Set());
  const lib = readJson<Result>(`${dir}/throughput.json`)!;
  const accepted = readJson<{ lines: number; tail: number }>(`${dir}/accepted.json`);
  if (accepted === null) throw new Error("log_flood.ts did not write accepted.json");
  const found = countLines(`${dir}/daemon.log`, /\] bench-log: (?:line|tail) \d+$/gm);

  await runTo(
    { cmd: deno, args: ["run", "-A", `${bench}/workloads/raw_write.ts`], env, cwd: dir },
    "raw_write.ts",
  );
  const raw = readJson<Result>(`${dir}/throughput.json`)!;
  const total = 2 * accepted.lines + accepted.tail; // the burst is logged twice
  return {
    lines,
    libraryLinesPerSec: lib.lines / (lib.ms / 1000),
    templatedLinesPerSec: lib.lines / ((lib.templatedMs ?? NaN) / 1000),
    rawLinesPerSec: raw.lines / (raw.ms / 1000),
    accepted: total,
    lost: total - found,
  };
}
