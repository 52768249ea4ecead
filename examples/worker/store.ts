/**
 * A stand-in store, with its own logger, as a database module would have.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";

const log = getLogger(["worker", "store"]);
const saved = new Map<number, string>();

/** Saves a job's result. */
export function save(id: number, result: string): void {
  saved.set(id, result);
  log.info("saved result of job {id} ({count} in store)", { id, count: saved.size });
}
