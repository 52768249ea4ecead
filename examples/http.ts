/**
 * An HTTP server as a daemon. With `readiness: "notify"`, `start` returns
 * only once the server listens: `ctx.ready()` is called from `onListen`.
 *
 * ```sh
 * deno run -A examples/http.ts start    # PORT=8080 by default
 * curl http://127.0.0.1:8080/
 * deno run -A examples/http.ts stop
 * ```
 *
 * @module
 */

import { daemonize } from "@daemonize/daemon";
import { getLogger } from "@logtape/logtape";

const here = new URL(".", import.meta.url).pathname;
const port = Number(Deno.env.get("PORT") ?? "8080");

await daemonize(async (ctx) => {
  const access = getLogger(["http", "access"]);
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port,
    signal: ctx.signal,
    onListen: ({ port }) => {
      ctx.logger.info("listening on http://127.0.0.1:{port}/", { port });
      ctx.ready();
    },
  }, (request) => {
    access.info("{method} {url}", { method: request.method, url: request.url });
    return new Response(`hello from ${ctx.name} (pid ${ctx.pid})\n`);
  });
  await server.finished;
}, {
  name: "http",
  pidFile: `${here}http.pid`,
  logFile: `${here}http.log`,
  readiness: "notify",
});
