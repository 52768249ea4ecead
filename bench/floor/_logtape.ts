// LogTape as the floors set it up in their daemon: imported there only,
// configured with a file sink on Deno's own synchronous writes.

import type { Logger } from "@logtape/logtape";

/** Configures LogTape with a file sink into `${dir}/daemon.log`; returns a logger and LogTape's dispose. */
export async function setUpLogTape(dir: string): Promise<{ logger: Logger; dispose(): void }> {
  const { configureSync, disposeSync, getLogger, getTextFormatter } = await import(
    "@logtape/logtape"
  );
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
  return { logger: getLogger(["floor"]), dispose: disposeSync };
}
