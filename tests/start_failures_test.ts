// A daemon that fails before it is ready makes start fail: exit 1, the error
// and the tail of its output, and nothing left running or locked.

import assert from "node:assert/strict";
import { processesWith, Sandbox, waitFor } from "./_helpers.ts";

async function assertNothingLeft(sb: Sandbox): Promise<void> {
  assert.deepEqual(processesWith(sb.marker), [], "no daemon left running");
  assert.equal(sb.exists("app.pid"), false, "no pidfile left");
  const next = await sb.run(["status"]);
  assert.equal(next.code, 3);
}

Deno.test("start fails with exit 1 and the error when main throws synchronously", async () => {
  await using sb = new Sandbox();
  const out = await sb.run(["start"], { behavior: "throw-sync" });
  assert.equal(out.code, 1);
  assert.match(out.stderr, /fx: fx failed to start: main threw: Error: boom-sync/);
  assert.match(out.stderr, /last lines of .*app\.log/);
  assert.doesNotMatch(out.stdout, /started/);
  await assertNothingLeft(sb);
});

Deno.test("start fails when main rejects within its first turn", async () => {
  await using sb = new Sandbox();
  const out = await sb.run(["start"], { behavior: "reject-early" });
  assert.equal(out.code, 1);
  assert.match(out.stderr, /main failed: Error: boom-early/);
  await assertNothingLeft(sb);
});

Deno.test("start fails and shows the daemon's own output when its module throws at load", async () => {
  await using sb = new Sandbox();
  const out = await sb.run(["start"], { env: { FIXTURE_CHILD_THROWS: "1" } });
  assert.equal(out.code, 1);
  assert.match(out.stderr, /exited \(code 1\) before it was ready/);
  assert.match(out.stderr, /module-level failure in the daemon/);
  await assertNothingLeft(sb);
});

Deno.test("start fails when the daemon exits before ready, naming its exit code", async () => {
  await using sb = new Sandbox();
  const out = await sb.run(["start"], { behavior: "exit-early" });
  assert.equal(out.code, 1);
  assert.match(out.stderr, /failed to start: the program ended the process \(exit code 5\)/);
  await assertNothingLeft(sb);
});

Deno.test('readiness "notify": start returns only after ctx.ready()', async () => {
  await using sb = new Sandbox();
  await sb.start({ behavior: "notify", options: { readiness: "notify" } });
  // main logs "listening" 150 ms in, in the turn that calls ctx.ready(); the
  // daemon logs "started" before it tells the launcher.
  const log = sb.readLog();
  assert.match(log, /fx: listening\n/, "start returned only after ctx.ready()");
  assert.match(log, /daemonize: started fx/, "the log says started once start has returned");
  assert.ok(
    log.indexOf("fx: listening") < log.indexOf("daemonize: started fx"),
    "started is logged after main's ready",
  );
});

Deno.test("a daemon that never reports ready: READY_TIMEOUT, exit 1, and it is stopped", async () => {
  await using sb = new Sandbox();
  const options = { readiness: "notify", readyTimeout: 400 };
  const t0 = performance.now();
  const out = await sb.run(["start"], { behavior: "never-ready", options });
  assert.ok(performance.now() - t0 >= 400);
  assert.equal(out.code, 1);
  assert.match(out.stderr, /did not report ready within 400 ms .*ctx\.ready\(\)/);
  await assertNothingLeft(sb);
  assert.match(
    sb.readLog().trimEnd().split("\n").at(-1)!,
    /exiting: stopped by SIGTERM before it was ready/,
  );
});

/** Resolves with the pid a starting daemon wrote into its pidfile. */
async function startingPid(sb: Sandbox): Promise<number> {
  return await waitFor("the daemon to have written its pid", () => {
    try {
      const pid = Number(Deno.readTextFileSync(sb.pidFile));
      return pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  });
}

Deno.test("a stop during the start: start exits 1 saying it was stopped before it was ready; stop exits 0", async () => {
  await using sb = new Sandbox();
  const o = { behavior: "never-ready", options: { readiness: "notify" } };
  const start = sb.command(["start"], o).spawn();
  sb.extraPids.push(start.pid);
  const pid = await startingPid(sb);
  assert.equal(Deno.readTextFileSync(sb.pidFile), `${pid}`, "still starting: no newline yet");
  const stop = await sb.run(["stop"], o);
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stdout, new RegExp(`stopped fx \\(pid ${pid}\\)`));
  const out = await start.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1);
  assert.match(
    stderr,
    /fx failed to start: stopped by SIGTERM before it was ready \(exit code 0\)/,
  );
  await assertNothingLeft(sb);
});

Deno.test("two SIGTERMs during the start: start says it was stopped before it was ready, then why it ended at once", async () => {
  await using sb = new Sandbox();
  const o = {
    behavior: "slow-stop",
    env: { FIXTURE_STOP_MS: "5000" },
    options: { readiness: "notify" },
  };
  const start = sb.command(["start"], o).spawn();
  sb.extraPids.push(start.pid);
  const pid = await startingPid(sb);
  Deno.kill(pid, "SIGTERM");
  await waitFor("the daemon to be stopping", () => sb.readLog().includes("stopping slowly"));
  Deno.kill(pid, "SIGTERM");
  const out = await start.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1);
  assert.match(
    stderr,
    /fx failed to start: stopped by SIGTERM before it was ready; second SIGTERM; not waiting for main to return \(exit code 143\)/,
  );
  await assertNothingLeft(sb);
});
