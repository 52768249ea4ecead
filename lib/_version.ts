// The oldest Deno the library runs on, checked first by every entry point.

import { DaemonError } from "./errors.ts";

/**
 * The oldest Deno the library runs on: older ones lack `FsFile.tryLockSync`
 * (checked: 2.6.8 fails, 2.7.1 works; 2.7.0 is not on npm to try).
 */
export const MIN_DENO = "2.7.1";

/**
 * Throws `UNSUPPORTED` on a Deno older than {@linkcode MIN_DENO}: a version
 * compare, cheap enough to come before anything else.
 */
export function assertDenoVersion(version: string = Deno.version.deno): void {
  const have = version.split(/[.+-]/, 3).map(Number);
  const need = MIN_DENO.split(".").map(Number);
  for (let i = 0; i < need.length; i++) {
    if (have[i] === need[i]) continue;
    if (have[i] > need[i]) return;
    throw new DaemonError(
      "UNSUPPORTED",
      `@daemonize/daemon needs Deno ${MIN_DENO} or newer, and this is Deno ${version}; upgrade Deno (deno upgrade)`,
    );
  }
}
