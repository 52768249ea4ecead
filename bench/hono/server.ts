// The app of top.ts as a main module (see app.ts): its heavy imports load
// in the daemon only.

import type { DaemonContext } from "@daemonize/daemon";
import { getLogger } from "@logtape/logtape";
import { Hono } from "hono";

const dir = Deno.env.get("BENCH_DIR") ?? Deno.cwd();

const app = new Hono();
app.get("/", (c) => c.text("hello"));

export default async function main(
  { signal, logger }: DaemonContext,
): Promise<void> {
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
}
