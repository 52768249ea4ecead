// Logging that coexists with the program's own: a LogTape configuration it
// made itself (with a console sink, with another copy of LogTape), its
// console output when the library does not capture it, and sinks it adds
// beside the library's file.

import assert from "node:assert/strict";
import { Sandbox, waitFor } from "./_helpers.ts";

for (const category of ["my-app", "root"]) {
  Deno.test(`a program that configured LogTape with a console sink (${category} category) keeps every line in daemon mode`, async () => {
    await using sb = new Sandbox();
    const o = { script: "logtape_console.ts", env: { FIXTURE_CATEGORY: category } };
    const pid = await sb.start(o);
    await waitFor("the program's lines", () => sb.readLog().includes("plain console line"));
    const t0 = performance.now();
    const out = await sb.run(["stop"], o);
    assert.equal(out.code, 0, out.stderr);
    assert.ok(performance.now() - t0 < 1500, "stopped without SIGKILL");
    const log = sb.readLog();
    // The console sink wrote to raw stdout and stderr: the log file by default.
    assert.match(log, /INF my-app:? app line 1\n/);
    assert.match(log, /^plain console line$/m);
    assert.match(log, /ERR my-app:? app error line\n/);
    assert.match(log, /INF my-app:? app stopping\n/);
    // Each once: nothing looped back through LogTape.
    assert.equal(log.split("plain console line").length, 2, log);
    assert.doesNotMatch(log, /fx·console|Failed to emit/);
    assert.ok(!sb.exists("app.pid"), `daemon ${pid} removed its pidfile`);
  });
}

Deno.test("a program that configured another copy of LogTape (2.4.1 beside the library's 2.4.2) keeps its configuration", async () => {
  await using sb = new Sandbox();
  const o = { script: "other_logtape/main.ts" };
  await sb.start(o);
  assert.deepEqual(JSON.parse(sb.readLog("copies.json")), { same: false }, "two copies of LogTape");
  await waitFor("the console line", () => sb.readLog().includes("console line from the program"));
  await sb.run(["stop"], o);
  const mine = sb.readLog("mine.log");
  assert.match(mine, /^MINE .*\[INF\] fx: up$/m);
  assert.match(mine, /^MINE .*\[INF\] daemonize: started fx/m);
  assert.match(mine, /^MINE .*\[INF\] daemonize: exiting: stopped by SIGTERM/m);
  const log = sb.readLog();
  assert.doesNotMatch(log, /fx: up|daemonize:/);
  // Not captured: the library's configuration is not in force.
  assert.match(log, /^console line from the program$/m);
});

Deno.test("configureLogging: false leaves console.log on raw stdout (the log file by default)", async () => {
  await using sb = new Sandbox();
  const options = { configureLogging: false };
  await sb.start({ behavior: "console", options });
  await waitFor("console output", () => sb.readLog().includes("console.error line"));
  await sb.run(["stop"], { options });
  const log = sb.readLog();
  assert.match(log, /^console\.log \{braces\} kept \{ a: 1 \}$/m);
  assert.match(log, /^console\.error line$/m);
  assert.match(log, /^console\.log after stop$/m);
});

Deno.test("a stdout file without logFile keeps console.log output", async () => {
  await using sb = new Sandbox();
  const options = { logFile: null, stdout: sb.path("out.txt"), stderr: sb.path("err.txt") };
  await sb.start({ behavior: "console", options });
  await waitFor("console.log output", () => sb.readLog("out.txt").includes("console.log"));
  await sb.run(["stop"], { options });
  assert.equal(
    sb.readLog("out.txt"),
    "console.log {braces} kept { a: 1 }\nconsole.log after stop\n",
  );
  assert.equal(sb.readLog("err.txt"), "console.error line\n");
});

Deno.test("logSinks: a second file (@logtape/file) beside the log file; the log file still reopens on SIGHUP and both are flushed on exit", async () => {
  await using sb = new Sandbox();
  const o = {
    script: "extra_sink/app.ts",
    behavior: "buffered",
    env: { FIXTURE_SECOND_FILE: sb.path("second.log") },
  };
  const pid = await sb.start(o);
  await waitFor("the first lines", () => sb.readLog().includes("another module logs too"));
  assert.doesNotMatch(sb.readLog("second.log"), /another module/, "the second sink buffers");
  Deno.renameSync(sb.logFile, sb.path("app.log.1"));
  Deno.kill(pid, "SIGHUP");
  await waitFor("the reopened log", () => sb.readLog().includes("onReload called"));
  await sb.run(["stop"], o);
  const rotated = sb.readLog("app.log.1");
  assert.match(rotated, /\[INF\] fx: up\n/);
  assert.match(rotated, /\[INF\] other·module: another module logs too\n/);
  assert.doesNotMatch(rotated, /onReload/);
  const log = sb.readLog();
  assert.match(log, /\[INF\] fx: onReload called\n/);
  assert.match(log, /\[INF\] fx: down\n/);
  assert.match(log, /daemonize: exiting: stopped by SIGTERM \(exit code 0\)\n$/);
  // The second file got every record, the last one included.
  const second = sb.readLog("second.log");
  for (
    const line of [
      "fx: up",
      "other·module: another module logs too",
      "daemonize: started fx",
      "daemonize: reload: SIGHUP",
      "fx: onReload called",
      "fx: down",
    ]
  ) assert.ok(second.includes(line), `${line} in second.log:\n${second}`);
  assert.match(second, /daemonize: exiting: stopped by SIGTERM \(exit code 0\)\n$/);
});
