// The same app in the module form: this script imports only the library;
// server.ts (hono and all) is imported by the daemon alone, so start,
// status and stop never load it.

import { daemonize } from "@daemonize/daemon";

const dir = Deno.env.get("BENCH_DIR") ?? Deno.cwd();

await daemonize(new URL("./server.ts", import.meta.url), {
  name: "bench-hono",
  pidFile: `${dir}/daemon.pid`,
  logFile: `${dir}/daemon.log`,
});
