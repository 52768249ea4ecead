// The LogTape floor: the bare floor whose daemon also loads LogTape core,
// configures a file sink on Deno's own synchronous writes, and logs one line
// before it is ready. LogTape is imported only on the daemon's path.
import { floor } from "./_floor.ts";

await floor(import.meta.filename!, async (dir) => {
  const { configureSync, getLogger, getTextFormatter } = await import("@logtape/logtape");
  const file = Deno.openSync(`${dir}/daemon.log`, { append: true, create: true });
  const format = getTextFormatter();
  const encoder = new TextEncoder();
  configureSync({
    sinks: { file: (record) => void file.writeSync(encoder.encode(format(record))) },
    loggers: [
      { category: [], sinks: ["file"], lowestLevel: "info" },
      {
        category: ["logtape", "meta"],
        sinks: ["file"],
        lowestLevel: "warning",
        parentSinks: "override",
      },
    ],
  });
  getLogger(["floor"]).info("started (pid {pid})", { pid: Deno.pid });
});
