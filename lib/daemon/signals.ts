/**
 * Daemon-side signals. A process with no listener for a signal dies on the
 * spot, without flushing its log; so the listeners for the signals that
 * stop, reload and debug are installed before anything else, and those for
 * the rest that would end the daemon as it becomes ready, before it says so:
 *
 * - SIGTERM, SIGINT, SIGQUIT: stop (abort `ctx.signal`); a second one ends
 *   the process at once.
 * - SIGHUP: reload (reopen the log, call `reload` / `onReload`).
 * - SIGUSR1: logged and ignored, unless `sigusr1: "inspector"` (Deno opens
 *   the V8 inspector on it).
 * - SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGSTKFLT, SIGXCPU,
 *   SIGXFSZ, SIGABRT, SIGTRAP, SIGSYS: their default would end the daemon
 *   without a word; they are logged and otherwise ignored, so a program that
 *   listens for one of them itself still gets it.
 *
 * SIGPIPE is ignored (Deno's default). SIGSEGV, SIGILL and SIGFPE cannot be
 * listened for in Deno, and SIGBUS is left alone (a handler that returns
 * would run a real bus error again forever); sent with kill, SIGSEGV and
 * SIGBUS do not end a Deno process. Real-time signals cannot be caught in
 * Deno and still end the process; the keeper logs such a death.
 *
 * @module
 */

/** The signals that stop the daemon as a request (exit code 0 once main returns). */
const STOP_SIGNALS = ["SIGTERM", "SIGINT", "SIGQUIT"] as const;
/** Signals whose default would kill the daemon: logged and ignored. */
const STRAY_SIGNALS = [
  "SIGUSR2",
  "SIGALRM",
  "SIGVTALRM",
  "SIGPROF",
  "SIGIO",
  "SIGPWR",
  "SIGSTKFLT",
  "SIGXCPU",
  "SIGXFSZ",
  "SIGABRT",
  "SIGTRAP",
  "SIGSYS",
] as const;

/** A signal that stops the daemon. */
export type StopSignal = (typeof STOP_SIGNALS)[number];
/** A signal that is logged and ignored. */
export type StraySignal = (typeof STRAY_SIGNALS)[number];

const NUMBERS: Record<StopSignal, number> = { SIGTERM: 15, SIGINT: 2, SIGQUIT: 3 };

/** What the daemon does on each kind of signal. */
export interface SignalHandlers {
  stop(signal: StopSignal | "SIGHUP"): void;
  reload(): void;
  usr1(): void;
  stray(signal: StraySignal): void;
}

/**
 * Installs the listeners for the signals that stop, reload and debug, for
 * the life of the process; returns a function that installs the rest, which
 * costs a few tenths of a millisecond the daemon pays as it becomes ready,
 * before it says so (until then, such a signal still ends it, and start
 * says which).
 */
export function listenForSignals(handlers: SignalHandlers): () => void {
  Deno.addSignalListener("SIGINT", () => handlers.stop("SIGINT"));
  if (Deno.build.os === "windows") return () => {};
  Deno.addSignalListener("SIGTERM", () => handlers.stop("SIGTERM"));
  Deno.addSignalListener("SIGQUIT", () => handlers.stop("SIGQUIT"));
  Deno.addSignalListener("SIGHUP", () => handlers.reload());
  Deno.addSignalListener("SIGUSR1", () => handlers.usr1());
  let installed = false;
  return () => {
    if (installed) return;
    installed = true;
    for (const signal of STRAY_SIGNALS) {
      if (Deno.build.os !== "linux" && (signal === "SIGSTKFLT" || signal === "SIGPWR")) continue;
      Deno.addSignalListener(signal, () => handlers.stray(signal));
    }
  };
}

/** The conventional exit code of a process ended by `signal`. */
export function signalExitCode(signal: StopSignal): number {
  return 128 + NUMBERS[signal];
}
