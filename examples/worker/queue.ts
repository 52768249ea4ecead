/**
 * A stand-in job queue: it has its own LogTape logger and knows nothing of
 * the daemon, yet its lines land in the daemon's one log file.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";

const log = getLogger(["worker", "queue"]);
let next = 0;

/** The next job, when one is waiting. */
export function take(): { id: number; payload: string } | null {
  if (Math.random() < 0.3) return null;
  const job = { id: ++next, payload: `job-${next}` };
  log.debug("dequeued {id}", { id: job.id });
  return job;
}
