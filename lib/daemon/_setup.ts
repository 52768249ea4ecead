// Step 1 of a daemon's life, up to main: the pidfile lock, the process
// (umask, cwd, env), the program's code, logging, the raw output files.

import { DaemonError } from "../errors.ts";
import { faultPoint } from "../_fault.ts";
import type { LaunchSpec } from "../_launch.ts";
import type { DaemonEntry, Life } from "./_life.ts";
import { PidFileLock } from "./_lock.ts";
import { RawTargets } from "./_raw.ts";
import { setUpLogging } from "./logging.ts";

// A started daemon got its umask from the keeper; Deno.umask() needs the
// whole of --allow-sys. Set again where allowed, for a module whose own
// umask the launcher (a Daemon controller) did not know.
function applyUmask(umask: number): void {
  if (Deno.build.os === "windows") return;
  if (Deno.permissions.querySync({ name: "sys" }).state === "granted") Deno.umask(umask);
}

function enterCwd(cwd: string): void {
  try {
    if (Deno.cwd() !== cwd) Deno.chdir(cwd);
  } catch (err) {
    throw new DaemonError(
      "BAD_OPTION",
      `option "cwd" names "${cwd}", which is not a directory that can be entered`,
      { cause: err },
    );
  }
}

// A started daemon got the launcher's env already; what a controller's
// launcher did not know (the module's own env) is set here where allowed.
function applyEnv(env: Readonly<Record<string, string>>, daemon: boolean): void {
  for (const [name, value] of Object.entries(env)) {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      if (daemon) continue;
      throw new DaemonError(
        "PERMISSION",
        `option "env" sets ${name}, which needs --allow-env (or --allow-env=${name})`,
      );
    }
    if (Deno.env.get(name) !== value) Deno.env.set(name, value);
  }
}

/**
 * Step 1 up to main: the lock, the process, the program's code, logging,
 * raw output.
 */
export async function setUp(
  life: Life,
  spec: LaunchSpec | null,
  load: () => Promise<DaemonEntry>,
): Promise<void> {
  const { options } = life;
  applyUmask(options.umask);
  if (options.pidFile !== null) {
    faultPoint("daemon-before-lock");
    if (spec?.keeperLock) {
      life.lock = PidFileLock.underKeeper(options.pidFile, spec.keeperLock, Deno.pid);
    } else {
      const got = await PidFileLock.acquire(options.pidFile, Deno.pid);
      if (!(got instanceof PidFileLock)) {
        const pid = got.heldBy;
        if (pid === null) {
          // Locked, but not by a daemon of ours: those always write their pid.
          throw new DaemonError(
            "BAD_PIDFILE",
            `pidFile "${options.pidFile}" is locked by another program that wrote no pid; find it with: fuser ${options.pidFile}`,
          );
        }
        throw new DaemonError(
          "ALREADY_RUNNING",
          `${options.name} is already running (pid ${pid}, pidFile "${options.pidFile}"); stop it first`,
        );
      }
      life.lock = got;
    }
    faultPoint("daemon-after-lock");
  }
  enterCwd(options.cwd);
  applyEnv(options.env, life.daemon);
  // The module form's code (its top-level code too) runs only in the daemon
  // that holds the lock, and before logging: a module that configures
  // LogTape itself is seen doing so.
  life.entry = await load();
  life.logging = setUpLogging(options, !life.daemon);
  if (life.channel !== null) life.raw = RawTargets.open(options, life.channel);
}
