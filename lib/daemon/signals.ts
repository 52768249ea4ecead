/**
 * Daemon-side signals. A process with no listener for a signal dies on the
 * spot, without flushing its log; so listeners for every catchable signal
 * that would end the daemon are installed before anything else:
 *
 * - SIGTERM, SIGINT, SIGQUIT: stop (abort `ctx.signal`); a second one ends
 *   the process at once.
 * - SIGHUP: reload (reopen the log, call `reload` / `onReload`).
 * - SIGUSR1: logged and ignored, unless `sigusr1: "inspector"` (Deno opens
 *   the V8 inspector on it).
 * - SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGSTKFLT, SIGXCPU,
 *   SIGXFSZ, SIGABRT: logged as the reason, then a stop like SIGTERM's, and
 *   the exit code says which signal (128 + its number).
 *
 * SIGPIPE is ignored (Deno's default). Real-time signals cannot be caught in
 * Deno and still end the process.
 *
 * @module
 */

/** The signals that stop the daemon as a request (exit code 0 once main returns). */
export const STOP_SIGNALS = ["SIGTERM", "SIGINT", "SIGQUIT"] as const;
/** Signals whose default would kill the daemon, taken as a reason to stop. */
export const FATAL_SIGNALS = [
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
] as const;

/** A signal that ends the daemon. */
export type EndSignal = (typeof STOP_SIGNALS)[number] | (typeof FATAL_SIGNALS)[number];

const NUMBERS: Record<EndSignal, number> = {
  SIGTERM: 15,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGUSR2: 12,
  SIGALRM: 14,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGIO: 29,
  SIGPWR: 30,
  SIGSTKFLT: 16,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGABRT: 6,
};

/** What the daemon does on each kind of signal. */
export interface SignalHandlers {
  stop(signal: EndSignal): void;
  reload(): void;
  usr1(): void;
}

/** Installs the listeners, for the life of the process. */
export function listenForSignals(handlers: SignalHandlers): void {
  Deno.addSignalListener("SIGINT", () => handlers.stop("SIGINT"));
  if (Deno.build.os === "windows") return;
  for (const signal of [...STOP_SIGNALS, ...FATAL_SIGNALS]) {
    if (signal === "SIGINT") continue;
    if (Deno.build.os !== "linux" && (signal === "SIGSTKFLT" || signal === "SIGPWR")) continue;
    Deno.addSignalListener(signal, () => handlers.stop(signal));
  }
  Deno.addSignalListener("SIGHUP", () => handlers.reload());
  Deno.addSignalListener("SIGUSR1", () => handlers.usr1());
}

/** The conventional exit code of a process ended by `signal`. */
export function signalExitCode(signal: EndSignal): number {
  return 128 + NUMBERS[signal];
}

/** Whether `signal` is a request to stop (rather than an accident). */
export function isStopRequest(signal: EndSignal): boolean {
  return (STOP_SIGNALS as readonly string[]).includes(signal);
}
