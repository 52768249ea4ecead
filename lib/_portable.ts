// The options that travel from a launcher (the command line, a Daemon
// controller) to the daemon it starts, and how the daemon lays them over
// the script's own.

import { absolutePath } from "./_option_paths.ts";
import type { DaemonOptions } from "./types.ts";

/**
 * `launcher`'s options laid over `own` (the script's): the launcher's win,
 * but variables in `env` are merged, so a controller's env adds to the
 * script's rather than replacing it.
 */
export function layOver(own: DaemonOptions, launcher: DaemonOptions): DaemonOptions {
  const merged = { ...own, ...launcher };
  if (own.env !== undefined && launcher.env !== undefined) {
    merged.env = { ...own.env, ...launcher.env };
  }
  return merged;
}

/** The options a launcher hands to the daemon it starts: what JSON can carry. */
export type PortableOptions = Omit<
  DaemonOptions,
  "onReload" | "logSinks" | "args" | "denoArgs"
>;

/**
 * The options given explicitly, with every path made absolute against `cwd`,
 * ready to travel to the re-executed daemon, which lays them over its own.
 */
export function portableOptions(
  options: DaemonOptions,
  cwd: string,
): PortableOptions {
  const out: PortableOptions = {};
  for (const [key, value] of Object.entries(options)) {
    if (
      value === undefined || key === "onReload" || key === "logSinks" || key === "args" ||
      key === "denoArgs"
    ) {
      continue;
    }
    const isPath = key === "pidFile" || key === "logFile" || key === "stdout" ||
      key === "stderr" || key === "stdin" || key === "cwd";
    Object.assign(out, {
      [key]: isPath && typeof value === "string" && value !== "" ? absolutePath(value, cwd) : value,
    });
  }
  return out;
}
