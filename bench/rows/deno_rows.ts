// The rows made of Deno scripts in bench/: the library, the two floors, and
// `deno run` of an empty file.

import { pidFileOf, type Row, type RowContext } from "./_row.ts";

function script(id: string, label: string, path: string, notes: string): Row {
  const run = (ctx: RowContext, command: string) => ({
    cmd: ctx.deno,
    args: ["run", "-A", `${ctx.bench}/${path}`, command],
    env: ctx.env,
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
  };
}

export const library = script(
  "library",
  "@daemonize/daemon (function form)",
  "workloads/library.ts",
  "`deno run -A workloads/library.ts start|stop|status`. Ready: main has written the " +
    "ready file (its first statement); the library reports ready to `start` a turn of the " +
    "event loop later. Stop: the daemon gone and its pidfile removed.",
);

export const floorBare = script(
  "floor",
  "floor: re-exec + flock (bench/floor/bare.ts)",
  "floor/bare.ts",
  "Ready: the re-executed child holds the pidfile's flock, has written its pid and the " +
    "ready file. Its start returns after the child's one-line ready message. Stop: " +
    "SIGTERM, wait for the lock, remove the pidfile.",
);

export const floorLogTape = script(
  "floor-logtape",
  "floor + LogTape line (bench/floor/logtape.ts)",
  "floor/logtape.ts",
  "As the bare floor, but before the ready file the child imports LogTape core, " +
    "configures a synchronous file sink and logs one line.",
);

export const denoEmpty: Row = {
  id: "deno-empty",
  label: "`deno run` of an empty file",
  notes: "One Deno boot: invocation to exit of `deno run -A workloads/empty.ts`; shown in the " +
    "status column (the reference for status) and as its start bar in the chart.",
  kind: "once",
  unavailable: () => Promise.resolve(null),
  start: (ctx) => ({
    cmd: ctx.deno,
    args: ["run", "-A", `${ctx.bench}/workloads/empty.ts`],
    env: ctx.env,
    cwd: ctx.dir,
  }),
  stop: () => null,
  status: () => null,
  removesPidFile: () => null,
};
