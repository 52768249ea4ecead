/**
 * A worker whose modules each log through their own LogTape logger
 * (`worker·queue`, `worker·store`) into the daemon's one log file, next to
 * `ctx.logger` and the library's lifecycle lines.
 *
 * ```sh
 * deno task worker start
 * deno task worker logs -f
 * deno task worker stop
 * ```
 *
 * @module
 */

import { daemonize } from "@daemonize/daemon";
import { take } from "./queue.ts";
import { save } from "./store.ts";

const here = new URL(".", import.meta.url).pathname;

await daemonize(async (ctx) => {
  ctx.logger.info("worker up, polling the queue");
  let done = 0;
  while (!ctx.signal.aborted) {
    const job = take();
    if (job !== null) {
      save(job.id, job.payload.toUpperCase());
      done++;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  ctx.logger.info("worker down after {done} jobs", { done });
}, {
  name: "worker",
  pidFile: `${here}worker.pid`,
  logFile: `${here}worker.log`,
  logLevel: "debug",
});
