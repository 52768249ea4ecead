// The graceful floor, the fair one for stop: the LogTape floor whose daemon
// installs a SIGTERM listener that logs one line through LogTape, flushes
// (LogTape's dispose) and exits, the least a daemon that says why it ended
// does. Its stop is the floor's: SIGTERM, wait for the lock, remove the pidfile.
import { floor } from "./_floor.ts";
import { setUpLogTape } from "./_logtape.ts";

await floor(import.meta.filename!, async (dir) => {
  const { logger, dispose } = await setUpLogTape(dir);
  Deno.addSignalListener("SIGTERM", () => {
    logger.info("stopping: SIGTERM");
    dispose();
    Deno.exit(0);
  });
  logger.info("started (pid {pid})", { pid: Deno.pid });
});
