// The library row: the function form, as a user writes it. The ready file is
// written inside main, so it exists before the library reports ready.

import { daemonize } from "@daemonize/daemon";

const dir = Deno.env.get("BENCH_DIR") ?? Deno.cwd();

await daemonize(({ signal }) => {
  Deno.writeTextFileSync(`${dir}/ready`, `${Deno.pid}\n`);
  return new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
}, { name: "bench-lib", pidFile: `${dir}/daemon.pid`, logFile: `${dir}/daemon.log` });
