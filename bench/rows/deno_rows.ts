// The rows made of Deno scripts in bench/: the library (function form, with
// a keeper that restarts main, the README's quick start, an app with a web
// framework imported at its top and the same app in the module form), the
// three floors, and `deno run` of an empty file, of the library alone and of
// LogTape alone.

import { runQuietly } from "../_measure.ts";
import { sessionMates } from "../_proc.ts";
import { pidFileOf, type Row, type RowContext } from "./_row.ts";

/** The library's resident helpers: its keeper shells, the rest of main's session. */
const keeper = (_ctx: RowContext, mainPid: number) => sessionMates(mainPid);

function script(
  id: string,
  label: string,
  path: string,
  notes: string,
  extra: Partial<Row> & { env?: Record<string, string> } = {},
): Row {
  const { env, ...rest } = extra;
  const run = (ctx: RowContext, command: string) => ({
    cmd: ctx.deno,
    args: ["run", "-A", `${ctx.bench}/${path}`, command],
    env: { ...ctx.env, ...env },
    cwd: ctx.dir,
  });
  return {
    id,
    label,
    notes,
    kind: "daemon",
    unavailable: () => Promise.resolve(null),
    start: (ctx) => run(ctx, "start"),
    stop: (ctx) => run(ctx, "stop"),
    status: (ctx) => run(ctx, "status"),
    removesPidFile: pidFileOf,
    ...rest,
  };
}

function once(id: string, label: string, path: string, notes: string): Row {
  return {
    id,
    label,
    notes,
    kind: "once",
    unavailable: () => Promise.resolve(null),
    start: (ctx) => ({
      cmd: ctx.deno,
      args: ["run", "-A", `${ctx.bench}/${path}`],
      env: ctx.env,
      cwd: ctx.dir,
    }),
    stop: () => null,
    status: () => null,
    removesPidFile: () => null,
  };
}

export const library = script(
  "library",
  "@daemonize/daemon (function form)",
  "workloads/library.ts",
  "`deno run -A workloads/library.ts start|stop|status`. Ready: main has written the " +
    "ready file (its first statement); the library reports ready to `start` a turn of the " +
    "event loop later. Stop: the daemon gone and its pidfile removed. Main's RSS is the " +
    "process running main; the keeper's shells are the helpers.",
  { helpers: keeper },
);

export const libraryKeeper = script(
  "keeper",
  '@daemonize/daemon, `restart: "on-failure"`',
  "workloads/library.ts",
  "The library row with a restart policy: the keeper holds the pidfile's lock and " +
    "restarts main. Crash: `kill -9` of the process running main, until its replacement " +
    "has written the ready file (restartDelay 100 ms, the default).",
  { helpers: keeper, crash: { restartDelayMs: 100 }, env: { BENCH_RESTART: "on-failure" } },
);

export const quickstart = script(
  "quickstart",
  "quick-start app (README), LogTape imported at its top",
  "workloads/quickstart.ts",
  "The README's quick start (`workloads/quickstart.ts`): it imports LogTape at its top, " +
    "so every command loads it. Ready: main has logged its two lines and written the ready file.",
  { helpers: keeper },
);

// The hono workloads have their own deno.json and lock (npm:hono stays out
// of the project's): cached here, untimed; skipped when that fails (offline).
function honoUnavailable(file: string) {
  return async (ctx: RowContext) => {
    const code = await runQuietly({
      cmd: ctx.deno,
      args: ["cache", "--frozen-lockfile", `${ctx.bench}/hono/${file}`],
      cwd: `${ctx.bench}/hono`,
    }, 120_000);
    return code === 0 ? null : `cannot cache npm:hono for bench/hono/${file} (offline?)`;
  };
}

export const honoTop = script(
  "hono",
  "app importing npm:hono at its top",
  "hono/top.ts",
  "`hono/top.ts`: the quick start with a Hono app served by `Deno.serve`, hono and LogTape " +
    "imported at the top of the daemon script, so start, status and stop load them. Ready: " +
    "it listens.",
  { helpers: keeper, unavailable: honoUnavailable("top.ts") },
);

export const honoModule = script(
  "hono-module",
  "the same app, module form",
  "hono/app.ts",
  '`hono/app.ts`: `daemonize(new URL("./server.ts", import.meta.url), options)`; ' +
    "`hono/server.ts` (the app, hono and LogTape) is imported by the daemon only, so " +
    "status and stop load the library alone.",
  { helpers: keeper, unavailable: honoUnavailable("app.ts") },
);

export const floorBare = script(
  "floor",
  "floor: re-exec + flock (bench/floor/bare.ts)",
  "floor/bare.ts",
  "Ready: the re-executed child holds the pidfile's flock, has written its pid and the " +
    "ready file. Its start returns after the child's one-line ready message. Stop: " +
    "SIGTERM (no listener: the child dies at once), wait for the lock, remove the pidfile.",
);

export const floorLogTape = script(
  "floor-logtape",
  "floor + LogTape line (bench/floor/logtape.ts)",
  "floor/logtape.ts",
  "As the bare floor, but before the ready file the child imports LogTape core, " +
    "configures a synchronous file sink and logs one line.",
);

export const floorGraceful = script(
  "floor-graceful",
  "floor + LogTape + graceful stop (bench/floor/graceful.ts)",
  "floor/graceful.ts",
  "The LogTape floor whose child also installs a SIGTERM listener that logs one line " +
    "through LogTape, flushes (LogTape's dispose) and exits: the fair floor for stop.",
);

export const denoEmpty = once(
  "deno-empty",
  "`deno run` of an empty file",
  "workloads/empty.ts",
  "One Deno boot: invocation to exit of `deno run -A workloads/empty.ts`; shown in the " +
    "status column (the reference for status) and as its start bar in the chart.",
);

export const denoLibrary = once(
  "deno-lib",
  "`deno run` of a file that imports the library",
  "workloads/import_lib.ts",
  '`deno run -A workloads/import_lib.ts` (`import "@daemonize/daemon"`), invocation to ' +
    "exit: one boot plus the library's module graph, what every command pays before its own work.",
);

export const denoLogTape = once(
  "deno-logtape",
  "`deno run` of a file that imports LogTape",
  "workloads/import_logtape.ts",
  '`deno run -A workloads/import_logtape.ts` (`import "@logtape/logtape"`), invocation to ' +
    "exit: what a script that imports LogTape at its top pays for it in every command.",
);
