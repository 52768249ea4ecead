// Narrow Deno permissions: start works when the scoped grants are repeated
// in denoArgs, and fails at once with PERMISSION naming the flag otherwise,
// never leaving a half-started daemon.

import assert from "node:assert/strict";
import { processesWith, Sandbox } from "../_helpers.ts";
import { figure } from "./_seed.ts";

function narrow(sb: Sandbox, run = `--allow-run=/bin/sh,${Deno.execPath()}`): string[] {
  return ["--allow-env", `--allow-read=${sb.dir}`, `--allow-write=${sb.dir}`, run];
}

Deno.test("scoped --allow-read/--allow-write/--allow-run work when repeated in denoArgs", async () => {
  await using sb = new Sandbox();
  const o = {
    denoFlags: narrow(sb),
    options: { denoArgs: [`--allow-read=${sb.dir}`, `--allow-write=${sb.dir}`] },
  };
  const start = await sb.run(["start"], o);
  assert.equal(start.code, 0, start.stderr);
  const status = await sb.run(["status"], o);
  assert.equal(status.code, 0, status.stderr);
  const stop = await sb.run(["stop"], o);
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(sb.readLog(), /exiting: stopped by SIGTERM/);
  figure("permissions.scoped_with_denoArgs", "start/status/stop exit 0");
});

Deno.test("scoped grants not repeated in denoArgs: PERMISSION at once, naming the file and the flags", async () => {
  await using sb = new Sandbox();
  const out = await sb.run(["start"], { denoFlags: narrow(sb), options: { logFile: null } });
  assert.equal(out.code, 1);
  assert.match(
    out.stderr,
    /Deno denied access to pidFile ".*app\.pid": grant it with --allow-read and --allow-write/,
  );
  assert.match(out.stderr, /"denoArgs" option/);
  assert.deepEqual(processesWith(sb.marker), []);
  assert.equal(sb.exists("app.pid"), false);
});

Deno.test("no run permission for /bin/sh and the real Deno binary: PERMISSION naming --allow-run", async () => {
  await using sb = new Sandbox();
  for (const run of ["--allow-run=deno", `--allow-run=${Deno.execPath()}`]) {
    const out = await sb.run(["start"], { denoFlags: narrow(sb, run) });
    assert.equal(out.code, 1, run);
    assert.match(out.stderr, new RegExp(`add --allow-run=/bin/sh,${Deno.execPath()}`));
    assert.doesNotMatch(out.stderr, /^\s+at /m);
  }
  assert.deepEqual(processesWith(sb.marker), []);
});
