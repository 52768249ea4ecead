// Log throughput and loss through ctx.logger, in the format BENCH_FORMAT
// ("text", the default, or "json"). Phase 1, each burst synchronous and
// timed until the sink has written it (at the end of the event-loop turn):
// BENCH_LINES plain messages (the text the raw loop writes); then the
// templated line `request {i} served in {ms} ms` with { i, ms } through
// ctx.logger into the log file, and the same records through LogTape into a
// sink that does nothing (the ceiling: LogTape's own dispatch), measured in
// this same process, twice each, interleaved; results in throughput.json.
// Phase 2: lines in batches of 100 per turn until stopped, so the stop
// arrives mid-stream; the number of lines logged goes to accepted.json
// before main returns. The driver counts them in the log file.

import { daemonize } from "@daemonize/daemon";
import { getLogger, type Sink } from "@logtape/logtape";

const dir = Deno.env.get("BENCH_DIR") ?? Deno.cwd();
const lines = Number(Deno.env.get("BENCH_LINES") ?? "50000");
const logFormat = Deno.env.get("BENCH_FORMAT") === "json" ? "json" : "text";

// What configure() does for a logger entry { category: ["bench-noop"],
// sinks: [noop], parentSinks: "override" }; the library's configuration is
// the one in force, so the logger is set up here the same way.
function noopLogger() {
  const logger = getLogger(["bench-noop"]);
  const impl = logger as unknown as { sinks: Sink[]; parentSinks: string };
  impl.sinks.push(() => {});
  impl.parentSinks = "override";
  return logger;
}

await daemonize(async ({ signal, logger }) => {
  Deno.writeTextFileSync(`${dir}/ready`, `${Deno.pid}\n`);
  const noop = noopLogger();
  let logged = 0;
  // Until the sink has written the burst: its end-of-turn flush was queued
  // by the burst's first line, before this.
  const written = () => new Promise<void>((resolve) => queueMicrotask(resolve));
  async function templated(target: typeof logger, n: number): Promise<number> {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) target.info("request {i} served in {ms} ms", { i, ms: i * 0.25 });
    await written();
    if (target === logger) logged += n;
    return performance.now() - t0;
  }

  await templated(noop, 5000); // warm-up of both paths
  await templated(logger, 5000);
  const t0 = performance.now();
  for (let i = 0; i < lines; i++) logger.info(`line ${i}`);
  await written();
  const ms = performance.now() - t0;
  logged += lines;
  const noopMs = [await templated(noop, lines)];
  const templatedMs = [await templated(logger, lines)];
  noopMs.push(await templated(noop, lines));
  templatedMs.push(await templated(logger, lines));
  Deno.writeTextFileSync(
    `${dir}/throughput.json`,
    JSON.stringify({
      lines,
      ms,
      templatedMs: Math.min(...templatedMs),
      noopMs: Math.min(...noopMs),
    }),
  );
  let tail = 0;
  while (!signal.aborted) {
    for (let i = 0; i < 100; i++) logger.info("tail {i}", { i: tail++ });
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  logged += tail;
  Deno.writeTextFileSync(`${dir}/accepted.json`, JSON.stringify({ logged }));
}, { name: "bench-log", pidFile: `${dir}/daemon.pid`, logFile: `${dir}/daemon.log`, logFormat });
