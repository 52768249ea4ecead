/**
 * Daemon-side signals. SIGTERM and SIGINT abort `ctx.signal`; a second one
 * ends the process at once; SIGHUP reloads. Listeners are installed before
 * anything else, because a process with no SIGTERM listener dies on the spot
 * (exit 143) without flushing its log. SIGUSR1 is never used: Deno opens the
 * V8 inspector on it.
 *
 * @module
 */

/** What the daemon does on each kind of signal. */
export interface SignalHandlers {
  stop(signal: "SIGTERM" | "SIGINT"): void;
  reload(): void;
}

/** Installs the listeners, for the life of the process. */
export function listenForSignals(handlers: SignalHandlers): void {
  Deno.addSignalListener("SIGINT", () => handlers.stop("SIGINT"));
  if (Deno.build.os === "windows") return;
  Deno.addSignalListener("SIGTERM", () => handlers.stop("SIGTERM"));
  Deno.addSignalListener("SIGHUP", () => handlers.reload());
}

/** The conventional exit code of a process ended by `signal`. */
export function signalExitCode(signal: "SIGTERM" | "SIGINT"): number {
  return signal === "SIGTERM" ? 143 : 130;
}
