/**
 * The class form, with reload: `kill -HUP <pid>` (or logrotate) reopens the
 * log file and calls `reload`, which here re-reads the greeting.
 *
 * ```sh
 * deno run -A examples/service.ts start
 * kill -HUP "$(cat examples/service.pid)"
 * deno run -A examples/service.ts stop
 * ```
 *
 * @module
 */

import { daemon, type DaemonContext, daemonize } from "@daemonize/daemon";

const here = new URL(".", import.meta.url).pathname;

@daemon({ name: "service", pidFile: `${here}service.pid`, logFile: `${here}service.log` })
class Service {
  greeting = "hello";

  async run(ctx: DaemonContext): Promise<void> {
    ctx.logger.info("service up, greeting {greeting}", { greeting: this.greeting });
    while (!ctx.signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          ctx.signal.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, 5000);
        ctx.signal.addEventListener("abort", done);
      });
    }
  }

  reload(ctx: DaemonContext): void {
    this.greeting = Deno.env.get("GREETING") ?? "hello again";
    ctx.logger.info("reloaded, greeting now {greeting}", { greeting: this.greeting });
  }
}

if (import.meta.main) await daemonize(Service);
