// A lifecycle line in the log's format, written without LogTape: by the
// launcher into the daemon's log, for what the daemon cannot say (it was
// killed), and by a daemon whose logging is not up yet, on its raw stderr.

import { openOwnFile } from "./_safe_open.ts";
import type { ResolvedDaemonOptions } from "./types.ts";

const TEXT_LEVEL = { info: "INF", warning: "WRN", error: "ERR" } as const;
const JSON_LEVEL = { info: "INFO", warning: "WARN", error: "ERROR" } as const;

/** One line of category ["daemonize"] in `format`, as LogTape would write it. */
export function lifecycleLine(
  format: string,
  level: "info" | "warning" | "error",
  message: string,
  at = new Date(),
): string {
  if (format === "json") {
    return JSON.stringify({
      "@timestamp": at.toISOString(),
      level: JSON_LEVEL[level],
      message,
      logger: "daemonize",
      properties: {},
    }) + "\n";
  }
  const iso = at.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)} +00:00 [${
    TEXT_LEVEL[level]
  }] daemonize: ${message}\n`;
}

/** Appends a lifecycle line to the daemon's log file, if it has one; best-effort. */
export function appendLifecycleLine(
  options: ResolvedDaemonOptions,
  level: "info" | "warning" | "error",
  message: string,
): void {
  if (options.logFile === null) return;
  const format = options.logFormat;
  try {
    const file = openOwnFile(options.logFile, { option: "logFile", code: "BAD_OPTION" }, {
      append: true,
      create: true,
      createMode: 0o644 & ~options.umask,
    })!;
    try {
      file.writeSync(new TextEncoder().encode(lifecycleLine(format, level, message)));
    } finally {
      file.close();
    }
  } catch {
    // The stop itself succeeded; the line is a courtesy.
  }
}
