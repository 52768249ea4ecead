// Deno 2.9's global setTimeout is Node's: its first call in a process costs
// about 4 ms (loaded on first use) and a 0 ms timer fires after about 2 ms.
// On the paths people time (start, and the daemon until it is ready) these
// are used instead.

/**
 * Resolves to "timeout" after `ms`. Its timer does not keep the process
 * alive: use it only in a race with something that does (a child's status,
 * a pending read).
 */
export function timeout(ms: number): Promise<"timeout"> {
  return new Promise((resolve) => {
    AbortSignal.timeout(ms).addEventListener("abort", () => resolve("timeout"), { once: true });
  });
}

/**
 * Resolves in a later turn of the event loop, after every pending
 * microtask. Unref'd like {@linkcode timeout}; the daemon's signal listeners
 * keep it alive. (A MessageChannel answers a millisecond sooner but costs
 * about 1 MiB more resident memory, which the benchmark holds the daemon to.)
 */
export function nextTurn(): Promise<void> {
  return timeout(0).then(() => {});
}
