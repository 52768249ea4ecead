import { DaemonError } from "../errors.ts";

/** Start, stop and status need POSIX sessions, signals and flock; `run` works everywhere. */
export function assertSupported(command: string): void {
  if (Deno.build.os === "windows") {
    throw new DaemonError(
      "UNSUPPORTED",
      `"${command}" is not supported on Windows; use "run" in the foreground (for example under a service manager)`,
    );
  }
}
