// The test helpers themselves: a deadline that cannot fire turns a failing
// test into a hanging one.

import assert from "node:assert/strict";
import { waitFor } from "./_helpers.ts";

Deno.test("waitFor fails at its deadline while its check waits on a silent pipe", async () => {
  const child = new Deno.Command("sleep", { args: ["30"], stdout: "piped" }).spawn();
  const reader = child.stdout.getReader();
  try {
    const t0 = performance.now();
    await assert.rejects(
      waitFor("a line from a silent process", async () => !(await reader.read()).done, 200),
      /timed out after 200 ms waiting for a line from a silent process/,
    );
    // Bounded by the test's own deadline, not by the 30 s the pipe stays silent.
    assert.ok(performance.now() - t0 < 5000);
  } finally {
    child.kill("SIGKILL");
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel();
  }
});

Deno.test("waitFor returns the check's first truthy value and fails on a falsy one at the deadline", async () => {
  let calls = 0;
  assert.equal(await waitFor("the third call", () => ++calls >= 3 && calls), 3);
  await assert.rejects(
    waitFor("never", () => false, 50),
    /timed out after 50 ms waiting for never/,
  );
});
