/**
 * `daemonize(main, options)`: the entry point of a daemon script. In the
 * launcher it reads the command (`start`, `stop`, `restart`, `status`, `run`)
 * and does it; in the re-executed daemon it runs `main`.
 *
 * @module
 */

import { reportError, runCommandLine } from "./cli.ts";
import { toTarget } from "./decorator.ts";
import { DaemonError } from "./errors.ts";
import { type LaunchSpec, takeLaunchSpec } from "./_launch.ts";
import { moduleStem, resolveOptions } from "./options.ts";
import { KeeperChannel } from "./daemon/_channel.ts";
import type { DaemonClass, DaemonMain, DaemonOptions } from "./types.ts";

// The launcher's options win, but variables in `env` are merged: a
// controller's env adds to the module's rather than replacing it.
function layOver(own: DaemonOptions, launcher: DaemonOptions): DaemonOptions {
  const merged = { ...own, ...launcher };
  if (own.env !== undefined && launcher.env !== undefined) {
    merged.env = { ...own.env, ...launcher.env };
  }
  return merged;
}

/**
 * Runs the command on the command line (`options.args`, default
 * `Deno.args`) for the daemon `main`, then exits the process with that
 * command's exit code: it never returns.
 *
 * `main` is an async function receiving a {@linkcode DaemonContext}, or a
 * class decorated with {@linkcode daemon} (then `options` are laid over the
 * decorator's).
 *
 * @example A worker that runs until stopped
 * ```ts
 * import { daemonize } from "@daemonize/daemon";
 *
 * async function main({ signal, logger }: import("@daemonize/daemon").DaemonContext) {
 *   logger.info("worker up");
 *   while (!signal.aborted) {
 *     await new Promise((resolve) => setTimeout(resolve, 1000));
 *   }
 * }
 *
 * if (import.meta.main) {
 *   await daemonize(main, { name: "app", pidFile: "app.pid", logFile: "app.log" });
 * }
 * ```
 *
 * ```sh
 * deno run -A app.ts start    # prints "started app (pid N)" once it is up
 * deno run -A app.ts status
 * deno run -A app.ts stop
 * ```
 *
 * @param main The daemon's code.
 * @param options Its options.
 */
export async function daemonize(
  main: DaemonMain | DaemonClass,
  options?: DaemonOptions,
): Promise<never> {
  let name = moduleStem(Deno.mainModule);
  let code: number;
  let spec: LaunchSpec | null = null;
  try {
    spec = takeLaunchSpec();
    const target = toTarget(main, options);
    const resolved = resolveOptions(
      spec === null ? target.options : layOver(target.options, spec.options),
      { cwd: spec?.cwd ?? Deno.cwd(), mainModule: Deno.mainModule },
    );
    name = resolved.name;
    const entry = {
      main: target.main,
      reload: target.reload ?? resolved.onReload,
    };
    if (spec !== null) {
      const { runDaemon } = await import("./daemon/run.ts");
      return await runDaemon(entry, resolved, "daemon", Deno.args, spec);
    }
    code = await runCommandLine({
      entry,
      options: resolved,
      given: target.options,
    });
  } catch (err) {
    if (spec !== null) {
      const e = err instanceof DaemonError ? err : new DaemonError("START_FAILED", String(err));
      new KeeperChannel(spec.nonce).tell({ ok: false, code: e.code, message: e.message });
    }
    code = reportError(name, err);
  }
  Deno.exit(code);
}
