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

/** Resolves in the next turn of the event loop, after every pending microtask. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}
