// The restart policy: which ends of a daemon start it again, and after how
// many failures in a row to give up. (restartDelay is a timeout, checked
// with the others in options.ts.)

import { badOption } from "./_bad_option.ts";
import type { DaemonOptions, ResolvedDaemonOptions, RestartPolicy } from "./types.ts";

const RESTART: readonly RestartPolicy[] = ["never", "on-failure", "always"];

/**
 * `restart` (`"never"` when unset) and `maxRestarts` (10 when unset).
 *
 * @throws {DaemonError} `BAD_OPTION`, naming the option.
 */
export function resolveRestart(
  options: DaemonOptions,
): Pick<ResolvedDaemonOptions, "restart" | "maxRestarts"> {
  const restart = options.restart ?? "never";
  if (!RESTART.includes(restart)) {
    throw badOption("restart", `must be "never", "on-failure" or "always", got ${String(restart)}`);
  }
  const maxRestarts = options.maxRestarts ?? 10;
  if (!Number.isInteger(maxRestarts) || maxRestarts < 0 || maxRestarts > 1_000_000) {
    throw badOption("maxRestarts", `must be a whole number from 0, got ${String(maxRestarts)}`);
  }
  return { restart, maxRestarts };
}
