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

/** Installs the listeners; returns a function that removes them. */
export function listenForSignals(handlers: SignalHandlers): () => void {
  if (Deno.build.os === "windows") {
    const onInt = () => handlers.stop("SIGINT");
    Deno.addSignalListener("SIGINT", onInt);
    return () => Deno.removeSignalListener("SIGINT", onInt);
  }
  const onTerm = () => handlers.stop("SIGTERM");
  const onInt = () => handlers.stop("SIGINT");
  const onHup = () => handlers.reload();
  Deno.addSignalListener("SIGTERM", onTerm);
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGHUP", onHup);
  return () => {
    Deno.removeSignalListener("SIGTERM", onTerm);
    Deno.removeSignalListener("SIGINT", onInt);
    Deno.removeSignalListener("SIGHUP", onHup);
  };
}

/** The conventional exit code of a process ended by `signal`. */
export function signalExitCode(signal: "SIGTERM" | "SIGINT"): number {
  return signal === "SIGTERM" ? 143 : 130;
}
