/**
 * The function form: a worker that logs a line every second until stopped.
 *
 * ```sh
 * deno run -A examples/hello.ts start
 * deno run -A examples/hello.ts status
 * deno run -A examples/hello.ts stop
 * ```
 *
 * @module
 */

import { daemonize } from "@daemonize/daemon";
import { getLogger } from "@logtape/logtape";

const here = new URL(".", import.meta.url).pathname;

await daemonize(async ({ signal, logger }) => {
  logger.info("hello, world: worker up");
  const db = getLogger(["hello", "db"]);
  let n = 0;
  while (!signal.aborted) {
    db.info("tick {n}", { n: ++n });
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 1000);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve(undefined);
      }, { once: true });
    });
  }
  logger.info("goodbye after {n} ticks", { n });
}, {
  name: "hello",
  pidFile: `${here}hello.pid`,
  logFile: `${here}hello.log`,
});
