// What a launcher tells the daemon it starts, through one environment
// variable (removed at once, so the program's own children never see it):
// the arguments stay exactly the program's own.

import { DaemonError } from "./errors.ts";
import type { PortableOptions } from "./_portable.ts";

export const LAUNCH_ENV = "DAEMONIZE_LAUNCH";

/**
 * Set, to a token, in the environment of a daemon script that a
 * `Daemon` controller runs to learn the script's own options:
 * `daemonize` then prints one line, the token and a JSON
 * {@linkcode ScriptDescription}, and exits without running any command.
 */
export const DESCRIBE_ENV = "DAEMONIZE_DESCRIBE";

/** What a script says about itself when asked to describe. */
export type ScriptDescription =
  | { options: PortableOptions & { denoArgs?: string[] } }
  | { error: { code: string; message: string } };

export interface LaunchSpec {
  /** The directory the launcher ran in: the base for the module's own relative paths. */
  cwd: string;
  /** Options the launcher was given, paths absolute; laid over the module's. */
  options: PortableOptions;
  /** Marks the daemon's messages on its raw stderr (see lib/launcher/_keeper.ts). */
  nonce: string;
  /** With a restart policy: the `dev:ino` of the pidfile the keeper locked. */
  keeperLock: string | null;
}

/** The one message the daemon sends the launcher about its start. */
export type ReadyMessage =
  | { ok: true; pid: number; startedAt: string | null; mainPid: number }
  | { ok: false; code: string; message: string };

function isSpec(value: unknown): value is LaunchSpec {
  const v = value as LaunchSpec;
  return typeof v === "object" && v !== null && typeof v.cwd === "string" &&
    typeof v.options === "object" && v.options !== null && typeof v.nonce === "string" &&
    (v.keeperLock === null || typeof v.keeperLock === "string");
}

/**
 * Reads (and removes) the launch spec: null in a process the library did
 * not launch.
 *
 * @throws {DaemonError} `BAD_OPTION` when the variable is set but is not a
 * launch spec (set by hand, or inherited from another program).
 */
export function takeLaunchSpec(): LaunchSpec | null {
  if (Deno.permissions.querySync({ name: "env", variable: LAUNCH_ENV }).state !== "granted") {
    return null;
  }
  const raw = Deno.env.get(LAUNCH_ENV);
  if (raw === undefined) return null;
  Deno.env.delete(LAUNCH_ENV);
  let spec: unknown;
  try {
    spec = JSON.parse(raw);
  } catch {
    spec = null;
  }
  if (!isSpec(spec)) {
    throw new DaemonError(
      "BAD_OPTION",
      `the environment variable ${LAUNCH_ENV} is set but was not written by this library's start; unset it`,
    );
  }
  return spec;
}
