// The plain Deno workload that the peer tools (start-stop-daemon, daemonize,
// pm2) run as their daemon: it writes its pid (and its timing line: see
// _measure.ts) to the ready file, then idles. It installs no signal
// listener, so SIGTERM (or pm2's SIGINT) ends it at once.

const dir = Deno.env.get("BENCH_DIR") ?? Deno.cwd();
Deno.writeTextFileSync(
  `${dir}/ready`,
  `${Deno.pid}\n${performance.timeOrigin} ${performance.now()}\n`,
);
setInterval(() => {}, 1e9);
