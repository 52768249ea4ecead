// What a row of the table is: the commands that start, stop and query one
// daemonizer, all driven to the same workload contract (the daemon writes
// its pid to `${dir}/ready` once running, then idles until SIGTERM).

import type { Cmd } from "../_measure.ts";

/** Where a row runs. */
export interface RowContext {
  /** Absolute path of bench/. */
  bench: string;
  /** The bench's scratch root (shared by all rows). */
  tmp: string;
  /** This row's scratch directory: ready file, pidfile, log. */
  dir: string;
  /** The real Deno binary. */
  deno: string;
  /** Environment for the row's commands (BENCH_DIR is `dir`). */
  env: Record<string, string>;
}

/** One row of the table. */
export interface Row {
  id: string;
  label: string;
  /** What "ready" and "stop" mean for this row, for the notes under the table. */
  notes: string;
  /**
   * `"daemon"`: start, then status and stop; `"once"`: one command timed
   * from invocation to exit (`deno run` of an empty file).
   */
  kind: "daemon" | "once";
  /** Why the row cannot run on this machine, or null. Installs nothing. */
  unavailable(ctx: RowContext): Promise<string | null>;
  start(ctx: RowContext): Cmd;
  stop(ctx: RowContext): Cmd | null;
  /** null when the tool has no status command. */
  status(ctx: RowContext): Cmd | null;
  /** The pidfile its stop removes (stop→gone waits for it too), or null. */
  removesPidFile(ctx: RowContext): string | null;
  /** Before each start, untimed (pm2 cold kills its supervisor here). */
  beforeStart?(ctx: RowContext): Promise<void>;
  /** After each run, untimed. */
  afterRun?(ctx: RowContext): Promise<void>;
  /**
   * The resident processes the tool keeps besides the one running main:
   * the library's keeper shells (the other processes of main's session),
   * pm2's God daemon.
   */
  helpers?(ctx: RowContext, mainPid: number): number[];
  /**
   * Restart on crash: after status, main is killed with SIGKILL and the
   * time until its replacement has written the ready file is measured.
   * `restartDelayMs` is the wait the tool is configured to take first.
   */
  crash?: { restartDelayMs: number };
}

/** The pidfile every row uses. */
export function pidFileOf(ctx: RowContext): string {
  return `${ctx.dir}/daemon.pid`;
}

/** True when `path` is an executable file. */
export function executable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}
