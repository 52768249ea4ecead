// Rebuilds `deno run` permission flags for the re-executed daemon. Deno only
// reports global grants (a scoped --allow-write=/srv reads as "prompt"), so
// scoped grants must come through the denoArgs option. A grant narrowed by
// --deny-* reads as "granted" but partial; Deno does not say what was
// denied, so the denial must come through denoArgs too, or the daemon would
// get more than its launcher had.

import { DaemonError } from "../errors.ts";
import { DESCRIBE_ENV, LAUNCH_ENV } from "../_launch.ts";
import { SHELL } from "./_shell.ts";

const NAMES = ["read", "write", "net", "env", "sys", "run", "ffi", "import"] as const;

/**
 * The flags that give the daemon this process's global grants plus what the
 * library needs, given the user's own `denoArgs`.
 *
 * @throws {DaemonError} `PERMISSION` when a grant is narrowed by a --deny-*
 * flag that `denoArgs` does not repeat.
 */
export function permissionFlags(denoArgs: readonly string[]): string[] {
  const flags: string[] = [];
  let partial = false;
  for (const name of NAMES) {
    const status = Deno.permissions.querySync({ name });
    if (status.state !== "granted") continue;
    partial ||= status.partial;
    if (status.partial && !denoArgs.some((a) => a.startsWith(`--deny-${name}`))) {
      const ran = name === "write" ? writeDeniedRunnables() : [];
      throw new DaemonError(
        "PERMISSION",
        ran.length > 0
          ? `Deno denies writing the programs --allow-run names (${
            ran.join(", ")
          }), which narrows --allow-write in a way it does not report; ` +
            `give --allow-run without a list, or repeat the denial in the "denoArgs" option: --deny-write=${
              ran.join(",")
            }`
          : `this process runs with a --deny-${name} flag, which Deno does not report; repeat it in the "denoArgs" option so the daemon is denied the same`,
      );
    }
    flags.push(`--allow-${name}`);
  }
  if (flags.length === NAMES.length && !partial) return ["--allow-all"];
  // The daemon must read its launch spec (or a controller's request to
  // describe itself) whatever the user granted.
  if (!flags.includes("--allow-env")) flags.push(`--allow-env=${LAUNCH_ENV},${DESCRIBE_ENV}`);
  return flags;
}

// Deno denies writing a binary that a scoped --allow-run names; the
// programs the library runs show whether that is what narrowed the grant.
function writeDeniedRunnables(): string[] {
  return [SHELL, Deno.execPath()].filter((path) =>
    Deno.permissions.querySync({ name: "run", command: path }).state === "granted" &&
    Deno.permissions.querySync({ name: "write", path }).state === "denied"
  );
}

/** The commands `start` runs, and whether this process may run them. */
export function missingRunGrants(commands: readonly string[]): string[] {
  return commands.filter((command) =>
    Deno.permissions.querySync({ name: "run", command }).state !== "granted"
  );
}
