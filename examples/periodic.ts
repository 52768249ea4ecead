/**
 * A periodic job. The old Python `Daemon` class told you to override `run()`
 * with `sched` or a `while True` loop; here the two ways to run a job are:
 *
 * - continuous: `start` runs the job every EVERY seconds (default 5) until
 *   stopped; the sleep between runs is cut short by `stop`, so stopping never
 *   waits for the next tick;
 * - once: `run -- --once` runs the job one time in the foreground and exits 0
 *   (for cron or a systemd timer, which then own the schedule).
 *
 * ```sh
 * deno task periodic start
 * deno task periodic run -- --once
 * deno task periodic stop
 * ```
 *
 * @module
 */

import { type DaemonContext, daemonize } from "@daemonize/daemon";

const here = new URL(".", import.meta.url).pathname;
const every = Number(Deno.env.get("EVERY") ?? "5") * 1000;

/** Sleeps `ms`; resolves false at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve(!signal.aborted);
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

let runs = 0;
function job(ctx: DaemonContext): void {
  runs++;
  ctx.logger.info("job run #{runs}: {files} files in {dir}", {
    runs,
    files: [...Deno.readDirSync(here)].length,
    dir: here,
  });
}

await daemonize(async (ctx) => {
  const once = ctx.args.includes("--once");
  do {
    job(ctx);
    if (once) return;
  } while (await sleep(every, ctx.signal));
  ctx.logger.info("stopped after {runs} runs", { runs });
}, {
  name: "periodic",
  pidFile: `${here}periodic.pid`,
  logFile: `${here}periodic.log`,
});
