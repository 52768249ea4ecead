// The one polling loop of the library: every wait on something that gives
// no event (a pidfile's content, a lock someone else holds, a process in
// /proc) asks again with a growing pause until its deadline.

import { sleep } from "./_time.ts";

/** How often to look. */
export interface PollPace {
  /** The first pause, in ms. Default 1. */
  first?: number;
  /** The longest pause, in ms. Default 20. */
  max?: number;
}

/**
 * Calls `check` until it returns something other than `undefined`, or
 * until `ms` have passed; returns that value, or `undefined` at the
 * deadline. `check` runs at least once.
 */
export async function poll<T>(
  check: () => T | undefined | Promise<T | undefined>,
  ms: number,
  pace: PollPace = {},
): Promise<T | undefined> {
  const deadline = performance.now() + ms;
  let pause = pace.first ?? 1;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    const left = deadline - performance.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(pause, left));
    pause = Math.min(pause * 2, pace.max ?? 20);
  }
}
