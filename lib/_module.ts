// The module form, `daemonize(new URL("./server.ts", import.meta.url))`:
// the daemon's code lives in a module that only the daemon (and `run`)
// imports, so start, stop, status and the other commands never pay for its
// imports. The specifier is computed, so Deno does not load the module
// ahead of time either (and `deno compile` embeds it only with --include).

import { DaemonError } from "./errors.ts";
import { registeredOptions, toTarget } from "./decorator.ts";
import type { DaemonClass, DaemonMain } from "./types.ts";

/** The code a module holds: its main, and the class's `reload` when it has one. */
export interface ModuleCode {
  main: DaemonMain;
  reload: DaemonMain | null;
}

// "Error: boom (at file:///srv/server.ts:3:9)": where a module's own code threw.
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const at = /\(?(file:\/\/[^\s()]+:\d+:\d+)\)?/.exec(err.stack ?? "")?.[1];
  const where = at === undefined || err.message.includes(at) ? "" : ` (at ${at})`;
  return `${err.name}: ${err.message}${where}`;
}

// The main module being imported now: a daemonize() call from its
// top-level code is a mistake (see loadModule).
let loading: URL | null = null;

/**
 * Throws when called while the module form's main module loads: that module
 * called daemonize() itself, and would run a daemon of its own.
 */
export function assertNotLoading(): void {
  if (loading === null) return;
  throw new DaemonError(
    "BAD_OPTION",
    `the main module ${loading.href} calls daemonize() itself; the module given to daemonize() only exports its main (export default), or guards its own call with if (import.meta.main)`,
  );
}

function exists(url: URL): boolean {
  try {
    Deno.statSync(url);
    return true;
  } catch (err) {
    return !(err instanceof Deno.errors.NotFound);
  }
}

/**
 * Imports the module at `url` and turns its default export (the main
 * function, or a class with `run(ctx)`) into the daemon's code.
 *
 * @throws {DaemonError} `BAD_OPTION` when the module is missing, has no
 * default export, or exports something else by default, or is a class whose
 * `@daemon` options the commands could never see; `PERMISSION` when Deno
 * may not read it; `START_FAILED` when loading it throws.
 */
export async function loadModule(url: URL): Promise<ModuleCode> {
  // A computed import of a local file needs read access (an embedded one in
  // a compiled program does not).
  if (
    !Deno.build.standalone &&
    Deno.permissions.querySync({ name: "read", path: url }).state !== "granted"
  ) {
    throw new DaemonError(
      "PERMISSION",
      `the daemon may not read its main module ${url.pathname}: importing it needs --allow-read; grant it, or add "--allow-read=${url.pathname}" to the "denoArgs" option`,
    );
  }
  let exports: Record<string, unknown>;
  try {
    loading = url;
    exports = await import(url.href);
  } catch (err) {
    if (err instanceof DaemonError) throw err;
    if (!exists(url)) {
      throw new DaemonError(
        "BAD_OPTION",
        `the main module ${url.href} given to daemonize() does not exist` +
          (Deno.build.standalone
            ? `; a compiled program embeds it only when compiled with --include ${url.pathname}`
            : ""),
        { cause: err },
      );
    }
    throw new DaemonError(
      "START_FAILED",
      `the main module ${url.href} failed to load: ${describe(err)}`,
      { cause: err },
    );
  } finally {
    loading = null;
  }
  const main = exports.default;
  if (!("default" in exports) || main === undefined) {
    throw new DaemonError(
      "BAD_OPTION",
      `the main module ${url.href} has no default export; export default the main function or a class with run(ctx)`,
    );
  }
  if (typeof main !== "function") {
    throw new DaemonError(
      "BAD_OPTION",
      `the default export of ${url.href} is ${
        main === null ? "null" : `a ${typeof main}`
      }, not the main function or a class with run(ctx)`,
    );
  }
  const own = registeredOptions(main as DaemonClass);
  if (own !== undefined && Object.keys(own).length > 0) {
    throw new DaemonError(
      "BAD_OPTION",
      `the default export of ${url.href} has @daemon options (${
        Object.keys(own).join(", ")
      }), which start, stop and status never see (they do not load the module); give them to daemonize() instead and use @daemon() without options`,
    );
  }
  const { main: run, reload } = toTarget(main as DaemonMain | DaemonClass, undefined);
  return { main: run, reload };
}
