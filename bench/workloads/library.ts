// The library row: the function form, as a user writes it. The ready file is
// written inside main, so it exists before the library reports ready (with
// main's own timing line: see _measure.ts). BENCH_RESTART sets the restart
// policy (the keeper row: "on-failure").

import { daemonize, type RestartPolicy } from "@daemonize/daemon";

const dir = Deno.env.get("BENCH_DIR") ?? Deno.cwd();
const restart = (Deno.env.get("BENCH_RESTART") ?? "never") as RestartPolicy;

await daemonize(({ signal }) => {
  Deno.writeTextFileSync(
    `${dir}/ready`,
    `${Deno.pid}\n${performance.timeOrigin} ${performance.now()}\n`,
  );
  return new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
}, { name: "bench-lib", pidFile: `${dir}/daemon.pid`, logFile: `${dir}/daemon.log`, restart });
