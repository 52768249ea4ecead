// One log file for the library and all of the program's loggers; nothing
// lost on exit; SIGHUP reopens; raw output lands in files.

import assert from "node:assert/strict";
import { parsePidFile } from "../lib/pidfile.ts";
import { isAlive, Sandbox, waitFor } from "./_helpers.ts";

Deno.test("ctx.logger, a getLogger() in another module and the library all write to the one log file", async () => {
  await using sb = new Sandbox();
  await sb.start();
  await sb.run(["stop"]);
  const log = sb.readLog();
  assert.match(log, /\[INF\] fx: up\n/);
  assert.match(log, /\[INF\] other·module: another module logs too\n/);
  assert.match(log, /\[INF\] daemonize: started fx/);
  assert.match(log, /\[INF\] daemonize: stopping: SIGTERM/);
});

Deno.test("20 000 lines logged right before stop are all on disk, in order, when stop returns", async () => {
  await using sb = new Sandbox();
  await sb.start({ behavior: "burst" });
  await waitFor("the burst", () => sb.exists("burst-done"));
  const out = await sb.run(["stop"]);
  assert.equal(out.code, 0);
  const lines = sb.readLog().split("\n").filter((l) => l.includes("burst: line "));
  assert.equal(lines.length, 20_000);
  lines.forEach((line, i) => assert.ok(line.endsWith(`burst: line ${i + 1}`), line));
});

for (const end of ["return", "exit"]) {
  const how = end === "exit" ? "Deno.exit(0) in the turn of the last line" : "main returning";
  Deno.test(`lines logged while stop is already waiting are all on disk when stop returns (then ${how})`, async () => {
    await using sb = new Sandbox();
    const o = { behavior: "burst-on-stop", env: { FIXTURE_LINES: "30000", FIXTURE_END: end } };
    await sb.start(o);
    await waitFor(
      "the daemon up",
      () => sb.readLog().includes("will log 30000 lines when stopped"),
    );
    assert.doesNotMatch(sb.readLog(), /burst: line /, "nothing of the burst before stop");
    const out = await sb.run(["stop", "--json"], o);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(JSON.parse(out.stdout).killed, false, "the daemon ended by itself");
    const log = sb.readLog().trimEnd().split("\n");
    const stopping = log.findIndex((l) => l.endsWith("daemonize: stopping: SIGTERM"));
    const burst = log.flatMap((l, at) => l.includes("burst: line ") ? [[l, at] as const] : []);
    assert.ok(stopping >= 0 && burst[0][1] > stopping, "the burst began once stop had signalled");
    assert.equal(burst.length, 30_000);
    burst.forEach(([line], i) => assert.ok(line.endsWith(`burst: line ${i + 1}`), line));
    const last = end === "exit"
      ? /exiting: the program ended the process \(exit code 0\)$/
      : /exiting: stopped by SIGTERM \(exit code 0\)$/;
    assert.equal(burst.at(-1)![1], log.length - 2, "then only the reason");
    assert.match(log.at(-1)!, last);
  });
}

Deno.test("a lone line is in the file before the daemon's event loop turns again (tail -f)", async () => {
  await using sb = new Sandbox();
  const pid = await sb.start({ behavior: "lone-line" });
  await waitFor("the daemon up", () => sb.readLog().includes("log-now logs a lone line"));
  for (const n of [1, 2]) {
    Deno.writeTextFileSync(sb.path("log-now"), "");
    const seen = await waitFor(`lone line ${n}`, () => {
      const json = sb.readLog("lone.json");
      return json.includes(`a lone line ${n}"`) && JSON.parse(json);
    });
    // The daemon read its own log file right after the log call, in the same
    // turn: the sink wrote the line during the call, deferring nothing.
    assert.deepEqual(seen, { line: `a lone line ${n}`, inFile: true });
  }
  assert.ok(isAlive(pid), "still running");
  assert.match(sb.readLog(), /\[INF\] fx: a lone line 2\n$/);
});

Deno.test("SIGHUP reopens the log file: after a rename new lines go to a fresh file and onReload runs", async () => {
  await using sb = new Sandbox();
  const pid = await sb.start();
  Deno.renameSync(sb.logFile, sb.path("app.log.1"));
  Deno.kill(pid, "SIGHUP");
  await waitFor("the new log file", () => sb.readLog().includes("onReload called"));
  assert.match(sb.readLog(), /daemonize: reload: SIGHUP/);
  assert.match(sb.readLog("app.log.1"), /daemonize: started fx/);
  assert.doesNotMatch(sb.readLog("app.log.1"), /reload/);
  await sb.run(["stop"]);
  assert.match(sb.readLog(), /exiting: stopped by SIGTERM/);
});

Deno.test("console.* is captured into the log in daemon mode, with levels", async () => {
  await using sb = new Sandbox();
  await sb.start({ behavior: "console" });
  await sb.run(["stop"]);
  const log = sb.readLog();
  assert.match(log, /\[INF\] fx·console: console\.log \{braces\} kept \{ a: 1 \}\n/);
  assert.match(log, /\[ERR\] fx·console: console\.error line\n/);
});

Deno.test("raw stdout and stderr land in their files and keep working after the launcher exits", async () => {
  await using sb = new Sandbox();
  const options = { stdout: sb.path("out.txt") };
  await sb.start({ behavior: "raw", options });
  await waitFor("raw stderr in the log", () => sb.readLog().includes("raw stderr line"));
  await sb.run(["stop"], { options });
  assert.equal(sb.readLog("out.txt"), "raw stdout line\nraw stdout after stop\n");
  assert.doesNotMatch(sb.readLog(), /BrokenPipe|raw stdout/);
  assert.match(sb.readLog(), /exiting: stopped by SIGTERM \(exit code 0\)/);
});

Deno.test("logLevel: debug adds the library's debug lines; warning drops the program's info lines but not the lifecycle", async () => {
  await using sb = new Sandbox();
  await sb.start({ options: { logLevel: "debug" } });
  await sb.run(["stop"]);
  assert.match(sb.readLog(), /\[DBG\] daemonize: starting fx/);
  Deno.removeSync(sb.logFile);
  const options = { logLevel: "warning" };
  const pid = await sb.start({ options });
  Deno.kill(pid, "SIGHUP");
  await waitFor("the reload line", () => sb.readLog().includes("reload: SIGHUP"));
  await sb.run(["stop"], { options });
  const log = sb.readLog();
  assert.doesNotMatch(log, /fx: up|onReload called|DBG/);
  assert.match(log, /\[INF\] daemonize: started fx \(pid \d+\)\n/);
  assert.match(log, /\[INF\] daemonize: reload: SIGHUP\n/);
  assert.match(log, /\[INF\] daemonize: stopping: SIGTERM\n/);
  assert.match(log, /\[INF\] daemonize: exiting: stopped by SIGTERM \(exit code 0\)\n$/);
});

Deno.test("logLevel: error still writes the lifecycle lines", async () => {
  await using sb = new Sandbox();
  const options = { logLevel: "error" };
  await sb.start({ options, behavior: "returns" });
  await waitFor("the daemon to exit", () => !sb.exists("app.pid"));
  const log = sb.readLog();
  assert.doesNotMatch(log, /did my job/);
  assert.match(log, /\[INF\] daemonize: started fx/);
  assert.match(log, /\[INF\] daemonize: exiting: main returned \(exit code 0\)\n$/);
});

for (const logFormat of ["text", "json"]) {
  Deno.test(`logLevel error, ${logFormat} format: a daemon that ignores SIGTERM and is killed by stop at stopTimeout has a line that says so`, async () => {
    await using sb = new Sandbox();
    const options = { logLevel: "error", logFormat, stopTimeout: 300 };
    const pid = await sb.start({ behavior: "ignore-term", options });
    const t0 = performance.now();
    const out = await sb.run(["stop"], { options });
    const took = performance.now() - t0;
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.trim(), `stopped fx (pid ${pid}, after SIGKILL)`);
    assert.ok(took >= 300, `SIGTERM was ignored until stopTimeout (${took} ms)`);
    assert.equal(isAlive(pid), false);
    const lines = sb.readLog().trimEnd().split("\n");
    const last = lines.at(-1)!;
    const message = `exiting: killed by stop with SIGKILL after stopTimeout (300 ms) (pid ${pid})`;
    if (logFormat === "json") {
      const record = JSON.parse(last);
      assert.deepEqual(Object.keys(record), [
        "@timestamp",
        "level",
        "message",
        "logger",
        "properties",
      ]);
      assert.deepEqual(
        { level: record.level, logger: record.logger, message: record.message },
        { level: "ERROR", logger: "daemonize", message },
      );
    } else {
      assert.match(last, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \+00:00 \[ERR\] daemonize: /);
      assert.ok(last.endsWith(`daemonize: ${message}`), last);
    }
    assert.ok(lines.at(-2)!.includes("stopping: SIGTERM"), "the daemon saw SIGTERM and stayed");
  });
}

Deno.test("a program that configured LogTape itself keeps its configuration", async () => {
  await using sb = new Sandbox();
  await sb.start({ script: "own_logtape.ts" });
  await sb.run(["stop"], { script: "own_logtape.ts" });
  const mine = sb.readLog("mine.log");
  assert.match(mine, /^MINE .*\[INF\] fx: up$/m);
  assert.match(mine, /^MINE .*\[INF\] daemonize: started fx/m);
  assert.doesNotMatch(sb.readLog(), /fx: up/);
});

Deno.test("a main that rejects later is logged at fatal with its stack; exit 1 and pidfile removed", async () => {
  await using sb = new Sandbox();
  await sb.start({ behavior: "reject-later" });
  await waitFor("the daemon to exit", () => !sb.exists("app.pid"));
  const log = sb.readLog();
  assert.match(
    log,
    /\[FTL\] daemonize: exiting: main failed \(exit code 1\): Error: boom-later\n\s+at /,
  );
});

Deno.test("an unhandled rejection is logged at fatal and ends the daemon with exit 1", async () => {
  await using sb = new Sandbox();
  await sb.start({ behavior: "unhandled" });
  await waitFor("the daemon to exit", () => !sb.exists("app.pid"));
  assert.match(
    sb.readLog(),
    /\[FTL\] daemonize: exiting: unhandled promise rejection \(exit code 1\): Error: nobody handles this/,
  );
});

Deno.test("the program's own Deno.exit(3) is logged with its code and removes the pidfile", async () => {
  await using sb = new Sandbox();
  await sb.start({ behavior: "exit-3" });
  await waitFor("the daemon to exit", () => !sb.exists("app.pid"));
  assert.match(sb.readLog(), /exiting: the program ended the process \(exit code 3\)/);
});

Deno.test("main returning ends the daemon: exit 0, pidfile removed, the reason logged", async () => {
  await using sb = new Sandbox();
  await sb.start({ behavior: "returns" });
  await waitFor("the daemon to exit", () => !sb.exists("app.pid"));
  const lines = sb.readLog().trimEnd().split("\n");
  assert.match(lines.at(-1)!, /\[INF\] daemonize: exiting: main returned \(exit code 0\)/);
});

Deno.test("text format: strings unquoted in the program's lines; raw output stays raw", async () => {
  await using sb = new Sandbox();
  await sb.start({ behavior: "mixed" });
  await waitFor("the raw line", () => sb.readLog().includes("raw stdout line"));
  await sb.run(["stop"]);
  const log = sb.readLog();
  assert.match(log, /\[INF\] fx: listening on http:\/\/127\.0\.0\.1:18080\/\n/);
  assert.match(log, /\[WRN\] fx: GET \/item\/1 200\n/);
  assert.match(log, /^raw stdout line$/m);
});

Deno.test("logFormat json: every record one JSON object, the library's lifecycle lines too; raw output stays raw", async () => {
  await using sb = new Sandbox();
  const options = { logFormat: "json" };
  await sb.start({ behavior: "mixed", options });
  await waitFor("the raw line", () => sb.readLog().includes("raw stdout line"));
  await sb.run(["stop"], { options });
  const lines = sb.readLog().trimEnd().split("\n");
  assert.ok(lines.includes("raw stdout line"));
  const records = lines.filter((l) => l !== "raw stdout line").map((l) => JSON.parse(l));
  for (const r of records) {
    assert.deepEqual(Object.keys(r), ["@timestamp", "level", "message", "logger", "properties"]);
    assert.match(r["@timestamp"], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }
  const find = (message: string) => records.find((r) => r.message === message);
  assert.deepEqual(find("listening on http://127.0.0.1:18080/")?.properties, {
    host: "127.0.0.1",
    port: 18080,
  });
  assert.equal(find("GET /item/1 200")?.level, "WARN");
  assert.equal(find("GET /item/1 200")?.logger, "fx");
  assert.equal(records.find((r) => r.message.startsWith("started fx"))?.logger, "daemonize");
  assert.equal(records.at(-1).message, "exiting: stopped by SIGTERM (exit code 0)");
});

const UMASK_CASES = [
  { umask: undefined, restart: "never", expected: 0o644 },
  { umask: 0o027, restart: "never", expected: 0o640 },
  { umask: 0o027, restart: "on-failure", expected: 0o640 },
] as const;
for (const { umask, restart, expected } of UMASK_CASES) {
  Deno.test(
    `every file the library creates is mode ${expected.toString(8)} (umask option ${
      umask?.toString(8) ?? "default"
    }, restart ${restart}) under a launcher umask of 077: log, pidfile, stdout, stderr, after a rotation and reload, and the pidfile restored after it was deleted`,
    async () => {
      await using sb = new Sandbox();
      const options = {
        restart,
        stdout: sb.path("out.txt"),
        stderr: sb.path("err.txt"),
        ...(umask === undefined ? {} : { umask }),
      };
      const files = ["app.log", "app.pid", "out.txt", "err.txt"];
      const modes = (names: string[]) =>
        Object.fromEntries(names.map((name) => [name, Deno.statSync(sb.path(name)).mode! & 0o777]));
      const all = (names: string[]) => Object.fromEntries(names.map((name) => [name, expected]));
      const before = Deno.umask(0o077); // the launcher inherits it
      let out;
      try {
        out = await sb.run(["start"], { options });
      } finally {
        Deno.umask(before);
      }
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(modes(files), all(files), "as first created");
      // With a restart policy the pidfile names the keeper; main runs in `main`.
      const content = parsePidFile(Deno.readTextFileSync(sb.pidFile));
      const pid = content?.main ?? content?.pid;
      assert.ok(pid !== undefined && pid > 1, `a pid in the pidfile: ${JSON.stringify(content)}`);
      for (const name of ["app.log", "out.txt", "err.txt"]) {
        Deno.renameSync(sb.path(name), sb.path(`${name}.1`));
      }
      Deno.kill(pid, "SIGHUP");
      await waitFor("the new log file", () => sb.readLog().includes("onReload called"));
      await waitFor("the reload's answer", () => sb.exists("app.pid.reload"));
      const reopened = ["app.log", "out.txt", "err.txt", "app.pid.reload"];
      assert.deepEqual(modes(reopened), all(reopened), "reopened after the rotation");
      Deno.removeSync(sb.pidFile);
      await waitFor("the daemon to restore its pidfile", () => sb.exists("app.pid"), 3000);
      assert.deepEqual(modes(["app.pid"]), all(["app.pid"]), "the restored pidfile");
      const stop = await sb.run(["stop"], { options });
      assert.equal(stop.code, 0, stop.stderr);
    },
  );
}
