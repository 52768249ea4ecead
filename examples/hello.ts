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
    // An abortable sleep that leaves no listener behind on the signal.
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, 1000);
      signal.addEventListener("abort", done);
    });
  }
  logger.info("goodbye after {n} ticks", { n });
}, {
  name: "hello",
  pidFile: `${here}hello.pid`,
  logFile: `${here}hello.log`,
});
