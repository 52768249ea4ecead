// A program that handles unhandledrejection and error itself (its listener
// calls preventDefault) keeps running, whether the listener was added
// before daemonize() or inside main; one that does not is ended (exit 1).

import assert from "node:assert/strict";
import { isAlive, Sandbox, waitFor } from "./_helpers.ts";

for (const where of ["before", "inside"]) {
  Deno.test(`a listener added ${where === "before" ? "before daemonize()" : "inside main"} that calls preventDefault: the daemon keeps running`, async () => {
    await using sb = new Sandbox();
    const o = { behavior: "handled-errors", env: { FIXTURE_HANDLE: where } };
    const pid = await sb.start(o);
    await waitFor("main to go on after both", () => sb.readLog().includes("survived both"));
    assert.equal(
      Deno.readTextFileSync(sb.path("handled")),
      `${where} unhandledrejection\n${where} error\n`,
      "the program's listener saw both",
    );
    assert.ok(isAlive(pid));
    assert.equal((await sb.run(["status"], o)).code, 0, "still running");
    assert.doesNotMatch(sb.readLog(), /exiting|unhandled promise rejection|uncaught exception/);
    assert.equal((await sb.run(["stop"], o)).code, 0);
    assert.match(sb.readLog(), /exiting: stopped by SIGTERM \(exit code 0\)/);
  });
}

Deno.test("without the program's own listener, an unhandled rejection ends the daemon with exit 1", async () => {
  await using sb = new Sandbox();
  const pid = await sb.start({ behavior: "handled-errors" });
  await waitFor("the daemon to end", () => !isAlive(pid));
  assert.match(sb.readLog(), /exiting: unhandled promise rejection.*\(exit code 1\)/);
  assert.doesNotMatch(sb.readLog(), /survived both/);
});
