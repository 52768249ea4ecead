// The daemon's side of the readiness channel: one JSON line on fd 3, which
// the launcher's shell wrapper pointed at the launcher's pipe.

import { READY_FD_PATH, type ReadyMessage } from "../_launch.ts";

/** Sends `message` to the launcher; a launcher that is gone is not an error. */
export function tellLauncher(message: ReadyMessage): void {
  try {
    const channel = Deno.openSync(READY_FD_PATH, { write: true });
    try {
      channel.writeSync(
        new TextEncoder().encode(JSON.stringify(message) + "\n"),
      );
    } finally {
      channel.close();
    }
  } catch {
    // The launcher was killed or timed out: nobody is listening.
  }
}
