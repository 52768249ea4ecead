// The daemon's watch over its pidfile, every 500 ms once it is ready: the
// path must keep naming the locked file, and someone may delete or replace
// it (tmp cleaners, config management); what happened is logged, and a
// daemon whose path another daemon holds now leaves. A SIGUSR1 kept pending
// by the keeper's block is noticed here too.

import { usr1Pending } from "./_inspector.ts";
import type { Life } from "./_life.ts";

/** How often the pidfile's path is checked (the repair window is about this). */
const WATCH_MS = 500;

/** Watches `life`'s pidfile path until the daemon exits. */
export function watch(life: Life): void {
  let busy = false;
  const timer = setInterval(() => {
    if (life.phase === "exiting") return clearInterval(timer);
    if (!life.usr1Logged && life.daemon && usr1Pending()) {
      life.usr1Logged = true;
      life.say("warn", "SIGUSR1 received and ignored: it is blocked in this daemon");
    }
    const seen = life.lock?.check();
    if (seen?.kind !== "busy") busy = false;
    if (seen === undefined || seen.kind === "ok") return;
    if (seen.kind === "busy") {
      if (!busy) {
        life.say(
          "warn",
          `pidFile "${life.options.pidFile}" was replaced, and another program holds a lock on the new file; restoring it once that lock goes`,
        );
      }
      busy = true;
    } else if (seen.kind === "restored" && seen.was === "keeper") {
      life.say(
        "error",
        `its keeper (pid ${seen.keeper}) is gone, so main is no longer restarted after a crash; this process holds pidFile "${life.options.pidFile}" itself now`,
      );
    } else if (seen.kind === "restored") {
      life.say(
        "warn",
        `pidFile "${life.options.pidFile}" was ${
          seen.was === "missing"
            ? "removed"
            : seen.was === "foreign"
            ? "replaced by a file of another user (removed)"
            : "replaced"
        }; restored it`,
      );
    } else if (seen.kind === "taken") {
      clearInterval(timer);
      life.exit(
        0,
        `pidFile "${life.options.pidFile}" now belongs to another daemon (pid ${
          seen.by ?? "unknown"
        }); leaving it the only one`,
      );
    } else {
      life.say("error", `pidFile "${life.options.pidFile}" cannot be restored: ${seen.message}`);
    }
  }, WATCH_MS);
  Deno.unrefTimer(timer);
}
