// Sending a signal to a process or a process group. Deno.kill needs an
// unscoped --allow-run; a program granted only --allow-run=/bin/sh,<deno>
// (what start needs) signals through the shell's kill builtin instead.

import { DaemonError } from "../errors.ts";
import { SHELL } from "./_shell.ts";

/** The signals the launcher sends. */
export type LauncherSignal = "SIGTERM" | "SIGKILL" | "SIGHUP" | "SIGCONT";

/**
 * Sends `sig` to `pid`, or to process group `-pid` when `pid` is negative.
 * A target that is gone is not an error.
 *
 * @throws {DaemonError} `PERMISSION` when it may not be signalled.
 */
export function signal(pid: number, sig: LauncherSignal): void {
  const what = pid < 0 ? `process group ${-pid}` : `pid ${pid}`;
  try {
    Deno.kill(pid, sig);
    return;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return; // exited meanwhile
    if (!(err instanceof Deno.errors.NotCapable)) {
      throw new DaemonError(
        "PERMISSION",
        `cannot send ${sig} to ${what}: ${String(err)}; is it another user's?`,
        { cause: err },
      );
    }
  }
  if (Deno.permissions.querySync({ name: "run", command: SHELL }).state !== "granted") {
    throw new DaemonError(
      "PERMISSION",
      `signalling ${what} needs --allow-run (or --allow-run=${SHELL})`,
    );
  }
  const out = new Deno.Command(SHELL, {
    args: ["-c", 'kill -s "$1" -- "$2" 2>&1', "daemonize", sig.slice(3), String(pid)],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  const said = new TextDecoder().decode(out.stdout);
  if (!out.success && !/no such process/i.test(said)) {
    throw new DaemonError(
      "PERMISSION",
      `cannot send ${sig} to ${what}: ${said.trim()}; is it another user's?`,
    );
  }
}
