// Running main until the daemon ends: once for a started daemon (its keeper
// restarts the process), again and again under run with a restart policy;
// and how an uncaught error in the program ends a run of main.

import { sleep } from "../_time.ts";
import type { Life } from "./_life.ts";

/** How one run of main ended. */
type Ending = { failed: false } | { failed: true; why: string; error: unknown };

/**
 * Runs main until the daemon ends. A started daemon runs it once (with a
 * restart policy its keeper starts the process again, which survives what
 * no process can catch: Deno.exit, the OOM killer, a crash); in the
 * foreground (`run`) a restart policy starts main again in this process
 * after it throws, rejects or (`"always"`) returns.
 */
export async function supervise(life: Life): Promise<never> {
  const { options } = life;
  const again = life.mode === "foreground" && options.restart !== "never";
  let fails = 0;
  let delay = options.restartDelay;
  for (let restarts = 0;; restarts++) {
    const since = performance.now();
    const ending = await runMain(life);
    const signal = life.stopSignal;
    if (signal === null && life.wasReady && again) {
      if (performance.now() - since >= 30_000) [fails, delay] = [0, options.restartDelay];
      const restart = ending.failed || options.restart === "always";
      if (ending.failed) fails++;
      if (restart && fails <= options.maxRestarts) {
        const pause = ending.failed ? delay : options.restartDelay;
        // Up to 30 s, or the first delay when that is longer.
        if (ending.failed) delay = Math.min(delay * 2, Math.max(30_000, options.restartDelay));
        life.say(
          "error",
          `${options.name} ${ending.failed ? ending.why : "main returned"}; restart ${
            restarts + 1
          } in ${pause} ms`,
          ending.failed ? ending.error : undefined,
        );
        await Promise.race([sleep(pause), stopRequested(life)]);
        if (life.stopSignal === null) continue;
        await life.notified;
        life.exit(0, `stopped by ${life.stopSignal}`);
      } else if (restart) {
        life.exit(
          1,
          `giving up after ${options.maxRestarts} restarts: ${fails} consecutive failures, the last: ${
            ending.failed ? ending.why : "main returned"
          }`,
          ending.failed ? ending.error : undefined,
        );
      }
    }
    if (ending.failed) life.exit(1, ending.why, ending.error);
    const stop = life.stopSignal;
    if (!life.wasReady && stop !== null) life.exit(0, `stopped by ${stop} before it was ready`);
    if (!life.wasReady) {
      life.exit(1, 'main returned without calling ctx.ready() (readiness "notify")');
    }
    await life.notified; // systemd hears STOPPING=1 before the exit
    if (stop === null) life.exit(0, "main returned");
    life.exit(0, `stopped by ${stop}`);
  }
}

function stopRequested(life: Life): Promise<void> {
  const signal = life.controller.signal;
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** One run of main: how it ended (an uncaught error in the program ends it too). */
function runMain(life: Life): Promise<Ending> {
  return new Promise<Ending>((resolve) => {
    life.onFailure = (why, error) => resolve({ failed: true, why, error });
    let result: unknown;
    try {
      result = life.entry!.main(life.ctx);
    } catch (error) {
      return resolve({ failed: true, why: "main threw", error });
    }
    Promise.resolve(result).then(
      () => {
        if (life.options.readiness === "auto") life.ready();
        resolve({ failed: false });
      },
      (error) => resolve({ failed: true, why: "main failed", error }),
    );
  });
}

// An uncaught exception or unhandled rejection ends the daemon, unless the
// program handles it itself (calls preventDefault in its own listener,
// whether that listener was added before this one or after).
export function onUncaught(life: Life): void {
  for (const type of ["unhandledrejection", "error"] as const) {
    addEventListener(type, (event: Event) => {
      let handled = event.defaultPrevented;
      const prevent = event.preventDefault.bind(event);
      Object.defineProperty(event, "preventDefault", {
        value: () => {
          handled = true;
          prevent();
        },
      });
      prevent();
      queueMicrotask(() => {
        if (handled) return;
        const reason = type === "error" ? (event as ErrorEvent).error : (
          event as PromiseRejectionEvent
        ).reason;
        life.onFailure(
          type === "error" ? "uncaught exception" : "unhandled promise rejection",
          reason,
        );
      });
    });
  }
}
