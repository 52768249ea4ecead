// What a launcher tells the daemon it re-executes, through one environment
// variable: arguments stay exactly the user's, and nothing else needs to
// agree on a hidden command-line syntax.

import type { PortableOptions } from "./options.ts";

export const LAUNCH_ENV = "DAEMONIZE_LAUNCH";
/** The daemon writes its one readiness line here (the launcher's pipe). */
export const READY_FD_PATH = "/dev/fd/3";

export interface LaunchSpec {
  /** The directory the launcher ran in: the base for the module's own relative paths. */
  cwd: string;
  /** Options the launcher was given, paths absolute; laid over the module's. */
  options: PortableOptions;
}

/** The one line the daemon sends on the readiness channel. */
export type ReadyMessage =
  | { ok: true; pid: number }
  | { ok: false; code: string; message: string; pid?: number };

/** Reads (and removes, so the user's own children never see it) the launch spec. */
export function takeLaunchSpec(): LaunchSpec | null {
  if (
    Deno.permissions.querySync({ name: "env", variable: LAUNCH_ENV }).state !==
      "granted"
  ) {
    return null;
  }
  const raw = Deno.env.get(LAUNCH_ENV);
  if (raw === undefined) return null;
  Deno.env.delete(LAUNCH_ENV);
  return JSON.parse(raw) as LaunchSpec;
}
