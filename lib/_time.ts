// Timers for the library's own waits. Deno 2.9's global setTimeout is
// Node's: its first call in a process costs about 4 ms and a 0 ms timer
// fires after about 2 ms, on paths people time (start, stop, the daemon
// until it is ready). AbortSignal.timeout costs a tenth of a millisecond,
// but its listener keeps the process alive until it fires: every wait here
// removes its listener as soon as the wait is over, so that nothing of the
// library keeps a caller's process alive afterwards.

/**
 * Resolves to what `promise` resolves to, or to "timeout" after `ms`,
 * whichever comes first. The timer is let go either way.
 */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  const signal = AbortSignal.timeout(Math.max(0, ms));
  let onAbort = () => {};
  const timer = new Promise<"timeout">((resolve) => {
    onAbort = () => resolve("timeout");
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([promise, timer]).finally(() => signal.removeEventListener("abort", onAbort));
}

const never = new Promise<never>(() => {});

/** Resolves after `ms`. */
export async function sleep(ms: number): Promise<void> {
  await within(never, ms);
}

/**
 * Resolves in a later turn of the event loop, after every pending
 * microtask. (A timer: operations that look asynchronous, a digest or an
 * empty write, can complete within the same turn.)
 */
export function nextTurn(): Promise<void> {
  // A message through a channel is a task of its own: it comes after the
  // microtasks and I/O of this turn, and costs a fraction of a 0 ms timer.
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}
