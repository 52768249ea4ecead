// A real app as most are written: the web framework (npm:hono) imported at
// the top of the daemon script, so every command (start, status, stop)
// loads it. Ready once it listens; the ready file is written then.

import { daemonize } from "@daemonize/daemon";
import { getLogger } from "@logtape/logtape";
import { Hono } from "hono";

const dir = Deno.env.get("BENCH_DIR") ?? Deno.cwd();

const app = new Hono();
app.get("/", (c) => c.text("hello"));

await daemonize(async ({ signal, logger }) => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal, onListen: () => {} },
    app.fetch,
  );
  logger.info("listening on {port}", { port: server.addr.port });
  getLogger(["bench-hono", "http"]).info("routes ready");
  Deno.writeTextFileSync(
    `${dir}/ready`,
    `${Deno.pid}\n${performance.timeOrigin} ${performance.now()}\n`,
  );
  await server.finished;
}, {
  name: "bench-hono",
  pidFile: `${dir}/daemon.pid`,
  logFile: `${dir}/daemon.log`,
});
