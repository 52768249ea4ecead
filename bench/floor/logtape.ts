// The LogTape floor: the bare floor whose daemon also loads LogTape core,
// configures a file sink on Deno's own synchronous writes, and logs one line
// before it is ready. LogTape is imported only on the daemon's path.
import { floor } from "./_floor.ts";
import { setUpLogTape } from "./_logtape.ts";

await floor(import.meta.filename!, async (dir) => {
  const { logger } = await setUpLogTape(dir);
  logger.info("started (pid {pid})", { pid: Deno.pid });
});
