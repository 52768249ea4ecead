// `run`: the same main in the foreground, for terminals, systemd and containers.

import assert from "node:assert/strict";
import { isAlive, Sandbox, waitFor } from "./_helpers.ts";

Deno.test("run: exit 0 when main returns; lines go to the log file and to the terminal", async () => {
  await using sb = new Sandbox();
  const out = await sb.run(["run"], { behavior: "returns" });
  assert.equal(out.code, 0, out.stderr);
  assert.match(sb.readLog(), /\[INF\] fx: did my job/);
  assert.match(out.stdout + out.stderr, /did my job/);
  assert.match(sb.readLog(), /exiting: main returned \(exit code 0\)/);
  assert.equal(sb.exists("app.pid"), false, "the pidfile is removed on the way out");
});

Deno.test("run: exit 1 when main throws, with the error logged at fatal", async () => {
  await using sb = new Sandbox();
  const out = await sb.run(["run"], { behavior: "throw-sync" });
  assert.equal(out.code, 1);
  assert.match(
    sb.readLog(),
    /\[FTL\] daemonize: exiting: main threw \(exit code 1\): Error: boom-sync/,
  );
});

Deno.test("run: SIGINT and SIGTERM abort ctx.signal; main returns and the exit code is 0", async () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    await using sb = new Sandbox();
    const child = await sb.foreground();
    child.kill(signal);
    const out = await child.output();
    assert.equal(out.code, 0);
    assert.match(sb.readLog(), new RegExp(`exiting: stopped by ${signal} \\(exit code 0\\)`));
  }
});

Deno.test("run: a second SIGINT ends a main that ignores the first (exit 130)", async () => {
  await using sb = new Sandbox();
  const child = await sb.foreground({ behavior: "ignore-term" });
  child.kill("SIGINT");
  await waitFor("the first stop to be logged", () => sb.readLog().includes("stopping: SIGINT"));
  child.kill("SIGINT");
  const out = await child.output();
  assert.equal(out.code, 130);
  assert.match(sb.readLog(), /second SIGINT/);
});

Deno.test("run holds the pidfile lock: status sees it and start does not start a second one", async () => {
  await using sb = new Sandbox();
  const child = await sb.foreground();
  const status = await sb.run(["status"]);
  assert.equal(status.code, 0);
  assert.match(status.stdout, new RegExp(`running \\(pid ${child.pid}`));
  const start = await sb.run(["start"]);
  assert.equal(start.stdout.trim(), `already running (pid ${child.pid})`);
  const stop = await sb.run(["stop"]);
  assert.equal(stop.code, 0);
  assert.equal((await child.output()).code, 0);
  assert.equal(isAlive(child.pid), false);
});

Deno.test("run a second time while one runs: ALREADY_RUNNING, exit 1", async () => {
  await using sb = new Sandbox();
  const child = await sb.foreground();
  const again = await sb.run(["run"]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, new RegExp(`already running \\(pid ${child.pid}`));
  child.kill("SIGTERM");
  await child.output();
});
