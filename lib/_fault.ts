// Fault injection for the reliability suite: with DAEMONIZE_FAULT=<point>
// in the environment, the process stops itself (SIGSTOP) when it reaches
// that point, so a test can SIGKILL it at exactly that step. Inert unless
// the variable is set and readable.

const VARIABLE = "DAEMONIZE_FAULT";

/** The named steps a test can stop a process at. */
export type FaultPoint =
  | "launcher-after-spawn"
  | "daemon-before-lock"
  | "daemon-after-lock"
  | "daemon-before-ready"
  | "stop-after-signal";

let armed: string | undefined | null = null;

/** Stops this process if DAEMONIZE_FAULT names `point`. */
export function faultPoint(point: FaultPoint): void {
  if (armed === null) {
    armed = Deno.permissions.querySync({ name: "env", variable: VARIABLE }).state === "granted"
      ? Deno.env.get(VARIABLE)
      : undefined;
  }
  if (armed === point) Deno.kill(Deno.pid, "SIGSTOP");
}
