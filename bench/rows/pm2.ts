// pm2, installed into bench/.peers by setup.sh (never globally), with its
// own PM2_HOME under the bench's scratch root. The app is the plain Deno
// workload. Cold: the supervisor (God daemon) is killed before each start,
// so start includes launching it. Warm: it is already running. Restart: warm,
// with pm2's autorestart on, and the app killed with SIGKILL once ready.

import { isGone } from "../_proc.ts";
import { runQuietly } from "../_measure.ts";
import { executable, type Row, type RowContext } from "./_row.ts";

const APP = "bench-pm2";

function pm2Bin(ctx: RowContext): string {
  return `${ctx.bench}/.peers/node_modules/.bin/pm2`;
}

function home(ctx: RowContext): string {
  return `${ctx.tmp}/pm2`;
}

function pm2(ctx: RowContext, ...args: string[]) {
  return { cmd: pm2Bin(ctx), args, env: { ...ctx.env, PM2_HOME: home(ctx) }, cwd: ctx.dir };
}

/** The God daemon's pid, while it runs. */
export function supervisorPid(ctx: RowContext): number | null {
  try {
    const pid = Number(Deno.readTextFileSync(`${home(ctx)}/pm2.pid`).trim());
    return pid > 0 && !isGone(pid) ? pid : null;
  } catch {
    return null;
  }
}

/** Kills the God daemon by pid and waits until it is gone. */
export async function killSupervisor(ctx: RowContext): Promise<void> {
  const pid = supervisorPid(ctx);
  if (pid === null) return;
  Deno.kill(pid, "SIGTERM");
  const deadline = performance.now() + 3000;
  while (!isGone(pid)) {
    if (performance.now() > deadline) {
      Deno.kill(pid, "SIGKILL");
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function unavailable(ctx: RowContext): Promise<string | null> {
  if (!executable(pm2Bin(ctx))) return "pm2 not installed in bench/.peers (run bench/setup.sh)";
  const code = await runQuietly({ cmd: "node", args: ["--version"] }).catch(() => -1);
  return code === 0 ? null : "node not found";
}

function row(id: string, label: string, cold: boolean, restart = false): Row {
  const flags = restart ? [] : ["--no-autorestart"];
  return {
    id,
    label,
    notes:
      `\`pm2 start <deno> --interpreter none ${
        flags.map((f) => `${f} `).join("")
      }-- run -A workloads/plain.ts\`` +
      (cold
        ? ", its God daemon killed (by pid) before each start, so start launches it. "
        : ", its God daemon already running. ") +
      "pm2 start returns once it has spawned the app, before the app is ready. Stop: " +
      "`pm2 delete` (SIGINT, which ends the workload at once). Status: `pm2 pid`. " +
      "The God daemon is the helper." +
      (restart
        ? " Crash: `kill -9` of the app, until pm2's replacement has written the ready file " +
          "(autorestart on, restart_delay 0, pm2's default)."
        : ""),
    kind: "daemon",
    unavailable,
    crash: restart ? { restartDelayMs: 0 } : undefined,
    start: (ctx) =>
      pm2(
        ctx,
        "start",
        ctx.deno,
        "--name",
        APP,
        "--interpreter",
        "none",
        ...flags,
        "--",
        "run",
        "-A",
        `${ctx.bench}/workloads/plain.ts`,
      ),
    stop: (ctx) => pm2(ctx, "delete", APP),
    status: (ctx) => pm2(ctx, "pid", APP),
    removesPidFile: () => null,
    async beforeStart(ctx) {
      if (cold) await killSupervisor(ctx);
      else if (supervisorPid(ctx) === null) await runQuietly(pm2(ctx, "ping"));
    },
    // The warm rows run last in each round; no idle supervisor lingers into other rows.
    afterRun: cold ? undefined : killSupervisor,
    helpers(ctx) {
      const pid = supervisorPid(ctx);
      return pid === null ? [] : [pid];
    },
  };
}

export const pm2Cold = row("pm2-cold", "pm2, cold (supervisor killed before each start)", true);
export const pm2Warm = row("pm2-warm", "pm2, warm (supervisor running)", false);
export const pm2Restart = row(
  "pm2-restart",
  "pm2, warm, autorestart on",
  false,
  true,
);
