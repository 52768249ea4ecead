// Fault injection for the reliability suite: a test's own daemon script
// names a point by setting globalThis[Symbol.for("@daemonize/daemon.fault")],
// and the process stops itself (SIGSTOP) when it reaches that point, so the
// test can SIGKILL it at exactly that step. Nothing in the environment can
// switch it on: only code in the program itself.

const KEY = Symbol.for("@daemonize/daemon.fault");

/** The named steps a test can stop a process at. */
export type FaultPoint =
  | "launcher-after-spawn"
  | "daemon-before-lock"
  | "daemon-after-lock"
  | "daemon-before-ready"
  | "daemon-after-ready"
  | "stop-after-signal";

/** Stops this process if the program armed `point`. */
export function faultPoint(point: FaultPoint): void {
  if ((globalThis as Record<symbol, unknown>)[KEY] === point) Deno.kill(Deno.pid, "SIGSTOP");
}
