// Stubborn and broken daemons: stop returns within stopTimeout + 1 s, the
// exit is logged with its reason, the pidfile is gone, status is right.

import assert from "node:assert/strict";
import { isAlive, Sandbox, waitFor } from "../_helpers.ts";
import { figure } from "./_seed.ts";

const STOP_TIMEOUT = 500;
const cases: [string, RegExp][] = [
  ["ignore-term", /stopping: SIGTERM/],
  ["busy", /up; about to block the event loop/],
  ["reject-later", /exiting: (main failed \(exit code 1\): Error: boom-later|stopped by SIGTERM)/],
  ["exit-3", /exiting: (the program ended the process \(exit code 3\)|stopped by SIGTERM)/],
  ["unhandled", /exiting: (unhandled promise rejection \(exit code 1\)|stopped by SIGTERM)/],
  ["slow-stop", /exiting: stopped by SIGTERM \(exit code 0\)/],
];

for (const [behavior, logged] of cases) {
  Deno.test(`a "${behavior}" daemon: stop returns within stopTimeout + 1 s and leaves nothing`, async () => {
    await using sb = new Sandbox();
    const o = { behavior, options: { stopTimeout: STOP_TIMEOUT } };
    const pid = await sb.start(o);
    // Let the self-ending ones get to their failure while being stopped, or not.
    await new Promise((r) => setTimeout(r, 250));
    const t0 = performance.now();
    const stop = await sb.run(["stop"], o);
    const took = performance.now() - t0;
    assert.equal(stop.code, 0, stop.stderr);
    assert.ok(took < STOP_TIMEOUT + 1000, `stop took ${took} ms`);
    assert.equal(isAlive(pid), false);
    assert.equal(sb.exists("app.pid"), false);
    assert.equal((await sb.run(["status"], o)).code, 3);
    await waitFor("the reason in the log", () => logged.test(sb.readLog()));
    figure(`stubborn.${behavior}.stop_ms`, Math.round(took));
  });
}
