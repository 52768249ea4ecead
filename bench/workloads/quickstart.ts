// The README's quick start, word for word but for the bench's paths and the
// ready file (written once main has logged its lines). LogTape is imported
// at the top, as there, so every command loads it.

import { daemonize } from "@daemonize/daemon";
import { getLogger } from "@logtape/logtape";

const dir = Deno.env.get("BENCH_DIR") ?? Deno.cwd();

// Waits `ms`, or less when `signal` aborts: `stop` never waits for the next tick.
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

await daemonize(async ({ signal, logger }) => {
  logger.info("worker up");
  getLogger(["app", "db"]).info("any module logs into the same file");
  Deno.writeTextFileSync(
    `${dir}/ready`,
    `${Deno.pid}\n${performance.timeOrigin} ${performance.now()}\n`,
  );
  while (!signal.aborted) await sleep(1000, signal);
}, { name: "app", pidFile: `${dir}/daemon.pid`, logFile: `${dir}/daemon.log` });
