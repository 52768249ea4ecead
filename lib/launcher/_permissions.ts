// Rebuilds `deno run` permission flags for the re-executed daemon. Deno only
// reports global grants (a scoped --allow-write=/srv reads as "prompt"), so
// scoped grants must come through the denoArgs option.

import { LAUNCH_ENV, READY_FD_PATH } from "../_launch.ts";

const NAMES = [
  "read",
  "write",
  "net",
  "env",
  "sys",
  "run",
  "ffi",
  "import",
] as const;

function granted(name: (typeof NAMES)[number]): boolean {
  return Deno.permissions.querySync({ name }).state === "granted";
}

/** The flags that give the daemon this process's global grants plus what the library needs. */
export function permissionFlags(): string[] {
  const have = NAMES.filter(granted);
  if (have.length === NAMES.length) return ["--allow-all"];
  const flags = have.map((name) => `--allow-${name}`);
  // The daemon must read its launch spec and write its readiness line
  // whatever the user granted.
  if (!have.includes("env")) flags.push(`--allow-env=${LAUNCH_ENV}`);
  if (!have.includes("write")) flags.push(`--allow-write=${READY_FD_PATH}`);
  return flags;
}

/** The commands `start` runs, and whether this process may run them. */
export function missingRunGrants(commands: readonly string[]): string[] {
  return commands.filter((command) =>
    Deno.permissions.querySync({ name: "run", command }).state !== "granted"
  );
}
