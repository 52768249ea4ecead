// Test helpers for daemons with a restart policy: what their keeper wrote
// in the pidfile, and the process running main now.

import { parsePidFile, type PidFileContent } from "../lib/pidfile.ts";
import { isAlive, type Sandbox, waitFor } from "./_helpers.ts";

/** The keeper's pidfile, parsed; null while there is none to read. */
export function keeperFile(sb: Sandbox): PidFileContent | null {
  try {
    return parsePidFile(Deno.readTextFileSync(sb.pidFile));
  } catch {
    return null;
  }
}

/** The pidfile once the keeper has recorded `restarts` restarts. */
export function afterRestarts(sb: Sandbox, restarts: number): Promise<PidFileContent> {
  return waitFor(`restart ${restarts} recorded in the pidfile`, () => {
    const content = keeperFile(sb);
    return content !== null && content.restarts >= restarts ? content : null;
  }, 10_000);
}

/** The process running main now, once it differs from `not` and has said it started. */
export function mainPid(sb: Sandbox, not: number | null = null): Promise<number> {
  return waitFor("a running main", () => {
    const pid = keeperFile(sb)?.main ?? null;
    const started = pid !== null && sb.readLog().includes(`started fx (pid ${pid})`);
    return pid !== null && pid !== not && isAlive(pid) && started ? pid : null;
  }, 10_000);
}
