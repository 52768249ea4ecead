// Log throughput and loss through ctx.logger. Phase 1: BENCH_LINES lines in
// one synchronous burst, timed until the sink has written them (the burst is
// written at the end of the event-loop turn), as plain messages and again as
// templates with a property; results in throughput.json.
// Phase 2: lines in batches of 100 per turn until stopped, so the stop
// arrives mid-stream; the number accepted goes to accepted.json before main
// returns. The driver counts both kinds of line in the log file.

import { daemonize } from "@daemonize/daemon";

const dir = Deno.env.get("BENCH_DIR") ?? Deno.cwd();
const lines = Number(Deno.env.get("BENCH_LINES") ?? "50000");

await daemonize(async ({ signal, logger }) => {
  Deno.writeTextFileSync(`${dir}/ready`, `${Deno.pid}\n`);
  // The same text as the raw loop writes: a plain message. Then the same
  // lines as a LogTape template with a property, reported beside it.
  let t0 = performance.now();
  for (let i = 0; i < lines; i++) logger.info(`line ${i}`);
  await new Promise((resolve) => setTimeout(resolve, 0));
  const ms = performance.now() - t0;
  t0 = performance.now();
  for (let i = 0; i < lines; i++) logger.info("line {i}", { i });
  await new Promise((resolve) => setTimeout(resolve, 0));
  const templatedMs = performance.now() - t0;
  Deno.writeTextFileSync(`${dir}/throughput.json`, JSON.stringify({ lines, ms, templatedMs }));
  let tail = 0;
  while (!signal.aborted) {
    for (let i = 0; i < 100; i++) logger.info("tail {i}", { i: tail++ });
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  Deno.writeTextFileSync(`${dir}/accepted.json`, JSON.stringify({ lines, tail }));
}, { name: "bench-log", pidFile: `${dir}/daemon.pid`, logFile: `${dir}/daemon.log` });
