// A daemon held with SIGSTOP (a debugger, a ^Z sent to its group, a
// freezer that thawed) and then stopped: stop sends SIGCONT after SIGTERM,
// as systemd does, so it ends gracefully instead of by SIGKILL at
// stopTimeout. Failed on the code before.

import assert from "node:assert/strict";
import { parsePidFile } from "../../lib/pidfile.ts";
import { processesWith, Sandbox, statOf, waitFor } from "../_helpers.ts";

for (const restart of ["never", "on-failure"]) {
  Deno.test(`stop of a daemon held with SIGSTOP ends it gracefully (restart: ${restart})`, async () => {
    await using sb = new Sandbox();
    const o = { options: { restart, stopTimeout: 3000 } };
    const pid = await sb.start(o);
    const main = await waitFor("main's pid", () => {
      const content = parsePidFile(Deno.readTextFileSync(sb.pidFile));
      return restart === "never" ? content?.pid : content?.main;
    });
    await waitFor("main up", () => sb.readLog().includes("fx: up"));
    // Its whole group, as a terminal's ^Z does: the keeper too.
    Deno.kill(-statOf(main)[2], "SIGSTOP");
    await waitFor("main held", () => statOf(main)[0] === "T");
    const stop = await sb.run(["stop", "--json"], o);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(JSON.parse(stop.stdout).killed, false, "stop had to SIGKILL it");
    assert.equal(JSON.parse(stop.stdout).pid, pid);
    assert.match(sb.readLog(), /fx: down/, "main saw its stop");
    assert.deepEqual(processesWith(sb.marker, true), []);
  });
}
