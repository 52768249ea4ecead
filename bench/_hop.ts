// The keeper hop on its own: how long after spawn the program starts when
// `start` runs it through the library's keeper (lib/launcher/_keeper.ts,
// the /bin/sh program with its copier and the `env` that blocks SIGUSR1),
// against running it directly. The program is `date +%s%N`: its own clock
// says when it ran; both variants pay its start-up alike.

import { keeperCommand } from "../lib/launcher/_command.ts";
import { resolveOptions } from "../lib/options.ts";

/** One round's figures: ms from spawn to the program's clock, each variant's median of `n`. */
export interface HopSample {
  direct: number;
  keeper: number;
}

const DATE = "/usr/bin/date";

/** Why this machine cannot run the measurement (a `date` without `%N`), or null. */
export async function hopUnavailable(): Promise<string | null> {
  try {
    await once(DATE, ["+%s%N"], {});
    return null;
  } catch (err) {
    return `${DATE} +%s%N gives no nanoseconds here (${err instanceof Error ? err.message : err})`;
  }
}

async function once(cmd: string, args: string[], env: Record<string, string>): Promise<number> {
  const command = new Deno.Command(cmd, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
    detached: true,
  });
  const t0 = performance.timeOrigin + performance.now();
  const out = await command.output();
  const ns = /(\d{19})/.exec(new TextDecoder().decode(out.stdout))?.[1];
  if (ns === undefined) throw new Error(`${cmd} ${args.join(" ")}: no time in its output`);
  return Number(BigInt(ns) / 1000n) / 1000 - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Measures each variant `n` times, interleaved; returns their medians. */
export async function hopOnce(dir: string, n = 5): Promise<HopSample> {
  // The keeper as `start` runs it for a daemon whose output goes to its log
  // file; with no raw file held open, the program's lines come back on the
  // keeper's pipe ("raw <line>").
  const options = resolveOptions(
    { name: "hop", pidFile: `${dir}/hop.pid`, logFile: `${dir}/hop.log` },
    { cwd: dir, mainModule: `file://${dir}/hop.ts`, args: [] },
  );
  const plan = { nonce: "hop", keeperLock: null, stderrId: null, stdoutId: null };
  const { args, env } = keeperCommand(options, plan, [DATE, "+%s%N"]);
  const runs: Record<keyof HopSample, number[]> = { direct: [], keeper: [] };
  for (let i = 0; i < n; i++) {
    runs.direct.push(await once(DATE, ["+%s%N"], {}));
    runs.keeper.push(await once("/bin/sh", args, env));
  }
  return { direct: median(runs.direct), keeper: median(runs.keeper) };
}
