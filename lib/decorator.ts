/**
 * The `@daemon(options)` class decorator: the class form of a daemon, heir
 * of the Python `Daemon` class. The decorator only records the options; the
 * class is checked and instantiated by `daemonize`, inside the daemon.
 *
 * @module
 */

import { DaemonError } from "./errors.ts";
import type { DaemonClass, DaemonInstance, DaemonMain, DaemonOptions } from "./types.ts";

const registry = new WeakMap<DaemonClass, DaemonOptions>();

/**
 * Declares a class as a daemon: `run(ctx)` is its main, the optional
 * `reload(ctx)` runs on SIGHUP. Works as a standard (TC39) decorator and
 * under `experimentalDecorators`. Needs no permission: it only records the
 * options, which `daemonize(TheClass)` then uses.
 *
 * @example The class form
 * ```ts
 * import { daemon, type DaemonContext, daemonize } from "@daemonize/daemon";
 * import { setTimeout as sleep } from "node:timers/promises";
 *
 * @daemon({ name: "svc", pidFile: "svc.pid", logFile: "svc.log" })
 * class Service {
 *   async run(ctx: DaemonContext) {
 *     while (!ctx.signal.aborted) {
 *       ctx.logger.info("tick");
 *       await sleep(1000, undefined, { signal: ctx.signal }).catch(() => {});
 *     }
 *   }
 *   reload(ctx: DaemonContext) {
 *     ctx.logger.info("reloaded");
 *   }
 * }
 * if (import.meta.main) await daemonize(Service);
 * ```
 *
 * @param options The daemon's options; `daemonize(Class, extra)` lays `extra` over them.
 */
export function daemon(
  options: DaemonOptions = {},
): <C extends DaemonClass>(
  value: C,
  context?: ClassDecoratorContext<C>,
) => void {
  return (value, context) => {
    if (
      typeof value !== "function" ||
      (context !== undefined && context.kind !== "class")
    ) {
      throw new DaemonError("BAD_OPTION", "@daemon() decorates classes only");
    }
    registry.set(value, options);
  };
}

/** A daemon's code and options, given as a function or a class. */
export interface CodeTarget {
  options: DaemonOptions;
  main: DaemonMain;
  /** The class's `reload`, when it has one. */
  reload: DaemonMain | null;
  module: null;
}

/** The module form: options, and the module whose default export is the code. */
export interface ModuleTarget {
  options: DaemonOptions;
  /** A `file:` URL, imported only in the daemon and by `run` (lib/_module.ts). */
  module: URL;
}

/** A daemon's code and options, whichever form it was given in. */
export type DaemonTarget = CodeTarget | ModuleTarget;

/** The options `@daemon` recorded for `value`, if it was decorated. */
export function registeredOptions(value: DaemonClass): DaemonOptions | undefined {
  return registry.get(value);
}

function isClass(value: DaemonMain | DaemonClass): value is DaemonClass {
  return registry.has(value as DaemonClass) ||
    /^class\b/.test(Function.prototype.toString.call(value));
}

/**
 * Turns what `daemonize` was given into one shape, so all forms share one
 * implementation. The class is instantiated on first use, in the daemon; a
 * module is only checked here (a `file:` URL) and imported by the daemon.
 *
 * @throws {DaemonError} `BAD_OPTION` for anything but a function, a class
 * with `run` or a `file:` URL.
 */
export function toTarget(
  main: DaemonMain | DaemonClass,
  extra: DaemonOptions | undefined,
): CodeTarget;
export function toTarget(
  main: DaemonMain | DaemonClass | URL,
  extra: DaemonOptions | undefined,
): DaemonTarget;
export function toTarget(
  main: DaemonMain | DaemonClass | URL,
  extra: DaemonOptions | undefined,
): DaemonTarget {
  if (typeof main !== "function" && !(main instanceof URL)) {
    throw new DaemonError(
      "BAD_OPTION",
      `daemonize() takes an async function, a class with run(ctx) or a module's URL, got ${
        main === null ? "null" : typeof main
      }` +
        (typeof main === "string"
          ? `; for a module pass new URL(${JSON.stringify(main)}, import.meta.url)`
          : ""),
    );
  }
  if (extra !== undefined && (typeof extra !== "object" || extra === null)) {
    throw new DaemonError(
      "BAD_OPTION",
      "daemonize()'s second argument must be an options object",
    );
  }
  if (main instanceof URL) {
    if (main.protocol !== "file:") {
      throw new DaemonError(
        "BAD_OPTION",
        `daemonize() takes the main module as a file: URL, such as new URL("./server.ts", import.meta.url); got ${main.href}`,
      );
    }
    return { options: extra ?? {}, module: main };
  }
  if (!isClass(main)) return { options: extra ?? {}, main, reload: null, module: null };

  const Class = main;
  const proto: Partial<DaemonInstance> = Class.prototype;
  if (typeof proto.run !== "function") {
    throw new DaemonError(
      "BAD_OPTION",
      `class ${Class.name || "(anonymous)"} has no run(ctx) method; add one`,
    );
  }
  let instance: DaemonInstance | null = null;
  const get = (): DaemonInstance => instance ??= new Class();
  return {
    options: { ...registry.get(Class), ...extra },
    main: (ctx) => get().run(ctx),
    reload: typeof proto.reload === "function" ? (ctx) => get().reload!(ctx) : null,
    module: null,
  };
}
