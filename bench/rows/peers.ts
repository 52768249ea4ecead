// The peer tools that run a plain Deno workload (workloads/plain.ts) or,
// for python3-daemon, a Python one: start-stop-daemon, daemonize and
// python3-daemon. pm2 has its own file.

import { runQuietly } from "../_measure.ts";
import { executable, pidFileOf, type Row, type RowContext } from "./_row.ts";

function findProgram(name: string): string | null {
  for (const dir of ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin"]) {
    if (executable(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return null;
}

function plain(ctx: RowContext): string[] {
  return ["run", "-A", `${ctx.bench}/workloads/plain.ts`];
}

const SSD = findProgram("start-stop-daemon");

export const startStopDaemon: Row = {
  id: "start-stop-daemon",
  label: "start-stop-daemon + plain Deno workload",
  notes: "`start-stop-daemon --start --background --make-pidfile` running " +
    "`deno run -A workloads/plain.ts`; its start returns once it has forked, before the " +
    "workload is ready. Stop: `--stop --retry TERM/10/KILL/5 --remove-pidfile`, which " +
    "returns once kill(pid, 0) fails (the driver reaps the zombie at once, as init would). " +
    "Status: `--status`.",
  kind: "daemon",
  unavailable: () => Promise.resolve(SSD === null ? "start-stop-daemon not found (dpkg)" : null),
  start: (ctx) => ({
    cmd: SSD!,
    args: [
      "--start",
      "--background",
      "--make-pidfile",
      "--pidfile",
      pidFileOf(ctx),
      "--chdir",
      ctx.dir,
      "--exec",
      ctx.deno,
      "--",
      ...plain(ctx),
    ],
    env: ctx.env,
  }),
  stop: (ctx) => ({
    cmd: SSD!,
    args: ["--stop", "--pidfile", pidFileOf(ctx), "--remove-pidfile", "--retry", "TERM/10/KILL/5"],
    env: ctx.env,
  }),
  status: (ctx) => ({ cmd: SSD!, args: ["--status", "--pidfile", pidFileOf(ctx)], env: ctx.env }),
  removesPidFile: pidFileOf,
};

const DAEMONIZE = findProgram("daemonize");

export const daemonize: Row = {
  id: "daemonize",
  label: "daemonize (C) + plain Deno workload",
  notes: "`daemonize -p PID -l PID` running `deno run -A workloads/plain.ts`; it returns " +
    "once it has forked. It has no stop or status command: stop is what its manual " +
    "suggests, `kill $(cat PID)`, and it leaves the pidfile (stop→gone is the process alone).",
  kind: "daemon",
  unavailable: () =>
    Promise.resolve(
      DAEMONIZE === null ? "daemonize not installed (apt-get install daemonize)" : null,
    ),
  start: (ctx) => ({
    cmd: DAEMONIZE!,
    args: [
      "-c",
      ctx.dir,
      "-p",
      pidFileOf(ctx),
      "-l",
      pidFileOf(ctx),
      "-E",
      `BENCH_DIR=${ctx.dir}`,
      ctx.deno,
      ...plain(ctx),
    ],
    env: ctx.env,
  }),
  stop: (ctx) => ({
    cmd: "/bin/sh",
    args: ["-c", 'kill -TERM "$(cat "$1")"', "sh", pidFileOf(ctx)],
    env: ctx.env,
  }),
  status: () => null,
  removesPidFile: () => null,
  // daemonize never removes its pidfile; a fresh start must not see the old one.
  afterRun: (ctx) => Deno.remove(pidFileOf(ctx)).catch(() => {}),
};

const PYTHON = "/usr/bin/python3";

function python(ctx: RowContext, command: string) {
  return { cmd: PYTHON, args: [`${ctx.bench}/workloads/py_daemon.py`, command], env: ctx.env };
}

export const pythonDaemon: Row = {
  id: "python3-daemon",
  label: "python3-daemon (DaemonContext)",
  notes: "`workloads/py_daemon.py`: a `daemon.DaemonContext` with a `TimeoutPIDLockFile`; " +
    "start returns when the context has forked, before the daemon is ready. python3-daemon " +
    "has no stop or status: the script's stop sends SIGTERM and polls every 1 ms until the " +
    "pidfile and the process are gone; status reads the pidfile and /proc.",
  kind: "daemon",
  async unavailable() {
    if (!executable(PYTHON)) return `${PYTHON} not found`;
    const code = await runQuietly({ cmd: PYTHON, args: ["-c", "import daemon.pidfile"] });
    return code === 0 ? null : "python3-daemon not installed (apt-get install python3-daemon)";
  },
  start: (ctx) => python(ctx, "start"),
  stop: (ctx) => python(ctx, "stop"),
  status: (ctx) => python(ctx, "status"),
  removesPidFile: pidFileOf,
};
