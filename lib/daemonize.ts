/**
 * `daemonize(main, options)`: the entry point of a daemon script. In the
 * launcher it reads the command (`start`, `stop`, `restart`, `status`,
 * `reload`, `logs`, `run`) and does it; in the re-executed daemon it runs `main`.
 *
 * @module
 */

import { reportError, runCommandLine } from "./cli.ts";
import { toTarget } from "./decorator.ts";
import { assertNotLoading, loadModule } from "./_module.ts";
import { DaemonError } from "./errors.ts";
import {
  DESCRIBE_ENV,
  type LaunchSpec,
  type ScriptDescription,
  takeLaunchSpec,
} from "./_launch.ts";
import { moduleStem, resolveOptions } from "./options.ts";
import { layOver, portableOptions } from "./_portable.ts";
import { assertDenoVersion } from "./_version.ts";
import { KeeperChannel } from "./daemon/_channel.ts";
import { launchDirectory } from "./_cwd.ts";
import type { DaemonClass, DaemonMain, DaemonOptions } from "./types.ts";

/** The token a controller set to ask this script for its options, or null. */
function describeToken(): string | null {
  if (
    Deno.permissions.querySync({ name: "env", variable: DESCRIBE_ENV }).state !== "granted"
  ) {
    return null;
  }
  return Deno.env.get(DESCRIBE_ENV) ?? null;
}

// Describe mode: one line, the controller's token and the script's own
// options as given (paths made absolute), then exit. No command runs.
function describe(token: string, description: ScriptDescription): never {
  Deno.stdout.writeSync(new TextEncoder().encode(`\n${token} ${JSON.stringify(description)}\n`));
  Deno.exit("error" in description ? 1 : 0);
}

/**
 * Runs the command on the command line (`options.args`, default
 * `Deno.args`) for the daemon `main`, then exits the process with that
 * command's exit code: it never returns.
 *
 * `main` is an async function receiving a {@linkcode DaemonContext}, a
 * class decorated with {@linkcode daemon} (then `options` are laid over the
 * decorator's), or the `file:` URL of a module whose default export is one
 * of those. A module is imported only by the daemon and by `run`, never by
 * `start`, `stop`, `status` and the other commands, so they do not pay for
 * its imports (a web framework, a database driver). Its options are the ones
 * given here: a default-exported class may use `@daemon()` only without
 * options. A module that is missing, has no default export or exports
 * something else is `BAD_OPTION`, reported by `start`. The URL is imported
 * by a computed specifier: `deno check` it on its own, and give it to
 * `deno compile` with `--include`.
 *
 * @example A worker that runs until stopped
 * ```ts
 * import { daemonize } from "@daemonize/daemon";
 * import { setTimeout as sleep } from "node:timers/promises";
 *
 * async function main({ signal, logger }: import("@daemonize/daemon").DaemonContext) {
 *   logger.info("worker up");
 *   while (!signal.aborted) {
 *     await sleep(1000, undefined, { signal }).catch(() => {}); // stop cuts it short
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
 * deno run -A app.ts run -- --verbose   # after --: the program's own ctx.args
 * ```
 *
 * @example Keep commands fast: main in a module only the daemon imports
 * ```ts
 * import { daemonize } from "@daemonize/daemon";
 *
 * // server.ts: `export default async function main(ctx: DaemonContext) {...}`,
 * // with its heavy imports at its top.
 * if (import.meta.main) {
 *   await daemonize(new URL("./server.ts", import.meta.url), {
 *     name: "api",
 *     pidFile: "api.pid",
 *     logFile: "api.log",
 *   });
 * }
 * ```
 *
 * Permissions: what each command needs is in the README's Permissions table
 * (`-A` covers them all); the daemon gets the launcher's global grants, and
 * scoped ones through `denoArgs`.
 *
 * @param main The daemon's code, or the URL of the module that holds it.
 * @param options Its options.
 */
export async function daemonize(
  main: DaemonMain | DaemonClass | URL,
  options?: DaemonOptions,
): Promise<never> {
  assertNotLoading();
  let name = moduleStem(Deno.mainModule);
  let line: readonly string[] = Deno.args;
  let code: number;
  let spec: LaunchSpec | null = null;
  let token: string | null = null;
  try {
    assertDenoVersion();
    spec = takeLaunchSpec();
    token = spec === null ? describeToken() : null;
    const target = toTarget(main, options);
    line = Array.isArray(target.options.args) ? target.options.args : Deno.args;
    const given = spec === null ? target.options : layOver(target.options, spec.options);
    if (typeof given.name === "string" && given.name.trim() !== "") name = given.name;
    // The daemon's arguments are the program's own (start passed only
    // those); on the command line they come after `--`.
    const launchCwd = spec?.cwd ?? launchDirectory();
    const resolved = resolveOptions(given, {
      cwd: launchCwd,
      mainModule: Deno.mainModule,
      args: spec === null ? [] : Deno.args,
    });
    name = resolved.name;
    if (token !== null) {
      const options = {
        ...portableOptions(target.options, launchCwd),
        denoArgs: target.options.denoArgs,
      };
      describe(token, { options });
    }
    // The module form's code is imported only here, by the daemon and `run`.
    const entry = async () => {
      const code = target.module === null ? target : await loadModule(target.module);
      return { main: code.main, reload: code.reload ?? resolved.onReload };
    };
    if (spec !== null) {
      const { runDaemon } = await import("./daemon/run.ts");
      return await runDaemon(entry, resolved, "daemon", spec);
    }
    code = await runCommandLine({
      entry,
      options: resolved,
      given: target.options,
      line,
      launchCwd,
    });
  } catch (err) {
    if (token !== null) {
      const e = err instanceof DaemonError ? err : new DaemonError("START_FAILED", String(err));
      describe(token, { error: { code: e.code, message: e.message } });
    }
    // Said on raw stderr (the log) first, so the launcher's tail of the log has it.
    code = reportError(name, err, spec === null ? line : []);
    if (spec !== null) {
      const e = err instanceof DaemonError ? err : new DaemonError("START_FAILED", String(err));
      new KeeperChannel(spec.nonce).tell({ ok: false, code: e.code, message: e.message });
    }
  }
  Deno.exit(code);
}
